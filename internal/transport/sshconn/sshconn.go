// Package sshconn is an SSH client for asking a device's own shell a
// fact only it knows (which ports listen, for example). Host keys are
// checked against an OpenSSH known_hosts file; a host seen for the first
// time is trusted and written there (trust on first use), and a host
// whose key changed stops the session with *HostKeyChangedError.
//
// Every dial and command has a timeout, and command output is bounded.
package sshconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/commission-tool/commission/internal/transport"
)

// DefaultMaxOutput bounds a command's output unless Config says otherwise.
const DefaultMaxOutput = 1 << 20

// ErrOutputTooLarge is returned when a command prints more than the limit.
var ErrOutputTooLarge = errors.New("command output larger than the limit")

// Config says how to log in and where host keys are remembered.
type Config struct {
	User string
	// Password logs in with a password (secret: never logged).
	Password string
	// Signer logs in with a private key.
	Signer ssh.Signer
	// KnownHosts is the OpenSSH known_hosts file; required. A missing
	// file is created on first use.
	KnownHosts string
	// Timeout bounds the dial, the handshake and each command
	// (default transport.DefaultTimeout).
	Timeout time.Duration
	// MaxOutput bounds each command's output (default DefaultMaxOutput).
	MaxOutput int64
}

// HostKeyChangedError is a host whose key differs from the remembered
// one: it may be an impostor, so the session stops.
type HostKeyChangedError struct {
	HostPort string
	Pinned   string // SHA256 fingerprint of the remembered key
	Seen     string // SHA256 fingerprint of the key shown now
	File     string // the known_hosts file
	Line     int    // the line holding the remembered key
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("STOP: %s shows a different SSH host key than last time (remembered %s in %s line %d, seen %s). "+
		"Someone may be impersonating the device. Do not continue: check the device in person; "+
		"only if its key was replaced on purpose, remove that line", e.HostPort, e.Pinned, e.File, e.Line, e.Seen)
}

// TrustChanged returns the device, the host key it was trusted with and
// the one it shows now: the contract of the wizard's STOP screen.
func (e *HostKeyChangedError) TrustChanged() (subject, pinned, seen string) {
	return e.HostPort, e.Pinned, e.Seen
}

// Client is one SSH connection.
type Client struct {
	c   *ssh.Client
	cfg Config
	// NewHostKey is the fingerprint of a host key trusted on first use in
	// this connection ("" when the key was already known), for the
	// technician to compare with the device.
	NewHostKey string
}

// knownHostsMu serialises reads and appends of known_hosts files.
var knownHostsMu sync.Mutex

// hostKeyCallback checks the key against the file and appends it when
// the host is new.
func hostKeyCallback(file string, newKey *string) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		knownHostsMu.Lock()
		defer knownHostsMu.Unlock()
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return fmt.Errorf("create known_hosts directory: %w", err)
		}
		f, err := os.OpenFile(file, os.O_CREATE|os.O_RDONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open known_hosts: %w", err)
		}
		f.Close()
		cb, err := knownhosts.New(file)
		if err != nil {
			return fmt.Errorf("read known_hosts %s: %w", file, err)
		}
		err = cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) > 0:
			w := ke.Want[0]
			return &HostKeyChangedError{HostPort: hostname, Pinned: ssh.FingerprintSHA256(w.Key), Seen: ssh.FingerprintSHA256(key), File: w.Filename, Line: w.Line}
		case errors.As(err, &ke):
			line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key)
			af, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("remember host key: %w", err)
			}
			if _, err := af.WriteString(line + "\n"); err != nil {
				af.Close()
				return fmt.Errorf("remember host key: %w", err)
			}
			if err := af.Close(); err != nil {
				return fmt.Errorf("remember host key: %w", err)
			}
			*newKey = ssh.FingerprintSHA256(key)
			return nil
		default:
			return fmt.Errorf("check host key: %w", err)
		}
	}
}

// Dial connects to hostport and logs in.
func Dial(ctx context.Context, hostport string, cfg Config) (*Client, error) {
	if cfg.KnownHosts == "" {
		return nil, errors.New("ssh: no known_hosts file given")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = transport.DefaultTimeout
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = DefaultMaxOutput
	}
	var auth []ssh.AuthMethod
	if cfg.Signer != nil {
		auth = append(auth, ssh.PublicKeys(cfg.Signer))
	}
	if cfg.Password != "" {
		auth = append(auth, ssh.Password(cfg.Password))
	}
	if len(auth) == 0 {
		return nil, errors.New("ssh: give a password or a key to log in with")
	}
	var newKey string
	sc := &ssh.ClientConfig{
		User:            cfg.User,
		Auth:            auth,
		HostKeyCallback: hostKeyCallback(cfg.KnownHosts, &newKey),
		Timeout:         cfg.Timeout,
	}
	conn, err := transport.Dial(ctx, "tcp", hostport, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	c, chans, reqs, err := ssh.NewClientConn(conn, hostport, sc)
	if err != nil {
		conn.Close()
		var changed *HostKeyChangedError
		if errors.As(err, &changed) {
			return nil, changed
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("ssh %s: the login as %q was refused: check the user name and password or key", hostport, cfg.User)
		}
		return nil, fmt.Errorf("ssh %s: %w", hostport, transport.Classify(hostport, cfg.Timeout, err))
	}
	_ = conn.SetDeadline(time.Time{})
	return &Client{c: ssh.NewClient(c, chans, reqs), cfg: cfg, NewHostKey: newKey}, nil
}

// limitWriter keeps at most max bytes and remembers an overflow.
type limitWriter struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (w *limitWriter) Write(p []byte) (int, error) {
	room := w.max - int64(w.buf.Len())
	if int64(len(p)) > room {
		w.over = true
		if room > 0 {
			w.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return w.buf.Write(p)
}

// Run runs cmd and returns its standard output. A non-zero exit is an
// error that carries the first line of standard error.
func (c *Client) Run(ctx context.Context, cmd string) (string, error) {
	sess, err := c.c.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh: open a session: %w", err)
	}
	defer sess.Close()
	out := &limitWriter{max: c.cfg.MaxOutput}
	errOut := &limitWriter{max: 4096}
	sess.Stdout, sess.Stderr = out, errOut
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	timer := time.NewTimer(c.cfg.Timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Close()
		<-done
		return "", fmt.Errorf("ssh: %q: %w", cmd, ctx.Err())
	case <-timer.C:
		sess.Close()
		<-done
		return "", fmt.Errorf("ssh: %q gave no result within %s", cmd, c.cfg.Timeout)
	}
	if out.over {
		return "", fmt.Errorf("ssh: %q: %w (%d bytes)", cmd, ErrOutputTooLarge, c.cfg.MaxOutput)
	}
	if err != nil {
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			first, _, _ := strings.Cut(strings.TrimSpace(errOut.buf.String()), "\n")
			return "", fmt.Errorf("ssh: %q exited with status %d: %s", cmd, ee.ExitStatus(), first)
		}
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("ssh: %q: the connection closed", cmd)
		}
		return "", fmt.Errorf("ssh: %q: %w", cmd, err)
	}
	return out.buf.String(), nil
}

// Close ends the connection.
func (c *Client) Close() error { return c.c.Close() }
