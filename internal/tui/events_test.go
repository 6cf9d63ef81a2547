package tui

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/commission-tool/commission/internal/steps"
)

// queued is how many events wait in the hub.
func (h *hub) queued() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queue)
}

// Past maxQueued events the engine waits for the wizard instead of
// losing events; every event arrives, in order.
func TestHubBackPressureKeepsEveryEvent(t *testing.T) {
	h := newHub()
	defer h.close()
	const n = maxQueued + 900
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			h.Report(steps.Event{Kind: steps.DeviceProgress, Message: strconv.Itoa(i)})
		}
	}()
	for h.queued() < maxQueued {
		runtime.Gosched()
	}
	select {
	case <-done:
		t.Fatal("the reporter finished although the queue was full: events were dropped")
	default:
	}
	var got []steps.Event
	for len(got) < n {
		evs, ok := h.listen()().(eventsMsg)
		if !ok {
			t.Fatal("listen ended early")
		}
		got = append(got, evs...)
	}
	<-done
	for i, e := range got {
		if e.Message != strconv.Itoa(i) {
			t.Fatalf("event %d is %q", i, e.Message)
		}
	}
}

// Closing the hub releases a reporter that waits for room.
func TestHubCloseReleasesBlockedReport(t *testing.T) {
	h := newHub()
	for range maxQueued {
		h.Report(steps.Event{})
	}
	done := make(chan struct{})
	go func() { h.Report(steps.Event{}); close(done) }()
	h.close()
	<-done
}
