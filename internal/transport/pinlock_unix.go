//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package transport

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockPins takes an exclusive flock on the lock file at path (created
// 0600 if missing), waiting for another holder to finish; unlock drops
// it. The kernel drops it too when the process dies, so a crash leaves
// no stale lock. The file itself stays: removing it would let a waiter
// lock a file nobody else sees.
func lockPins(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
