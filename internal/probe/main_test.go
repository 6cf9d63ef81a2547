package probe

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/transport"
)

// TestMain keeps every probe on loopback, and fails the run when
// goroutines started by the tests (probes, listeners, servers) are still
// alive after every test has cleaned up.
func TestMain(m *testing.M) {
	transport.SetDestinationCheck(transport.LoopbackOnly)
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			fmt.Fprintf(os.Stderr, "goroutines left behind: %d > %d\n%s\n", n, before, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}
