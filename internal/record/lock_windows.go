//go:build windows

package record

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock locks one byte far beyond the holder line, so that others can
// still read who holds it.
func tryLock(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: 1}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errHeld
	}
	return err
}

// removeHeld closes the file (dropping the lock), then removes it; an open
// file cannot be removed on Windows. A failed remove leaves a file that
// the next acquire simply locks again.
func removeHeld(path string, f *os.File) {
	f.Close()
	os.Remove(path)
}
