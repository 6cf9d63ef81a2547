package thingspro

import (
	"context"
	"errors"
	"fmt"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transcript"
)

// apiPath is the path of the gateway's REST API below its HTTPS port.
const apiPath = "/api/v1"

// Capture is the read-only walk `commission capture --device thingspro`
// makes: it logs in (POST /auth, the only request that is not a GET),
// reads everything an audit reads, and records every API exchange in
// rec. It never answers the forced first-login password change: on a
// gateway that asks for one the walk ends with ErrPasswordMustChange. It
// makes no SSH login. The password and the session token are registered
// with rec, and every secret key of a request or reply is masked, so
// neither reaches the folder rec writes. The State is what the driver
// parsed, for the technician's summary.
func Capture(ctx context.Context, o Options, rec *transcript.Recorder) (State, error) {
	if rec == nil {
		return State{}, errors.New("capture: no recorder")
	}
	rec.Secret(o.Password, o.NewPassword)
	o.NewPassword = ""
	o.SSH = nil
	o.Observe = transcript.REST(rec, apiPath)
	o.mask = transcript.Masked
	d := New(o)
	defer d.Close(ctx)
	s, err := d.Read(ctx)
	if d.c != nil {
		d.c.mu.Lock()
		rec.Secret(d.c.token)
		d.c.mu.Unlock()
	}
	if err != nil {
		rec.Note("the walk stopped: " + printable.String(err.Error()))
		return State{}, fmt.Errorf("capture: %w", err)
	}
	rec.Note(fmt.Sprintf("%s, %s, serial %s", s.Identity.Model, s.Identity.Firmware, s.Identity.Serial))
	return s, nil
}
