package transport

import (
	"os"
	"testing"
)

// TestMain keeps every test of the package on loopback: any dial or
// datagram to another address fails. With COMMISSION_PINS_CHILD set, the
// binary is a child of TestPinsProcessesShareTheFile instead.
func TestMain(m *testing.M) {
	SetDestinationCheck(LoopbackOnly)
	if raw := os.Getenv("COMMISSION_PINS_CHILD"); raw != "" {
		runPinsChild(raw)
	}
	os.Exit(m.Run())
}
