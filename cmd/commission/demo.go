package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
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

The demo keeps its sessions, pins and the simulated devices' state in a
folder of its own (--state, by default "demo" in the user's commission
config folder): kill it mid-session, start it again, and the wizard offers
to resume where it stopped, against the same devices. --fresh starts over
with factory-default devices.

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
	// loginChanged: a resumed demo changed this device's login earlier
	loginChanged bool
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
	return startLabWith(ctx, family.DemoConfig{RestartDelay: restart, FirstLoginDone: len(firstLoginDone) > 0 && firstLoginDone[0]})
}

// startLabWith starts every family's simulated devices with cfg; with
// cfg.StateDir each keeps its state there, in a folder per family.
func startLabWith(ctx context.Context, cfg family.DemoConfig) (*demoLab, error) {
	lab := &demoLab{}
	stateDir := cfg.StateDir
	for _, f := range registry {
		if stateDir != "" {
			cfg.StateDir = filepath.Join(stateDir, f.Name)
		}
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
				User: d.User, Password: d.Password, AuditArgs: args, sim: d.Sim, loginChanged: d.LoginChanged})
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
		login := "login " + d.User + " / " + d.Password
		if d.loginChanged {
			login = "login " + d.User + " / the password you set earlier in this demo (factory: " + d.Password + ")"
		}
		cs = append(cs, tui.Candidate{Family: d.Family, Address: d.address(f.Main), Label: d.Label, User: d.User,
			Detail: login + ", " + f.Main + " " + strconv.Itoa(d.Ports[f.Main])})
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

// demoMarker marks a folder as the demo's own, so that --fresh never
// deletes a folder the demo did not make.
const demoMarker = ".commission-demo"

// prepareDemoDir makes the demo's folder (and with fresh, empties it
// first). A folder that exists, is not empty and carries no marker is
// refused: it is not the demo's.
func prepareDemoDir(dir string, fresh bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		if _, merr := os.Stat(filepath.Join(dir, demoMarker)); merr != nil {
			return fmt.Errorf("%s is not a demo folder (it has no %s): give an empty or new folder with --state", dir, demoMarker)
		}
		if fresh {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("start afresh: %w", err)
			}
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the demo folder: %w", err)
	}
	for _, sub := range []string{"sessions", "devices"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("prepare the demo folder: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, demoMarker), []byte("commission demo folder: sessions, pins and simulated devices\n"), 0o600); err != nil {
		return fmt.Errorf("prepare the demo folder: %w", err)
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
	stateDir := fs.String("state", "", "the demo's folder: sessions, pins and the simulated devices' state (default: the user's commission config folder, demo)")
	fresh := fs.Bool("fresh", false, "forget the demo folder first: factory-default devices, no session to resume")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if *count < 1 || *count > 200 || *count > 1 && !*headless {
		return usageErr("--count goes with --headless and is from 1 to 200")
	}
	if *headless && (*stateDir != "" || *fresh) {
		return usageErr("--state and --fresh go with the wizard demo; a headless demo always starts factory-default devices")
	}
	if *headless {
		lab, err := startLab(ctx, *restart, true)
		if err != nil {
			return withCode(ExitError, err)
		}
		defer lab.Close()
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
	// The demo keeps its pins, journals, throwaway signing key and the
	// simulators' state in a folder of its own, so that a demo killed
	// mid-session comes back as it was and offers to resume.
	dir := *stateDir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return withCode(ExitError, fmt.Errorf("find the demo folder: %w (give one with --state DIR)", err))
		}
		dir = filepath.Join(base, "commission", "demo")
	}
	if err := prepareDemoDir(dir, *fresh); err != nil {
		return withCode(ExitError, err)
	}
	lab, err := startLabWith(ctx, family.DemoConfig{RestartDelay: *restart, StateDir: filepath.Join(dir, "devices")})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("%w (commission demo --fresh starts from factory-default devices)", err))
	}
	defer lab.Close()
	pins, err := transport.OpenPins(filepath.Join(dir, "known_devices"))
	if err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(stderr, "demo folder %s (sessions, pins and the simulated devices' state; --fresh starts over)\n", dir)
	a := &app{pins: pins, journalDir: filepath.Join(dir, "sessions"), outDir: *out, timeout: 2 * time.Second, mode: "wizard", simulated: true,
		// Without an ssh-agent or key, the demo offers a throwaway key in
		// its own folder rather than writing into ~/.ssh.
		newKey: filepath.Join(dir, "demo_ed25519"),
		// The simulators are listed at start; the demo never broadcasts.
		known: lab.candidates(),
		ports: lab.ports,
	}
	return a.runTUI(ctx, stdin, stdout, stderr)
}
