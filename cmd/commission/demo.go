package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/commission-tool/commission/internal/family"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// The demo starts the simulators that the registry lists for each family
// (registry.go is the only file outside tests that imports a simulator;
// the layering test keeps it that way).

const demoHelp = `Usage: commission demo [--headless [--count N]]

Starts simulated devices on this laptop's loopback interface, each at its
factory defaults, and opens the wizard against them. Nothing leaves the
machine. The wizard's device list shows each device's login, and every
record of a simulated device says SIMULATED DEVICE on every page.

With --headless the wizard does not open: one JSON line per simulated
device is printed on stdout (family, address, ports, user, password and
audit_args, the exact arguments that point "commission audit" at it), and
the simulators serve until interrupted (Ctrl-C).

Flags:
`

// demoDevice is one line of "demo --headless" output.
type demoDevice struct {
	Family    string         `json:"family"`
	Label     string         `json:"label"`
	Address   string         `json:"address"`
	Ports     map[string]int `json:"ports"`
	User      string         `json:"user"`
	Password  string         `json:"password"`
	AuditArgs []string       `json:"audit_args"`
	sim       any            // the simulator, for tests
}

// demoLab is the set of running simulators.
type demoLab struct {
	devices []demoDevice
	closers []func()
}

// startLab starts every family's simulated devices, in registry order.
// firstLoginDone skips a forced first-login password change (for
// headless audits, which change nothing and so cannot answer it).
func startLab(ctx context.Context, restart time.Duration, firstLoginDone ...bool) (*demoLab, error) {
	lab := &demoLab{}
	cfg := family.DemoConfig{RestartDelay: restart, FirstLoginDone: len(firstLoginDone) > 0 && firstLoginDone[0]}
	for _, f := range registry {
		if f.demo == nil {
			continue
		}
		devs, err := f.demo(cfg)
		if err != nil {
			lab.Close()
			return nil, fmt.Errorf("start the simulated %s: %w", f.Label, err)
		}
		for _, d := range devs {
			lab.closers = append(lab.closers, d.Close)
			args := []string{"audit", "--device", f.Name, "--address", d.Host}
			args = append(args, portArgs(d.Ports)...)
			if p, ok := d.Ports[f.Main]; ok {
				if rep := probe.TLS(ctx, d.Host, p, 2*time.Second); rep.Cert != nil {
					args = append(args, "--fingerprint", transport.FingerprintFromHex(rep.Cert.SHA256))
				}
			}
			args = append(args, "--user", d.User, "--password-stdin", "--json", "--simulated")
			lab.devices = append(lab.devices, demoDevice{Family: f.Name, Label: d.Label, Address: d.Host, Ports: d.Ports,
				User: d.User, Password: d.Password, AuditArgs: args, sim: d.Sim})
		}
	}
	return lab, nil
}

// candidates lists the simulated devices for the wizard's device list,
// each with its login.
func (l *demoLab) candidates() []tui.Candidate {
	var cs []tui.Candidate
	for _, d := range l.devices {
		f, _ := lookupFamily(d.Family)
		cs = append(cs, tui.Candidate{Family: d.Family, Address: d.address(f.Main), Label: d.Label, User: d.User,
			Detail: "login " + d.User + " / " + d.Password + ", " + f.Main + " " + strconv.Itoa(d.Ports[f.Main])})
	}
	return cs
}

// address is where the wizard reaches the device: its host and the port
// of the family's main service, which tells two simulators of one family
// on one host apart.
func (d demoDevice) address(main string) string {
	if p, ok := d.Ports[main]; ok {
		return net.JoinHostPort(d.Address, strconv.Itoa(p))
	}
	return d.Address
}

// ports are the service ports of the simulated device at address (as
// the device list gives it), for the wizard's connect.
func (l *demoLab) ports(family, address string) map[string]int {
	for _, d := range l.devices {
		if f, _ := lookupFamily(d.Family); d.Family == family && d.address(f.Main) == address {
			return d.Ports
		}
	}
	return nil
}

// Close stops every simulator.
func (l *demoLab) Close() {
	for i := len(l.closers) - 1; i >= 0; i-- {
		l.closers[i]()
	}
	l.closers = nil
}

func runDemo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoHelp); fs.PrintDefaults() }
	headless := fs.Bool("headless", false, "start the simulators only and print one JSON line per device")
	out := fs.String("out", "commission-records", "folder for the record bundles")
	restart := fs.Duration("restart-delay", 1500*time.Millisecond, "how long a simulated device takes to restart")
	count := fs.Int("count", 1, "with --headless: start this many of each simulated device (1 to 200), for inventory audits")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if *count < 1 || *count > 200 || *count > 1 && !*headless {
		return usageErr("--count goes with --headless and is from 1 to 200")
	}
	lab, err := startLab(ctx, *restart, *headless)
	if err != nil {
		return withCode(ExitError, err)
	}
	defer lab.Close()
	if *headless {
		devs := lab.devices
		for range *count - 1 { // more of each, for audit --inventory
			more, err := startLab(ctx, *restart, true)
			if err != nil {
				return withCode(ExitError, err)
			}
			defer more.Close()
			devs = append(devs, more.devices...)
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, d := range devs {
			if err := enc.Encode(d); err != nil {
				return withCode(ExitError, fmt.Errorf("write: %w", err))
			}
		}
		if f, ok := stdout.(*os.File); ok {
			f.Sync()
		}
		<-ctx.Done()
		return nil
	}
	// The demo keeps its pins and journals in a throwaway folder: the
	// simulators make new certificates every run.
	tmp, err := os.MkdirTemp("", "commission-demo-")
	if err != nil {
		return withCode(ExitError, fmt.Errorf("make a scratch folder: %w", err))
	}
	defer os.RemoveAll(tmp)
	pins, err := transport.OpenPins(tmp + "/known_devices")
	if err != nil {
		return withCode(ExitError, err)
	}
	a := &app{pins: pins, journalDir: tmp, outDir: *out, timeout: 2 * time.Second, mode: "wizard", simulated: true,
		// Without an ssh-agent or key, the demo offers a throwaway key in
		// its scratch folder rather than writing into ~/.ssh.
		newKey: tmp + "/demo_ed25519",
		// The simulators are listed at start; the demo never broadcasts.
		known: lab.candidates(),
		ports: lab.ports,
	}
	return a.runTUI(ctx, stdin, stdout, stderr)
}
