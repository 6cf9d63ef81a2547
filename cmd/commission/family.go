package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	tpcatalog "github.com/commission-tool/commission/internal/catalog/thingspro"
	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// engine is the family-independent face of a steps.Session.
type engine interface {
	Family() string
	Guide() string
	Steps() []steps.Meta
	Identity() devices.Identity
	Result(id string) steps.Result
	Results() []steps.Result
	Defaults(id string) steps.Values
	Validate(id string, in steps.Values) error
	Plan(id string, in steps.Values) ([]steps.Change, error)
	Apply(ctx context.Context, id string) error
	Pending() int
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
}

// target is one device to talk to. Password lives in memory only.
type target struct {
	Family   string
	Address  string
	User     string
	Password string
	// NewPassword answers a forced first-login password change (memory only).
	NewPassword string
	Ports       map[string]int // per-service port overrides
	Pins        *transport.PinStore
	Timeout     time.Duration
	Since       time.Time // when commissioning began (Kepware reads its event log from there)
}

// family is one supported device family: its guide and how to open a
// session on one of its devices. Adding a family is one entry here.
type family struct {
	name  string
	guide func() (metas []steps.Meta, title string)
	open  func(t target, rep steps.Reporter) (engine, error)
	// recheck runs the family's checks on a record's observations (verify).
	recheck func(json.RawMessage) (map[string]steps.Finding, error)
	// main is the service that a port in --address HOST:PORT goes to:
	// the family's HTTPS console or API.
	main string
	// services are the names --port accepts; a name ending in "-N"
	// stands for one per serial port (realcom-data-1, ...).
	services []string
	// timing is what the family's changes do to the running device, for
	// the wizard's confirm screens.
	timing tui.Timing
	// capture walks a device read-only into a transcript (commission capture).
	capture func(ctx context.Context, t captureTarget, rec *transcript.Recorder) (summary string, err error)
}

// familyTable lists the supported families in the order the wizard shows them.
var familyTable = []family{
	{name: "nport", guide: guideOf(catalog.NPort), recheck: recheckOf(catalog.NPort), open: openNPort, main: "https",
		services: []string{"http", "https", "telnet", "snmp", "moxa-udp", "moxa-tcp", "moxa-tcp2",
			"realcom-data-N", "realcom-cmd-N", "tcp-server-N", "udp-data-N"},
		capture: captureNPort, timing: tui.Timing{Apply: catalog.NPortApplyTiming, Restart: catalog.NPortRestartTiming, Delete: catalog.NPortDeleteTiming}},
	{name: "thingspro", guide: guideOf(tpcatalog.Catalog), recheck: recheckOf(tpcatalog.Catalog), open: openThingsPro, main: "https",
		services: []string{"https", "http", "ssh", "discovery"},
		capture:  captureThingsPro, timing: tpTiming()},
	{name: "kepware", guide: guideOf(catalog.Kepware), recheck: recheckOf(catalog.Kepware), open: openKepware, main: kepware.SvcConfigHTTPS,
		services: []string{kepware.SvcConfigHTTPS, kepware.SvcConfigHTTP, kepware.SvcOPCUA, kepware.SvcRESTServer},
		capture:  captureKepware, timing: tui.Timing{Apply: catalog.KepwareApplyTiming, Restart: catalog.KepwareCommitTiming, Delete: catalog.KepwareDeleteTiming}},
}

// knows reports whether service is one of the family's port names.
func (f family) knows(service string) bool {
	for _, s := range f.services {
		if s == service {
			return true
		}
		if base, ok := strings.CutSuffix(s, "-N"); ok {
			if n, found := strings.CutPrefix(service, base+"-"); found {
				if v, err := strconv.Atoi(n); err == nil && v >= 1 && v <= 32 && strconv.Itoa(v) == n {
					return true
				}
			}
		}
	}
	return false
}

// targetPorts checks the --port names against the family and adds the
// port given in --address to the family's main service. A --port for
// the main service that contradicts the address's port is an error.
func targetPorts(f family, addrPort int, given map[string]int) (map[string]int, error) {
	out := map[string]int{}
	for name, p := range given {
		if !f.knows(name) {
			return nil, usageErr("--port %s=%d: %s has no service %q; its services are %s", name, p, f.name, name, strings.Join(f.services, ", "))
		}
		out[name] = p
	}
	if addrPort != 0 {
		if p, ok := out[f.main]; ok && p != addrPort {
			return nil, usageErr("the port in --address (%d) and --port %s=%d disagree: give one of them", addrPort, f.main, p)
		}
		out[f.main] = addrPort
	}
	return out, nil
}

