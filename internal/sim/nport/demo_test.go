package nport

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/family"
)

// TestDemoOnePerGeneration: one device per generation, each serving its
// own generation's login page, labelled, closed by Close.
func TestDemoOnePerGeneration(t *testing.T) {
	devs, err := Demo(family.DemoConfig{RestartDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != len(Generations()) {
		t.Fatalf("%d devices for %d generations", len(devs), len(Generations()))
	}
	want := []string{"NPort 5150A, GA firmware (simulated)", "NPort 5150A, security firmware (simulated)"}
	var labels, macs []string
	for i, dd := range devs {
		d, ok := dd.Sim.(*Device)
		if !ok {
			t.Fatalf("Sim is %T", dd.Sim)
		}
		labels = append(labels, dd.Label)
		macs = append(macs, d.cfg.MAC)
		if d.cfg.Generation != Generations()[i] || d.cfg.RestartDelay != 20*time.Millisecond {
			t.Errorf("device %d: generation %s, restart delay %s", i, d.cfg.Generation, d.cfg.RestartDelay)
		}
		if dd.Host != "127.0.0.1" || dd.User != "admin" || dd.Password != "moxa" || dd.Ports[SvcHTTPS] == 0 || dd.Ports["realcom-data-1"] == 0 {
			t.Errorf("device %d: %+v", i, dd)
		}
		page := newWeb(t, d, SvcHTTP, nil).get("/")
		field := map[Generation]string{GenGA: "MD5Password", GenSec: "EncPasswd"}[d.cfg.Generation]
		if !strings.Contains(page, field) {
			t.Errorf("device %d does not serve the %s login page", i, d.cfg.Generation)
		}
	}
	if !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if macs[0] == macs[1] {
		t.Error("both devices have one MAC")
	}
	for _, dd := range devs {
		addr := net.JoinHostPort(dd.Host, strconv.Itoa(dd.Ports[SvcHTTP]))
		dd.Close()
		if tcpOpen(addr) {
			t.Errorf("%s still serves after Close", dd.Label)
		}
	}
}

// TestDemoClosesWhatItStartedOnError: a device that cannot start closes
// the ones started before it.
func TestDemoClosesWhatItStartedOnError(t *testing.T) {
	var started []*Device
	cfgs := []Config{{RestartDelay: 20 * time.Millisecond}, {Host: "not-an-address"}}
	devs, err := demo(cfgs, func(d *Device) { started = append(started, d) })
	if err == nil || devs != nil {
		t.Fatalf("got %v, %v", devs, err)
	}
	if len(started) != 1 {
		t.Fatalf("started %d", len(started))
	}
	if tcpOpen(started[0].Addr(SvcHTTP)) {
		t.Fatal("the device started first still serves")
	}
}
