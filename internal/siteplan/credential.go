package siteplan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Credential says where a device's password comes from; it never holds
// the password. At most one field is set; none means the caller's shared
// password (standard input).
type Credential struct {
	File    string // a file whose first line is the password
	Env     string // an environment variable
	Command string // a program (with arguments, split on spaces, no shell) that prints it
}

// CommandTimeout bounds a password_command.
const CommandTimeout = 10 * time.Second

// maxSecret bounds a password read from a file or a command.
const maxSecret = 4096

func (c Credential) count() int {
	n := 0
	for _, s := range []string{c.File, c.Env, c.Command} {
		if s != "" {
			n++
		}
	}
	return n
}

// IsZero reports whether no source is named.
func (c Credential) IsZero() bool { return c.count() == 0 }

// String names the source, never the password: "file /x", "env NAME",
// "command prog", or "shared".
func (c Credential) String() string {
	switch {
	case c.File != "":
		return "file " + c.File
	case c.Env != "":
		return "env " + c.Env
	case c.Command != "":
		return "command " + strings.Fields(c.Command)[0]
	}
	return "shared"
}

func (c Credential) relativeTo(dir string) Credential {
	if c.File != "" && !filepath.IsAbs(c.File) {
		c.File = filepath.Join(dir, c.File)
	}
	return c
}

// Read fetches the password from its source. lookupEnv is os.LookupEnv
// in production. The error names the source, never the password.
func (c Credential) Read(ctx context.Context, lookupEnv func(string) (string, bool)) (string, error) {
	switch {
	case c.File != "":
		f, err := os.Open(c.File)
		if err != nil {
			return "", fmt.Errorf("read the password file: %w", err)
		}
		defer f.Close()
		return firstLine(f, "the password file "+c.File)
	case c.Env != "":
		v, ok := lookupEnv(c.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("the environment variable %s that should hold the password is not set", c.Env)
		}
		return v, nil
	case c.Command != "":
		args := strings.Fields(c.Command)
		ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		var out limitedBuffer
		out.max = maxSecret
		cmd.Stdout = &out
		cmd.Stderr = io.Discard // may echo what it read; never shown
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("the password command %s took longer than %s", args[0], CommandTimeout)
			}
			return "", fmt.Errorf("the password command %s failed: %w", args[0], err)
		}
		return firstLine(&out.buf, "the output of the password command "+args[0])
	}
	return "", errors.New("no password source is named")
}

func firstLine(r io.Reader, what string) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxSecret), maxSecret)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("%s is empty: its first line must be the password", what)
	}
	return line, nil
}

// limitedBuffer keeps at most max bytes and drops the rest.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}
