// Package access holds what every family's driver is built from: where the
// device is, how to log in, which certificates are trusted, and how long to
// wait. It is a leaf beside transport, so the engine and the wizard, which
// know devices only by their identity, never reach transport through it.
package access

import (
	"io"
	"time"

	"github.com/commission-tool/commission/internal/transport"
)

// Options is what every family's driver is built from. A driver's
// constructor takes it and does no I/O; Open logs in.
//
// The lifecycle every driver shares is:
//
//	d := family.New(opts)    // no I/O
//	err := d.Open(ctx)       // connect and log in
//	st, err := d.Read(ctx)   // steps.Device[S]
//	err = d.Stage(ctx, from, to)
//	err = d.Commit(ctx, progress)
//	err = d.Close(ctx)       // log out; bounded by ctx
type Options struct {
	// Host is the device's address: an IP literal or a name the
	// technician typed. It carries no port.
	Host string
	// Ports overrides the family's default service ports by name.
	Ports map[string]int
	// User and Password log in. Password is memory only.
	User     string
	Password string
	// NewPassword answers a forced first-login password change (memory only).
	NewPassword string
	// Pins holds the trusted TLS certificates (trust on first use).
	Pins *transport.PinStore
	// Timeout bounds each request and probe; zero means the family's default.
	Timeout time.Duration
	// Transcript, when set, receives the masked request/reply transcript
	// (the format `commission capture` writes).
	Transcript io.Writer
	// Since is when commissioning began (logs are read from there).
	Since time.Time
	// Progress, when set, receives short progress lines (device restarting, ...).
	Progress func(string)
}
