//go:build windows

package transport

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockPins takes an exclusive lock on the first byte of the lock file at
// path (created if missing), waiting for another holder to finish;
// unlock drops it. Windows drops it too when the process dies, so a crash
// leaves no stale lock. The file itself stays.
func lockPins(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	h := windows.Handle(f.Fd())
	ol := new(windows.Overlapped)
	if err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ol); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		windows.UnlockFileEx(h, 0, 1, 0, ol)
		f.Close()
	}, nil
}
