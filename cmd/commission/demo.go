package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/commission-tool/commission/internal/probe"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// This file is the only place outside tests that imports a simulator: the
// demo command starts them. The layering test keeps it that way.

const demoHelp = `Usage: commission demo [--headless [--count N]]

Starts simulated devices on this laptop's loopback interface (a factory-
default Moxa NPort 5150A and a PTC Kepware server with a default project)
and opens the wizard against them. Nothing leaves the machine. The
simulated NPort's login is admin / moxa; the wizard's device list shows
each device's login.

With --headless the wizard does not open: one JSON line per simulated
device is printed on stdout (family, address, ports, user, password and
audit_args, the exact arguments that point "commission audit" at it), and
the simulators serve until interrupted (Ctrl-C).

Flags:
`

// demoDevice is one line of "demo --headless" output.
type demoDevice struct {
	Family    string         `json:"family"`
	Address   string         `json:"address"`
	Ports     map[string]int `json:"ports"`
	User      string         `json:"user"`
	Password  string         `json:"password"`
	AuditArgs []string       `json:"audit_args"`
}

// demoLab is the set of running simulators.
type demoLab struct {
	nport   *simnport.Device
	kepware *simkepware.Device
	gateway *simthingspro.Device
	devices []demoDevice
}

// startLab starts every simulator. firstLoginDone skips the ThingsPro
// gateway's forced first-login password change (for headless audits,
// which change nothing and so cannot answer it).
func startLab(ctx context.Context, restart time.Duration, firstLoginDone ...bool) (*demoLab, error) {
	np, err := simnport.Start(simnport.Config{RestartDelay: restart})
	if err != nil {
		return nil, fmt.Errorf("start the simulated NPort: %w", err)
	}
	lab := &demoLab{nport: np}
	ports := np.Ports()
	fp := ""
	if p, ok := ports["https"]; ok {
		rep := probe.TLS(ctx, np.Host(), p, 2*time.Second)
		if rep.Cert != nil {
			fp = transport.FingerprintFromHex(rep.Cert.SHA256)
		}
	}
	args := []string{"audit", "--device", "nport", "--address", np.Host()}
	args = append(args, portArgs(ports)...)
	if fp != "" {
		args = append(args, "--fingerprint", fp)
	}
	args = append(args, "--user", "admin", "--password-stdin", "--json")
	lab.devices = append(lab.devices, demoDevice{Family: "nport", Address: np.Host(), Ports: ports,
		User: "admin", Password: "moxa", AuditArgs: args})

	kp, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		lab.Close()
		return nil, fmt.Errorf("start the simulated Kepware server: %w", err)
	}
	lab.kepware = kp
	kports := kp.Ports()
	kargs := []string{"audit", "--device", "kepware", "--address", kp.Host()}
	kargs = append(kargs, portArgs(kports)...)
	kargs = append(kargs, "--fingerprint", kp.Fingerprint(), "--user", "Administrator", "--password-stdin", "--json")
	lab.devices = append(lab.devices, demoDevice{Family: "kepware", Address: kp.Host(), Ports: kports,
		User: "Administrator", Password: simkepware.DefaultAdminPassword, AuditArgs: kargs})

	gw, err := simthingspro.Start(simthingspro.Config{NoForcedChange: len(firstLoginDone) > 0 && firstLoginDone[0]})
	if err != nil {
		lab.Close()
		return nil, fmt.Errorf("start the simulated ThingsPro Edge gateway: %w", err)
	}
	lab.gateway = gw
	gports := gw.Ports()
	gargs := []string{"audit", "--device", "thingspro", "--address", gw.Host()}
	gargs = append(gargs, portArgs(gports)...)
	gargs = append(gargs, "--fingerprint", transport.Fingerprint(gw.CertDER()), "--user", "admin", "--password-stdin", "--json")
	lab.devices = append(lab.devices, demoDevice{Family: "thingspro", Address: gw.Host(), Ports: gports,
		User: "admin", Password: "admin@123", AuditArgs: gargs})
	return lab, nil
}

// candidates lists the simulated devices for the wizard's device list,
// each with its login.
func (l *demoLab) candidates() []tui.Candidate {
	var cs []tui.Candidate
	for _, d := range l.devices {
		https := d.Ports["https"] // NPort, ThingsPro
		if https == 0 {
			https = d.Ports["config-https"]
		}
		cs = append(cs, tui.Candidate{Family: d.Family, Address: d.Address, Label: labels[d.Family], User: d.User,
			Detail: "login " + d.User + " / " + d.Password + ", https " + strconv.Itoa(https)})
	}
	return cs
}

func (l *demoLab) Close() {
	if l.gateway != nil {
		l.gateway.Close()
	}
	if l.nport != nil {
		l.nport.Close()
	}
	if l.kepware != nil {
		l.kepware.Close()
	}
}

// labels name the simulated devices in the wizard's device list.
var labels = map[string]string{
	"nport":     "NPort 5150A (simulated)",
	"kepware":   "Kepware Server (simulated)",
	"thingspro": "ThingsPro Edge (simulated)",
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
		ports: func(family, _ string) map[string]int {
			for _, d := range lab.devices {
				if d.Family == family {
					return d.Ports
				}
			}
			return nil
		},
	}
	return a.runTUI(ctx, stdin, stdout, stderr)
}
