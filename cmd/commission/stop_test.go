package main

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/transport/sshconn"
	"github.com/commission-tool/commission/internal/tui"
	"github.com/commission-tool/commission/internal/tui/tuitest"
)

// The wizard's STOP screen recognises both changed identities through a
// contract the compiler checks.
var (
	_ tui.TrustChangedError = (*transport.FingerprintChangedError)(nil)
	_ tui.TrustChangedError = (*sshconn.HostKeyChangedError)(nil)
)

// TestWizardStopsOnChangedPin_Simulator drives the real wizard, the real
// NPort driver and the simulated NPort with a wrong stored pin: the STOP
// screen shows both fingerprints, offers no login form, and the session
// ends with ExitTrustChanged.
func TestWizardStopsOnChangedPin_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	tmp := t.TempDir()
	pins, err := transport.OpenPins(filepath.Join(tmp, "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	dev := lab.first("nport")
	hp := net.JoinHostPort(dev.Address, strconv.Itoa(dev.Ports["https"]))
	const wrongPin = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if err := pins.Trust(hp, wrongPin); err != nil {
		t.Fatal(err)
	}
	a := &app{pins: pins, journalDir: filepath.Join(tmp, "sessions"), outDir: tmp, timeout: 2 * time.Second, mode: "wizard",
		known: []tui.Candidate{{Family: "nport", Address: dev.Address, Label: "Simulated NPort 5150A"}},
		ports: func(string, string) map[string]int { return dev.Ports },
	}
	cfg := a.config()
	cfg.Version, cfg.NoColor = "test", true
	var mu sync.Mutex
	var connectErrs []error
	connect := cfg.Connect
	cfg.Connect = func(ctx context.Context, tg tui.Target, rep steps.Reporter) (tui.Session, error) {
		s, err := connect(ctx, tg, rep)
		mu.Lock()
		connectErrs = append(connectErrs, err)
		mu.Unlock()
		return s, err
	}
	m := tui.New(cfg)
	t.Cleanup(func() { m.Close() })
	d := tuitest.Start(t, m)

	d.WaitFor("commission")
	d.Key(tea.KeyEnter)
	d.WaitFor("Choose the device", "Simulated NPort 5150A")
	d.Key(tea.KeyEnter)
	d.WaitFocus("User")
	d.Key(tea.KeyEnter)
	d.WaitFocus("Password")
	d.Press(dev.Password)
	d.Key(tea.KeyEnter)
	d.WaitFor("STOP")
	screen := d.Screen()
	seen := ""
	for i, arg := range dev.AuditArgs {
		if arg == "--fingerprint" {
			seen = dev.AuditArgs[i+1]
		}
	}
	if seen == "" {
		t.Fatal("the lab gave no fingerprint for the simulated NPort")
	}
	flat := strings.Join(strings.Fields(screen), "")
	for _, want := range []string{wrongPin, seen} {
		if !strings.Contains(flat, want) {
			t.Errorf("the STOP screen does not show %s:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "Password") {
		t.Errorf("the STOP screen offers the login form:\n%s", screen)
	}
	// Nothing the technician types resumes the session.
	d.Key(tea.KeyEnter)
	d.Key(tea.KeyEscape)
	d.WaitFor("STOP")
	d.Press("q")
	fm, ok := d.Final(10 * time.Second).(tui.Model)
	if !ok {
		t.Fatal("the final model is not the wizard's")
	}
	sum := fm.Summary()
	if !sum.Stopped || sum.Connected {
		t.Fatalf("summary %+v: want stopped, not connected", sum)
	}
	if code := codeOf(wizardOutcome(sum, nil)); code != ExitTrustChanged {
		t.Errorf("the STOP screen ends with exit %d, want %d", code, ExitTrustChanged)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(connectErrs) != 1 {
		t.Fatalf("%d connection attempts, want 1 (no retry after STOP)", len(connectErrs))
	}
	var tc tui.TrustChangedError
	if !errors.As(connectErrs[0], &tc) {
		t.Fatalf("the driver's error %v does not carry TrustChanged", connectErrs[0])
	}
	if subj, pinned, got := tc.TrustChanged(); subj != hp || pinned != wrongPin || got != seen {
		t.Errorf("TrustChanged() = %q %q %q, want %q %q %q", subj, pinned, got, hp, wrongPin, seen)
	}
	// What Run returns after the STOP screen maps to the same code.
	stopped := &tui.StoppedError{Subject: hp, Pinned: wrongPin, Seen: seen, Cause: connectErrs[0]}
	if code := codeOf(wizardOutcome(sum, stopped)); code != ExitTrustChanged {
		t.Errorf("Run's STOP error ends with exit %d, want %d", code, ExitTrustChanged)
	}
}
