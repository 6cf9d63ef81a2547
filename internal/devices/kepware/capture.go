package kepware

import (
	"context"
	"fmt"

	"github.com/commission-tool/commission/internal/transcript"
)

// Capture reads the server once, as an audit does, and records every API
// exchange in rec: what `commission capture --device kepware` writes.
// The read sends only GETs; the password is registered with rec so it is
// masked wherever it would appear.
func Capture(ctx context.Context, o Options, rec *transcript.Recorder) (State, error) {
	rec.Secret(o.Password)
	o.Observe = transcript.REST(rec, "")
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
