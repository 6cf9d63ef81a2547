package nport

import (
	"context"
	"sync"

	"github.com/commission-tool/commission/internal/transcript"
)

// held keeps the exchanges of work that runs concurrently with other
// work (a page read among others, UDP 4800 during the login), so that
// they reach the recorder in a fixed order, whatever the timing: the
// transcript a capture writes is the same from run to run. It is
// transport.RunOrdered's idea for the recorder of this driver.
type held struct {
	mu sync.Mutex
	ex []transcript.Exchange
}

type heldKey struct{}

// holding returns ctx whose exchanges go to h instead of the recorder.
func holding(ctx context.Context, h *held) context.Context {
	return context.WithValue(ctx, heldKey{}, h)
}

// addExchange adds e to rec, or to the held exchanges ctx carries.
func addExchange(ctx context.Context, rec *transcript.Recorder, e transcript.Exchange) {
	if rec == nil {
		return
	}
	if h, ok := ctx.Value(heldKey{}).(*held); ok {
		h.mu.Lock()
		h.ex = append(h.ex, e)
		h.mu.Unlock()
		return
	}
	rec.Add(e)
}

// release adds the held exchanges to rec, in the order they were made.
func (h *held) release(rec *transcript.Recorder) {
	h.mu.Lock()
	ex := h.ex
	h.ex = nil
	h.mu.Unlock()
	for _, e := range ex {
		rec.Add(e)
	}
}

// runOrdered runs tasks, at most limit at a time, each with a context
// that holds its exchanges; once all have ended the exchanges are added
// to rec task by task, in the order given. It returns the tasks' errors,
// by index.
func runOrdered(ctx context.Context, rec *transcript.Recorder, limit int, tasks []func(ctx context.Context) error) []error {
	errs := make([]error, len(tasks))
	holds := make([]held, len(tasks))
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i, task := range tasks {
		if task == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = task(holding(ctx, &holds[i]))
		})
	}
	wg.Wait()
	for i := range holds {
		holds[i].release(rec)
	}
	return errs
}
