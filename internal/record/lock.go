package record

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/printable"
)

// HeldError says that another process holds a journal or a device: one
// journal has one writer, and one device one wizard.
type HeldError struct {
	What   string // "the session journal /path/x.jsonl", "the device nport at 10.0.0.1"
	Lock   string // the lock file
	Holder string // what the holder wrote: its process id, host and start time
}

func (e *HeldError) Error() string {
	h := e.Holder
	if h == "" {
		h = "a process that has not written its id yet"
	}
	if strings.HasPrefix(h, fmt.Sprintf("pid %d ", os.Getpid())) {
		return fmt.Sprintf("%s is already open in this wizard (%s); close that session first (lock file %s)", e.What, h, e.Lock)
	}
	return fmt.Sprintf("%s is in use by another commission process (%s); finish or quit that wizard first (lock file %s)", e.What, h, e.Lock)
}

// errHeld is what tryLock returns when another open file holds the lock.
var errHeld = errors.New("held")

// fileLock is an exclusive lock on a lock file, held until release. The
// operating system drops it when the process dies, so a crash leaves no
// stale lock behind.
type fileLock struct {
	path string
	f    *os.File
}

// maxHolder bounds what is read back from a lock file.
const maxHolder = 256

// acquire takes the lock at path for what (used in the error), or returns
// a *HeldError naming the process that holds it.
func acquire(path, what string) (*fileLock, error) {
	for range 5 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", what, err)
		}
		if err := tryLock(f); err != nil {
			holder := readHolder(f)
			f.Close()
			if errors.Is(err, errHeld) {
				return nil, &HeldError{What: what, Lock: path, Holder: holder}
			}
			return nil, fmt.Errorf("lock %s: %w", what, err)
		}
		// The last holder may have removed the file between our open and
		// our lock: then we hold a lock nobody else sees; open it again.
		fi, err1 := f.Stat()
		pi, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(fi, pi) {
			f.Close()
			continue
		}
		if err := writeHolder(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", what, err)
		}
		return &fileLock{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("lock %s: the lock file %s keeps being replaced", what, path)
}

func writeHolder(f *os.File) error {
	host, _ := os.Hostname() // uname, no lookup
	line := fmt.Sprintf("pid %d on %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(line), 0); err != nil {
		return err
	}
	return f.Sync()
}

func readHolder(f *os.File) string {
	b, _ := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, maxHolder), maxHolder))
	return printable.String(strings.TrimSpace(string(b)))
}

// release removes the lock file and drops the lock. Safe on nil.
func (l *fileLock) release() {
	if l == nil || l.f == nil {
		return
	}
	removeHeld(l.path, l.f)
	l.f = nil
}

// lockName makes a file name part from a device's family or address.
func lockName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	return b.String()
}
