package main

import (
	"os"
	"testing"

	"github.com/commission-tool/commission/internal/transport"
)

// TestMain keeps every test of the command on loopback: a dial, a
// datagram, a probe or a name lookup towards any other destination
// fails (transport.LoopbackOnly), so a test that broadcasts or asks DNS
// goes red instead of sending.
//
// With COMMISSION_CRASH_CHILD set, the test binary is instead the child
// process that the crash tests kill (resume_test.go).
func TestMain(m *testing.M) {
	transport.SetDestinationCheck(transport.LoopbackOnly)
	if raw := os.Getenv("COMMISSION_CRASH_CHILD"); raw != "" {
		crashChild(raw)
	}
	os.Exit(m.Run())
}
