//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package record

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock on f without waiting.
func tryLock(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errHeld
	}
	return err
}

// removeHeld removes the lock file while still holding it, then closes it
// (which drops the lock): a waiter that opened the old file notices the
// swap in acquire.
func removeHeld(path string, f *os.File) {
	os.Remove(path)
	f.Close()
}
