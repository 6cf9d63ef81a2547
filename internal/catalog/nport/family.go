package nport

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	device "github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/family"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
)

// Family describes the Moxa NPort 5000 family to the command and the
// wizard.
var Family = family.Descriptor{
	Name:    "nport",
	Label:   "Moxa NPort 5000",
	Guide:   family.GuideOf(Catalog),
	Open:    open,
	Recheck: recheck,
	Main:    "https",
	Services: []string{"http", "https", "telnet", "snmp", "moxa-udp", "moxa-tcp", "moxa-tcp2",
		"realcom-data-N", "realcom-cmd-N", "tcp-server-N", "udp-data-N"},
	Timing:    familyTiming,
	Capture:   capture,
	Discovery: &family.Discovery{Sends: "one Moxa discovery request (UDP, 8 bytes) to port 4800", Port: 4800, Find: discover},
}

// open builds the session on one NPort; nothing is sent until its Open.
// Closing the session logs out: the NPort allows few console sessions.
func open(o access.Options, rep steps.Reporter) (family.Session, error) {
	drv := device.FromOptions(o)
	return family.NewSession(Catalog(), drv, rep, o.Timeout), nil
}

func recheck(raw json.RawMessage) (map[string]steps.Finding, error) {
	return catalog.Recheck(Catalog(), raw)
}

func familyTiming() family.Timing {
	t := Timing()
	return family.Timing{Apply: t.Apply, Restart: t.Restart, Delete: t.Delete}
}

// capture walks an NPort read-only into rec and sums it up in one line.
func capture(ctx context.Context, o access.Options, rec *transcript.Recorder) (string, error) {
	do := device.Options{Options: access.Options{Host: o.Host, Ports: o.Ports, User: o.User, Password: o.Password,
		Pins: o.Pins, Timeout: o.Timeout}, Recorder: rec}
	st, err := device.Capture(ctx, do)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s, firmware %s, console generation %s, %d failed logins listed by the device",
		printable.String(st.Identity.Model), printable.String(st.Identity.MAC), printable.String(st.Identity.Firmware),
		st.Generation, len(st.FailedLogins)), nil
}

// discover asks for NPorts over UDP 4800 at each target ("host:port").
func discover(ctx context.Context, from string, targets []string, wait time.Duration) ([]family.Found, error) {
	// from is the chosen interface's address: the request leaves by it
	found, err := device.DiscoverFrom(ctx, from, targets, wait)
	via := strings.Join(targets, ", ")
	out := make([]family.Found, 0, len(found))
	for _, f := range found {
		out = append(out, family.Found{Label: f.Model + " " + f.MAC, Address: f.IP, Detail: "found over UDP 4800 via " + via})
	}
	return out, err
}
