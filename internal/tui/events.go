package tui

import (
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// eventsMsg carries engine events into the program.
type eventsMsg []steps.Event

// hub queues the engine's events for the program. Report never blocks:
// it appends to a queue and nudges the listener.
type hub struct {
	mu     sync.Mutex
	queue  []steps.Event
	notify chan struct{}
	done   chan struct{}
	once   sync.Once
}

func newHub() *hub {
	return &hub{notify: make(chan struct{}, 1), done: make(chan struct{})}
}

// maxQueued bounds the queue if the program stops listening.
const maxQueued = 4096

// Report queues e for the program.
func (h *hub) Report(e steps.Event) {
	h.mu.Lock()
	if len(h.queue) < maxQueued {
		h.queue = append(h.queue, e)
	}
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// listen waits for queued events and delivers them as one message; the
// model calls it again after each delivery. It returns nil once closed.
func (h *hub) listen() tea.Cmd {
	return func() tea.Msg {
		for {
			h.mu.Lock()
			if len(h.queue) > 0 {
				q := h.queue
				h.queue = nil
				h.mu.Unlock()
				return eventsMsg(q)
			}
			h.mu.Unlock()
			select {
			case <-h.notify:
			case <-h.done:
				return nil
			}
		}
	}
}

// close stops the listener.
func (h *hub) close() { h.once.Do(func() { close(h.done) }) }
