package kepware

import (
	"context"
	"fmt"
	"maps"

	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// Record returns an Observe hook that adds every Configuration API
// exchange to rec as an "http" exchange, secrets already masked with
// transcript.Masked (set Options.Observe to it).
func Record(rec *transcript.Recorder) func(transport.RESTExchange) {
	return func(e transport.RESTExchange) {
		x := transcript.Exchange{Kind: "http",
			Request: &transcript.Request{Method: e.Method, URL: e.URL, Body: e.RequestBody},
			Response: &transcript.Response{Status: e.Status, Body: e.ReplyBody, Error: e.Error,
				Header: maps.Clone(map[string][]string(e.ReplyHeader))}}
		if e.BodyKind != "" {
			x.Note = e.BodyKind + " body"
		}
		rec.Add(x)
	}
}

// Capture reads the server once, as an audit does, and records every API
// exchange in rec: what `commission capture --device kepware` writes.
// The read sends only GETs; the password is registered with rec so it is
// masked wherever it would appear.
func Capture(ctx context.Context, o Options, rec *transcript.Recorder) (State, error) {
	rec.Secret(o.Password)
	o.Observe = Record(rec)
	d := New(o)
	d.o.mask = transcript.Masked
	defer d.Close(ctx)
	s, err := d.Read(ctx)
	if err != nil {
		return State{}, fmt.Errorf("capture: %w", err)
	}
	rec.Note(fmt.Sprintf("%s %s (product %s); event log read in %d page(s), complete %t",
		s.Identity.Model, s.Identity.Firmware, s.ProductID, s.EventLog.Pages, s.EventLog.Complete))
	return s, nil
}
