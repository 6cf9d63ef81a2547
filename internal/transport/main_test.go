package transport

import (
	"os"
	"testing"
)

// TestMain keeps every test of the package on loopback: any dial or
// datagram to another address fails.
func TestMain(m *testing.M) {
	SetDestinationCheck(LoopbackOnly)
	os.Exit(m.Run())
}
