package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// TestWizardDiscoversOnlyWhenAsked_Simulator: the wizard sends nothing
// until the technician asks for discovery and says yes; then it sends to
// the injected destination (loopback here, the broadcast address in the
// field) and lists what answered. Every destination is checked by
// transport.LoopbackOnly, so a broadcast would fail the test.
func TestWizardDiscoversOnlyWhenAsked_Simulator(t *testing.T) {
	np, err := simnport.Start(simnport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer np.Close()
	seen := recordDestinations(t)
	tmp := t.TempDir()
	pins, err := transport.OpenPins(filepath.Join(tmp, "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	target := np.Addr(simnport.SvcMoxaUDP)
	a := &app{pins: pins, journalDir: tmp, outDir: tmp, timeout: 2 * time.Second, mode: "wizard",
		discover: discovery(target, 500*time.Millisecond), discoverSends: discoverySends(target),
		ports: func(string, string) map[string]int { return nil }}
	cfg := a.config()
	cfg.Interfaces = nil // the system picks: the injected destination is used
	cfg.Version, cfg.NoColor = "test", true
	d := startWizard(t, cfg)
	d.waitFor(5*time.Second, "commission")
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Choose the device")
	if s := seen(); len(s) > 0 {
		t.Fatalf("the wizard sent before being asked: %q", s)
	}
	d.press("d")
	d.WaitArmed("Look for devices on the network", target)
	if s := seen(); len(s) > 0 {
		t.Fatalf("the discovery screen sent before the yes: %q", s)
	}
	d.press("y")
	d.waitFor(5*time.Second, "Choose the device", "via "+target)
	got := seen()
	if len(got) == 0 || !strings.Contains(strings.Join(got, " "), target) {
		t.Errorf("destinations %q, want the injected %s", got, target)
	}
}

// TestWizardFlags: --no-discover leaves the wizard without discovery;
// --address and --device list the device at start; a malformed address
// or broadcast is refused before anything runs.
func TestWizardFlags(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	seen := recordDestinations(t)
	pins := filepath.Join(t.TempDir(), "known_devices")
	var stderr strings.Builder
	a, err := newWizardApp([]string{"--pins", pins, "--no-discover"}, &stderr)
	if err != nil || a == nil {
		t.Fatal(err)
	}
	if cfg := a.config(); a.discover != nil || cfg.Discover != nil || cfg.Interfaces != nil {
		t.Error("--no-discover still offers discovery")
	}
	a, err = newWizardApp([]string{"--pins", pins}, &stderr)
	if err != nil || a.discover == nil || !strings.Contains(a.discoverSends, defaultBroadcast) {
		t.Fatalf("default: %v, discovery %v %q", err, a.discover != nil, a.discoverSends)
	}
	a, err = newWizardApp([]string{"--pins", pins, "--device", "kepware", "--address", "10.0.0.5:57513"}, &stderr)
	if err != nil || len(a.known) != 1 || a.known[0].Address != "10.0.0.5:57513" || a.known[0].Family != "kepware" {
		t.Fatalf("--address: %v %+v", err, a)
	}
	for _, args := range [][]string{
		{"--device", "nport", "--address", "127.0.0.999"},
		{"--address", "10.0.0.5"},
		{"--device", "toaster", "--address", "10.0.0.5"},
		{"--broadcast", "1.2.3:4800"},
		{"--broadcast", "example.org"},
		{"--broadcast", "[::1]:4800"},
		{"stray"},
	} {
		if _, err := newWizardApp(append([]string{"--pins", pins}, args...), &stderr); codeOf(err) != ExitError {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if s := seen(); len(s) > 0 {
		t.Errorf("reading the flags sent: %q", s)
	}
}

// TestTypedAddressPortGoesToMainService: a typed HOST:PORT reaches the
// family's main service; a typed malformed address is refused before
// any lookup.
func TestTypedAddressPortGoesToMainService(t *testing.T) {
	seen := recordDestinations(t)
	tmp := t.TempDir()
	pins, _ := transport.OpenPins(filepath.Join(tmp, "known_devices"))
	a := &app{pins: pins, journalDir: tmp, outDir: tmp, timeout: 200 * time.Millisecond, mode: "wizard",
		ports: func(string, string) map[string]int { return nil }}
	_, err := a.connect(context.Background(), tui.Target{Family: "nport", Address: "127.0.0.999", User: "admin", Password: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "not a number from 0 to 255") {
		t.Errorf("typed 127.0.0.999: %v", err)
	}
	if s := seen(); len(s) > 0 {
		t.Errorf("a malformed typed address reached the network: %q", s)
	}
	// A closed loopback port as HOST:PORT: the error names that port,
	// so the port went to the HTTPS console.
	_, err = a.connect(context.Background(), tui.Target{Family: "nport", Address: "127.0.0.1:1", User: "admin", Password: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("typed 127.0.0.1:1: %v, want the port in the error", err)
	}
}

func TestInterfaceBroadcast(t *testing.T) {
	if got := interfaceBroadcast(tui.Interface{Name: "lo", Address: "127.0.0.1"}); got != "127.255.255.255" {
		t.Errorf("loopback /8 broadcast = %q", got)
	}
	if got := interfaceBroadcast(tui.Interface{}); got != "" {
		t.Errorf("no interface: %q", got)
	}
}

// TestDiscoverySendsFromTheChosenInterface_Simulator: the wizard's
// discovery sends from the address of the interface the technician
// picked (a second loopback address here), not from whatever the system
// chooses, and lists what answered with the family that answered.
func TestDiscoverySendsFromTheChosenInterface_Simulator(t *testing.T) {
	np, err := simnport.Start(simnport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer np.Close()
	target := np.Addr(simnport.SvcMoxaUDP)
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		cs, err := discovery(target, 300*time.Millisecond)(context.Background(), tui.Interface{Name: "lo", Address: from})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Family != "nport" || !strings.Contains(cs[0].Detail, "via "+target) {
			t.Errorf("from %s: candidates %+v", from, cs)
		}
		senders := np.MoxaUDPSenders()
		if len(senders) == 0 || senders[len(senders)-1].String() != from {
			t.Errorf("the request came from %v, want the chosen %s", senders, from)
		}
	}
}
