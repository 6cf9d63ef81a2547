package nport

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/transport"
)

// TestWentDownNeedsASignOfTheRestart: after Save/Restart only the login
// page, a refused, reset or closed connection count as the device having
// restarted; a request that timed out does not (under load it would send
// the new login to a device that has not restarted yet).
func TestWentDownNeedsASignOfTheRestart(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("open Overview: %w (the login page came back)", errSessionEnded), true},
		{&transport.UnreachableError{HostPort: "127.0.0.1:443", Kind: transport.Refused}, true},
		{fmt.Errorf("get: %w", io.EOF), true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{&transport.UnreachableError{HostPort: "127.0.0.1:443", Kind: transport.NoAnswer, Timeout: 2 * time.Second}, false},
		{&transport.UnreachableError{HostPort: "127.0.0.1:443", Kind: transport.Silent, Timeout: 2 * time.Second}, false},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), false},
	} {
		if got := wentDown(c.err); got != c.want {
			t.Errorf("wentDown(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestSeriesOfModels: the advisory tables' series from the model strings
// devices show.
func TestSeriesOfModels(t *testing.T) {
	for model, want := range map[string]string{
		"NPort 5150A": "5100A", "NP5110A": "5100A", "5232A": "5200A", "NPort 5232I": "5200",
		"NPort 5150": "5130/5150", "NPort 5110": "5110", "5610-8-DTL": "5600-DTL", "NPort P5150A": "P5150A",
		"NPort 51A": "", "NPort 5XXA": "",
	} {
		if got := series(model); got != want {
			t.Errorf("series(%q) = %q, want %q", model, got, want)
		}
	}
}
