//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package transport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPinLockWaitIsBounded: a write that cannot get the pin file's lock
// (another process holds it, suspended say) gives up after pinLockWait
// with a message that says what to do, keeps no pin and leaves the file
// as it was; once the lock is free the write goes through.
func TestPinLockWaitIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_devices")
	s, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	mustTrust(t, s, "127.0.0.1:1", keyFP("one"))
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.OpenFile(path+".lock", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if ok, err := tryLock(other); !ok || err != nil {
		t.Fatalf("take the lock as another process would: %v %v", ok, err)
	}
	defer func(w time.Duration) { pinLockWait = w }(pinLockWait)
	pinLockWait = 100 * time.Millisecond
	start := time.Now()
	err = s.Trust("127.0.0.1:2", keyFP("two"))
	if err == nil || !strings.Contains(err.Error(), "another commission process") || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("Trust under another's lock: %v, want a bounded wait that says what to do", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("waited %s for the lock, bound %s", took, pinLockWait)
	}
	if _, ok := s.Lookup("127.0.0.1:2"); ok {
		t.Error("a pin whose write failed is kept")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("the pin file changed under another's lock:\n%s", after)
	}
	unlockFile(other)
	mustTrust(t, s, "127.0.0.1:2", keyFP("two"))
	wantPin(t, reopen(t, path), "127.0.0.1:2", keyFP("two"))
}
