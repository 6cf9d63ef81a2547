package main

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/family"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// engine is the family-independent face of a session: what every
// family's descriptor opens.
type engine = family.Session

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
	Since       time.Time // when commissioning began (logs are read from there)
}

// options is the target as every driver takes it.
func (t target) options() access.Options {
	return access.Options{Host: t.Address, Ports: t.Ports, User: t.User, Password: t.Password,
		NewPassword: t.NewPassword, Pins: t.Pins, Timeout: t.Timeout, Since: t.Since}
}

// pinKey names the device's main TLS service for the pin store's
// expectations and new pins: host:port when its port is given, else the
// host (any port).
func (t target) pinKey() string {
	if f, ok := lookupFamily(t.Family); ok {
		if p, ok := t.Ports[f.Main]; ok {
			return net.JoinHostPort(t.Address, strconv.Itoa(p))
		}
	}
	return t.Address
}

// entry is one line of the registry: a family's descriptor and, when it
// has one, the simulator that the demo starts for it.
type entry struct {
	family.Descriptor
	// demo starts the family's simulated devices; nil: none.
	demo family.Demo
}

// knows reports whether service is one of the family's port names.
func (f entry) knows(service string) bool {
	for _, s := range f.Services {
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
func targetPorts(f entry, addrPort int, given map[string]int) (map[string]int, error) {
	out := map[string]int{}
	for name, p := range given {
		if !f.knows(name) {
			return nil, usageErr("--port %s=%d: %s has no service %q; its services are %s", name, p, f.Name, name, strings.Join(f.Services, ", "))
		}
		out[name] = p
	}
	if addrPort != 0 {
		if p, ok := out[f.Main]; ok && p != addrPort {
			return nil, usageErr("the port in --address (%d) and --port %s=%d disagree: give one of them", addrPort, f.Main, p)
		}
		out[f.Main] = addrPort
	}
	return out, nil
}

// families lists the supported family names.
var families = func() []string {
	names := make([]string, len(registry))
	for i, f := range registry {
		names[i] = f.Name
	}
	return names
}()

func lookupFamily(name string) (entry, bool) {
	for _, f := range registry {
		if f.Name == name {
			return f, true
		}
	}
	return entry{}, false
}

// newEngine builds the session for a target; nothing is sent until Open.
func newEngine(t target, rep steps.Reporter) (engine, error) {
	f, ok := lookupFamily(t.Family)
	if !ok {
		return nil, usageErr("unknown device family %q: use one of %s", t.Family, strings.Join(families, ", "))
	}
	return f.Open(t.options(), rep)
}

// stepMetas returns a family's catalog steps and guide title without a device.
func stepMetas(name string) ([]steps.Meta, string, error) {
	f, ok := lookupFamily(name)
	if !ok {
		return nil, "", fmt.Errorf("unknown device family %q", name)
	}
	metas, title := f.Guide()
	return metas, title, nil
}

// unwrap returns the engine inside the command's wrappers.
func unwrap(e engine) engine {
	for {
		switch w := e.(type) {
		case *journaled:
			e = w.engine
		case *plannedEngine:
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

// timingOf is one family's confirm-screen wording; none for an unknown one.
func timingOf(name string) tui.Timing {
	if f, ok := lookupFamily(name); ok && f.Timing != nil {
		return tui.Timing(f.Timing())
	}
	return tui.Timing{}
}