// families lists the supported family names.
var families = func() []string {
	names := make([]string, len(familyTable))
	for i, f := range familyTable {
		names[i] = f.name
	}
	return names
}()

func guideOf[S any](cat func() steps.Catalog[S]) func() ([]steps.Meta, string) {
	return func() ([]steps.Meta, string) {
		c := cat()
		return c.Metas(), c.Guide
	}
}

func lookupFamily(name string) (family, bool) {
	for _, f := range familyTable {
		if f.name == name {
			return f, true
		}
	}
	return family{}, false
}

// newEngine builds the session for a target; nothing is sent until Open.
func newEngine(t target, rep steps.Reporter) (engine, error) {
	f, ok := lookupFamily(t.Family)
	if !ok {
		return nil, usageErr("unknown device family %q: use one of %s", t.Family, strings.Join(families, ", "))
	}
	return f.open(t, rep)
}

// stepMetas returns a family's catalog steps and guide title without a device.
func stepMetas(name string) ([]steps.Meta, string, error) {
	f, ok := lookupFamily(name)
	if !ok {
		return nil, "", fmt.Errorf("unknown device family %q", name)
	}
	metas, title := f.guide()
	return metas, title, nil
}

func openNPort(t target, rep steps.Reporter) (engine, error) {
	drv := nport.New(nport.Options{
		Address: t.Address, Ports: t.Ports, User: t.User, Password: t.Password,
		Pins: t.Pins, Timeout: t.Timeout,
	})
	return &closing{engine: steps.NewSession(catalog.NPort(), drv, rep), close: func() {
		ctx, cancel := context.WithTimeout(context.Background(), t.Timeout)
		defer cancel()
		drv.Close(ctx) // log out: the NPort allows few console sessions
	}}, nil
}

func openThingsPro(t target, rep steps.Reporter) (engine, error) {
	drv := thingspro.New(thingspro.Options{Options: access.Options{Host: t.Address, User: t.User, Password: t.Password,
		NewPassword: t.NewPassword, Pins: t.Pins, Ports: t.Ports, Timeout: t.Timeout}})
	return &closing{engine: steps.NewSession(tpcatalog.Catalog(), drv, rep), close: func() {
		ctx, cancel := context.WithTimeout(context.Background(), t.Timeout)
		defer cancel()
		_ = drv.Close(ctx)
	}}, nil
}

func openKepware(t target, rep steps.Reporter) (engine, error) {
	drv := kepware.New(kepware.Options{Options: access.Options{Host: t.Address, User: t.User, Password: t.Password,
		Pins: t.Pins, Ports: t.Ports, Timeout: t.Timeout, Since: t.Since}})
	return &closing{engine: steps.NewSession(catalog.Kepware(), drv, rep), close: func() {
		ctx, cancel := context.WithTimeout(context.Background(), t.Timeout)
		defer cancel()
		_ = drv.Close(ctx)
	}}, nil
}

// closing ends the driver's session (logs out) when the engine closes.
type closing struct {
	engine
	close func()
}

// Close closes the engine, then the driver.
func (c *closing) Close() {
	c.engine.Close()
	if c.close != nil {
		c.close()
		c.close = nil
	}
}

// unwrap returns the engine inside wrappers.
func unwrap(e engine) engine {
	for {
		switch w := e.(type) {
		case *journaled:
			e = w.engine
		case *closing:
			e = w.engine
		default:
			return e
		}
	}
}

// portFlags collects repeated --port service=N flags.
type portFlags map[string]int

func (p portFlags) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, p[k]))
	}
	return strings.Join(parts, ",")
}

func (p portFlags) Set(v string) error {
	name, num, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("use --port SERVICE=PORT, such as --port https=8443")
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q for %s is not a number from 1 to 65535", num, name)
	}
	p[name] = n
	return nil
}

// portArgs renders ports as --port flags, sorted.
func portArgs(ports map[string]int) []string {
	keys := make([]string, 0, len(ports))
	for k := range ports {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, "--port", fmt.Sprintf("%s=%d", k, ports[k]))
	}
	return out
}

// tpTiming is the ThingsPro catalog's wording; the gateway's verifying read
// stands where other families restart.
func tpTiming() tui.Timing {
	t := tpcatalog.Timing()
	restart := t.Restart
	if restart == "" {
		restart = t.Commit
	}
	return tui.Timing{Apply: t.Apply, Restart: restart, Delete: t.Delete}
}

// timings maps each family to its confirm-screen wording.
func timings() map[string]tui.Timing {
	m := make(map[string]tui.Timing, len(familyTable))
	for _, f := range familyTable {
		m[f.name] = f.timing
	}
	return m
}
