package main

// Temporary: the NPort and Kepware descriptors and the three demo
// functions until their family packages export them.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/family"
	"github.com/commission-tool/commission/internal/printable"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
)

var legacyNPort = family.Descriptor{
	Name: "nport", Label: "Moxa NPort 5000", Guide: family.GuideOf(catalog.NPort),
	Open: func(o access.Options, rep steps.Reporter) (family.Session, error) {
		drv := nport.New(nport.Options{Options: o})
		return family.NewSession(catalog.NPort(), drv, rep, o.Timeout), nil
	},
	Recheck: func(raw json.RawMessage) (map[string]steps.Finding, error) {
		return catalog.Recheck(catalog.NPort(), raw)
	},
	Main: "https",
	Services: []string{"http", "https", "telnet", "snmp", "moxa-udp", "moxa-tcp", "moxa-tcp2",
		"realcom-data-N", "realcom-cmd-N", "tcp-server-N", "udp-data-N"},
	Timing: func() family.Timing {
		return family.Timing{Apply: catalog.NPortApplyTiming, Restart: catalog.NPortRestartTiming, Delete: catalog.NPortDeleteTiming}
	},
	Capture: func(ctx context.Context, o access.Options, rec *transcript.Recorder) (string, error) {
		st, err := nport.Capture(ctx, nport.Options{Options: o, Recorder: rec})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s, firmware %s, console generation %s, %d failed logins listed by the device",
			printable.String(st.Identity.Model), printable.String(st.Identity.MAC), printable.String(st.Identity.Firmware),
			st.Generation, len(st.FailedLogins)), nil
	},
	Discovery: &family.Discovery{
		Sends: "one Moxa discovery request (UDP, 8 bytes) to port 4800", Port: 4800,
		Find: func(ctx context.Context, from string, targets []string, wait time.Duration) ([]family.Found, error) {
			found, err := nport.Discover(ctx, targets, wait)
			var out []family.Found
			for _, f := range found {
				out = append(out, family.Found{Label: f.Model + " " + f.MAC, Address: f.IP, Detail: "answered on UDP 4800"})
			}
			return out, err
		},
	},
}

func legacyNPortDemo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	np, err := simnport.Start(simnport.Config{RestartDelay: cfg.RestartDelay})
	if err != nil {
		return nil, fmt.Errorf("start the simulated NPort: %w", err)
	}
	return []family.DemoDevice{{Label: "NPort 5150A (simulated)", Host: np.Host(), Ports: np.Ports(), User: "admin", Password: "moxa", Sim: np, Close: func() { np.Close() }}}, nil
}

func legacyKepwareDemo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	kp, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		return nil, fmt.Errorf("start the simulated Kepware server: %w", err)
	}
	return []family.DemoDevice{{Label: "Kepware Server (simulated)", Host: kp.Host(), Ports: kp.Ports(), User: "Administrator", Password: simkepware.DefaultAdminPassword, Sim: kp, Close: kp.Close}}, nil
}

func legacyThingsProDemo(cfg family.DemoConfig) ([]family.DemoDevice, error) {
	gw, err := simthingspro.Start(simthingspro.Config{NoForcedChange: cfg.FirstLoginDone})
	if err != nil {
		return nil, fmt.Errorf("start the simulated ThingsPro Edge gateway: %w", err)
	}
	return []family.DemoDevice{{Label: "ThingsPro Edge (simulated)", Host: gw.Host(), Ports: gw.Ports(), User: "admin", Password: "admin@123", Sim: gw, Close: func() { gw.Close() }}}, nil
}
