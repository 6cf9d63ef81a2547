package transport

import (
	"fmt"
	"os"
	"time"
)

// pinLockWait bounds how long a write of the pin file waits for another
// process's lock: a commission suspended mid-write (Ctrl-Z) must not
// hang every other one.
var pinLockWait = 10 * time.Second

// lockPins takes the exclusive lock on the lock file at path (created
// 0600 if missing), waiting up to pinLockWait for another holder to
// finish; unlock drops it. The operating system drops it too when the
// process dies, so a crash leaves no stale lock. The file itself stays:
// removing it would let a waiter lock a file nobody else sees.
func lockPins(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(pinLockWait)
	pause := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		if ok {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another commission process has held %s for over %s: let it finish (or end it), then try again", path, pinLockWait)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
