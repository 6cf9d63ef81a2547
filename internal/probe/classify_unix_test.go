//go:build !windows

package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	live := context.Background()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	opErr := func(e error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", e)}
	}
	tests := []struct {
		name   string
		parent context.Context
		err    error
		want   PortState
	}{
		{"RST", live, opErr(syscall.ECONNREFUSED), Closed},
		{"reset", live, opErr(syscall.ECONNRESET), Closed},
		{"probe timeout", live, fmt.Errorf("dial: %w", context.DeadlineExceeded), Filtered},
		{"read deadline", live, &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}, Filtered},
		{"host unreachable", live, opErr(syscall.EHOSTUNREACH), Filtered},
		{"caller canceled", canceled, fmt.Errorf("dial: %w", context.Canceled), Failed},
		{"other", live, errors.New("socket: too many open files"), Failed},
	}
	for _, tc := range tests {
		got, detail := classify(tc.parent, tc.err, time.Second)
		if got != tc.want || detail == "" {
			t.Errorf("%s: %s %q, want %s with a detail", tc.name, got, detail, tc.want)
		}
	}
}
