//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package record

import "os"

// tryLock has no operating-system lock to take on this platform; the
// lock file still names the last process that opened the journal.
func tryLock(*os.File) error { return nil }

func removeHeld(path string, f *os.File) {
	f.Close()
	os.Remove(path)
}
