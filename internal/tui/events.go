package tui

import (
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// eventsMsg carries engine events into the program.
type eventsMsg []steps.Event

// hub queues the engine's events for the program. When maxQueued events
// wait, Report blocks until the program has taken them (back-pressure:
// no event is dropped) or the hub is closed.
type hub struct {
	mu     sync.Mutex
	queue  []steps.Event
	notify chan struct{} // an event was queued
	room   chan struct{} // the queue was emptied
	done   chan struct{}
	once   sync.Once
}

func newHub() *hub {
	return &hub{notify: make(chan struct{}, 1), room: make(chan struct{}, 1), done: make(chan struct{})}
}

// maxQueued is how many events wait before Report blocks.
const maxQueued = 4096

// Report queues e for the program, waiting while the queue is full.
func (h *hub) Report(e steps.Event) {
	for {
		h.mu.Lock()
		if len(h.queue) < maxQueued {
			h.queue = append(h.queue, e)
			more := len(h.queue) < maxQueued
			h.mu.Unlock()
			if more { // wake another blocked reporter, if any
				select {
				case h.room <- struct{}{}:
				default:
				}
			}
			break
		}
		h.mu.Unlock()
		select {
		case <-h.room:
		case <-h.done:
			return // nobody listens any more
		}
	}
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
				select {
				case h.room <- struct{}{}:
				default:
				}
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

// close stops the listener and releases a blocked Report.
func (h *hub) close() { h.once.Do(func() { close(h.done) }) }
