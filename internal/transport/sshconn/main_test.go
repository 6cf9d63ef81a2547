package sshconn

import (
	"os"
	"testing"

	"github.com/commission-tool/commission/internal/transport"
)

// TestMain keeps every test of the package on loopback.
func TestMain(m *testing.M) {
	transport.SetDestinationCheck(transport.LoopbackOnly)
	os.Exit(m.Run())
}
