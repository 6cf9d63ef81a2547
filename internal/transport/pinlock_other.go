//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package transport

// lockPins has no operating-system lock to take on this platform: writes
// still merge with the file on disk, but two processes writing at the
// same instant may lose one's changes.
func lockPins(string) (unlock func(), err error) { return func() {}, nil }
