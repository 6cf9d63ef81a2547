// Package family is the contract a device family fulfils: one Descriptor
// value, exported from the family's catalog package, says everything the
// command and the wizard need to know about the family. The command lists
// the descriptors in one registry (cmd/commission/registry.go); nothing
// else in the command or the wizard names a family.
//
// The family's simulated demo devices are not in the descriptor, because
// a catalog knows no simulator (the layering test keeps it so): the
// registry line pairs the descriptor with its simulator's Demo function.
package family

import (
	"context"
	"encoding/json"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
)

// Descriptor is one device family.
type Descriptor struct {
	// Name is the --device value and the record's family ("nport").
	Name string
	// Label is the family's name for people ("Moxa NPort 5000").
	Label string
	// Guide returns the catalog's step metadata and the guide's title,
	// without a device.
	Guide func() (metas []steps.Meta, title string)
	// Open builds the session for one device. It does no I/O: the
	// session's Open logs in.
	Open func(o access.Options, rep steps.Reporter) (Session, error)
	// Recheck runs the catalog's checks on a record's observations
	// (commission verify).
	Recheck func(observations json.RawMessage) (map[string]steps.Finding, error)
	// Main is the service that the port in --address HOST:PORT goes to.
	Main string
	// Services are the names --port accepts; a name ending in "-N" stands
	// for one per serial port (realcom-data-1, ...).
	Services []string
	// Timing is what the family's changes do to the running device, for
	// the wizard's confirm screens. A function, so that the catalog's
	// words are read when first needed, not when the program starts.
	Timing func() Timing
	// Capture walks a device read-only into a masked transcript
	// (commission capture) and returns a one-line summary.
	Capture func(ctx context.Context, o access.Options, rec *transcript.Recorder) (summary string, err error)
	// Discovery, when the family has one, finds devices on the network.
	// It is only ever run when the technician asks for it.
	Discovery *Discovery
}

// Timing is the wording of the wizard's confirm screens.
type Timing struct {
	Apply   string // when an applied change takes effect, what it interrupts
	Restart string // what the restart (or the verifying read) interrupts
	Delete  string // what deleting a setting does
}

// Discovery is a family's way of finding its devices.
type Discovery struct {
	// Sends says what one discovery sends, for the screen that asks the
	// technician's leave ("one UDP request of 8 bytes to port 4800").
	Sends string
	// Port is where the discovery request goes (UDP), unless the
	// technician gives another with the broadcast address.
	Port int
	// Find sends the discovery to each target address (a directed
	// broadcast or a unicast address, chosen by the caller so that tests
	// use loopback) from the local address from (empty: any), and
	// collects replies until wait has passed.
	Find func(ctx context.Context, from string, targets []string, wait time.Duration) ([]Found, error)
}

// Found is one device that answered a discovery.
type Found struct {
	Label   string // model and MAC, as shown in the device list
	Address string // the device's IP address
	Detail  string // how it was found
}

// Session is a commissioning session on one device: the family's
// steps.Session, which also closes the driver when it closes.
type Session interface {
	Family() string
	Guide() string
	Steps() []steps.Meta
	Identity() devices.Identity
	Result(id string) steps.Result
	Results() []steps.Result
	Defaults(id string) steps.Values
	Validate(id string, in steps.Values) error
	Plan(id string, in steps.Values) ([]steps.Change, error)
	Cancel(id string) error
	Apply(ctx context.Context, id string) error
	Pending() int
	AwaitingRestart() []string
	Commit(ctx context.Context) error
	Recheck(ctx context.Context) error
	Waive(id, reason string) error
	NotApplicable(id, reason string) error
	Attest(ctx context.Context, id string, in steps.Values, note string) error
	Open(ctx context.Context) error
	Restore([]steps.Result)
	Close()
	// Observations is the state last read, as JSON, for the record.
	Observations() (json.RawMessage, error)
	// Evidence is the evidence files the state last read offers.
	Evidence() []devices.EvidenceFile
}

// Driver is what every family's driver offers besides steps.Device:
// Close logs out, bounded by ctx.
type Driver[S any] interface {
	steps.Device[S]
	Close(ctx context.Context) error
}

// NewSession makes the Session for a catalog and a driver. Closing it
// closes the engine's session, then logs the driver out within timeout.
func NewSession[S any](cat steps.Catalog[S], drv Driver[S], rep steps.Reporter, timeout time.Duration) Session {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &closing[S]{Session: steps.NewSession(cat, drv, rep), drv: drv, timeout: timeout}
}

type closing[S any] struct {
	*steps.Session[S]
	drv     Driver[S]
	timeout time.Duration
	closed  bool
}

// Close closes the session, then logs the driver out.
func (c *closing[S]) Close() {
	c.Session.Close()
	if c.closed {
		return
	}
	c.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	_ = c.drv.Close(ctx)
}

// Unwrap returns the engine's session, for tests and for the record.
func (c *closing[S]) Unwrap() *steps.Session[S] { return c.Session }

// GuideOf adapts a catalog constructor to Descriptor.Guide.
func GuideOf[S any](cat func() steps.Catalog[S]) func() ([]steps.Meta, string) {
	return func() ([]steps.Meta, string) {
		c := cat()
		return c.Metas(), c.Guide
	}
}

// Demo starts a family's simulated devices on loopback for the demo.
type Demo func(cfg DemoConfig) ([]DemoDevice, error)

// DemoConfig is how the demo wants its simulators.
type DemoConfig struct {
	// RestartDelay is how long a simulated restart takes.
	RestartDelay time.Duration
	// FirstLoginDone skips a forced first-login password change (for
	// headless audits, which change nothing and so cannot answer it).
	FirstLoginDone bool
	// StateDir, when set, is a folder of the simulator's own where it
	// keeps its settings, certificate and ports between runs, so that a
	// demo killed mid-session comes back as it was and can be resumed.
	// Empty: a fresh factory-default device every run.
	StateDir string
}

// DemoDevice is one running simulated device.
type DemoDevice struct {
	Label    string         // "NPort 5150A, GA firmware (simulated)"
	Host     string         // loopback address
	Ports    map[string]int // service ports by the family's names
	User     string
	Password string // the simulator's factory password (not a secret)
	// LoginChanged says that User and Password no longer log in: a
	// resumed demo changed the password (or the account) earlier. The
	// password the technician set is theirs, so the demo does not show it.
	LoginChanged bool
	// Sim is the simulator itself, for tests that change it behind the
	// tool's back.
	Sim any
	// Close stops the simulator.
	Close func()
}
