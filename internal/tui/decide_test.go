package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// upd runs one message through the model.
func upd(t *testing.T, m tea.Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	next, cmd := m.Update(msg)
	return next.(Model), cmd
}

// armNow delivers the arming of the current yes/no screen, as the timer
// would after armDelay.
func armNow(t *testing.T, m Model) Model {
	t.Helper()
	stale, _ := upd(t, m, armMsg(m.sh.armGen-1))
	if stale.sh.armed {
		t.Fatal("an older screen's arming armed this one")
	}
	next, _ := upd(t, m, armMsg(m.sh.armGen))
	if !next.sh.armed {
		t.Fatal("the screen did not arm")
	}
	return next
}

// staged builds a connected model whose telnet step is staged.
func staged(t *testing.T, cfg Config) (Model, *fakeSession) {
	t.Helper()
	f := newFake()
	f.results["nport.3.1.telnet"].Outcome = steps.Staged
	cfg.Connect = testConfig(f).Connect
	m := New(cfg)
	t.Cleanup(m.Close)
	m.screen, m.sh.sess = scrOverview, f
	return m, f
}

// Every yes/no screen that decides something ignores a y that arrives
// before it has been on screen for armDelay, and takes one after.
func TestDecisionScreensIgnoreKeysUntilArmed(t *testing.T) {
	yes := runeKey('y')
	t.Run("trust", func(t *testing.T) {
		trusted := 0
		cfg := testConfig(newFake())
		cfg.Trust = func(string, string) error { trusted++; return nil }
		m := New(cfg)
		t.Cleanup(m.Close)
		m.screen, m.sh.busy, m.sh.opSeq = scrConnecting, true, 1
		m, _ = upd(t, m, connectedMsg{seq: 1, err: fpErr{"127.0.0.1:443", "AB:CD"}})
		if m.screen != scrFingerprint {
			t.Fatalf("screen %d", m.screen)
		}
		m, cmd := upd(t, m, yes)
		if m.sh.busy || cmd != nil {
			t.Fatal("a y typed before the trust screen armed pinned the certificate")
		}
		m, cmd = upd(t, armNow(t, m), yes)
		if !m.sh.busy || cmd == nil {
			t.Fatal("an armed y did not pin")
		}
	})
	t.Run("apply", func(t *testing.T) {
		f := newFake()
		m := connected(t, f)
		m, _ = upd(t, m, runeKey('j'))
		m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
		m.sh.busy, m.sh.opSeq = true, m.sh.opSeq+1
		m, _ = upd(t, m, planMsg{seq: m.sh.opSeq, id: "nport.3.1.telnet", changes: []steps.Change{{Setting: "Telnet", From: "on", To: "off"}}})
		if m.step.mode != stepPreview {
			t.Fatalf("mode %d", m.step.mode)
		}
		m, _ = upd(t, m, yes)
		if m.step.mode != stepPreview {
			t.Fatal("a y typed before the preview armed applied it")
		}
		m, _ = upd(t, armNow(t, m), yes)
		if m.step.mode != stepBusy || m.step.busyWhat != "Applying the change…" {
			t.Fatal("an armed y did not apply")
		}
	})
	t.Run("restart", func(t *testing.T) {
		m, _ := staged(t, Config{})
		m, _ = upd(t, m, runeKey('r'))
		if m.screen != scrRestart {
			t.Fatalf("r went to screen %d, not the restart confirmation", m.screen)
		}
		m, _ = upd(t, m, yes)
		if m.screen != scrRestart {
			t.Fatal("r then y at once restarted the device")
		}
		m, _ = upd(t, armNow(t, m), yes)
		if m.screen != scrCommit || !m.sh.busy {
			t.Fatal("an armed y did not restart")
		}
	})
	t.Run("sign", func(t *testing.T) {
		cfg := testConfig(newFake())
		cfg.Finish = func(context.Context, Session, FinishInfo) (FinishResult, error) { return FinishResult{}, nil }
		m := connected(t, newFake())
		m.sh.cfg = cfg
		m, _ = upd(t, m, runeKey('f'))
		m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
		m.sum.formDone(&m.sh, map[string]string{"technician": "Ada", "email": "a@b.example", "company": "C", "site": "S",
			"signopen": signOpenYes, "reason": "open on purpose"})
		m.sh.form = nil // the form's own Enter would have closed it
		if m.sum.mode != sumConfirm {
			t.Fatalf("mode %d", m.sum.mode)
		}
		m, _ = upd(t, m, yes)
		if m.sum.mode != sumConfirm {
			t.Fatal("a y typed before the read-back armed signed")
		}
		m, _ = upd(t, armNow(t, m), yes)
		if m.sum.mode != sumBusy || !m.sum.finishing {
			t.Fatal("an armed y did not sign")
		}
	})
	t.Run("quit with staged changes", func(t *testing.T) {
		m, _ := staged(t, Config{})
		m, _ = upd(t, m, runeKey('q'))
		if !m.confirmQuit {
			t.Fatal("q with staged changes did not ask")
		}
		m, cmd := upd(t, m, yes)
		if cmd != nil {
			t.Fatal("a y typed before the question armed quit")
		}
		_, cmd = upd(t, armNow(t, m), yes)
		if cmd == nil || cmd() != tea.Quit() {
			t.Fatal("an armed y did not quit")
		}
	})
	t.Run("discovery", func(t *testing.T) {
		calls := 0
		cfg := Config{Discover: func(context.Context, Interface) ([]Candidate, error) { calls++; return nil, nil }}
		m := New(cfg)
		t.Cleanup(m.Close)
		m.screen = scrChoose
		m, _ = upd(t, m, runeKey('d'))
		if m.screen != scrDiscover {
			t.Fatalf("d went to screen %d", m.screen)
		}
		m, _ = upd(t, m, yes)
		if m.devs.loading {
			t.Fatal("a y typed before the discovery screen armed sent the discovery")
		}
		m, _ = upd(t, armNow(t, m), yes)
		if !m.devs.loading || m.screen != scrChoose {
			t.Fatal("an armed y did not start the discovery")
		}
	})
}

// The confirm screens say, per family, when a change takes effect and
// what it interrupts; a plan that deletes says so.
func TestConfirmWordingPerFamily(t *testing.T) {
	cfg := Config{TimingOf: timingOf(map[string]Timing{"nport": {
		Apply:   "The NPort keeps the change until its Save/Restart.",
		Restart: "The NPort saves and restarts: its serial links drop for about 30 s.",
		Delete:  "The rule is gone at once.",
	}})}
	m, _ := staged(t, cfg)
	m, _ = upd(t, m, runeKey('r'))
	if got := plain(m); !strings.Contains(got, "its serial links drop for about 30 s.") || !strings.Contains(got, "1 staged change takes effect") ||
		!strings.Contains(got, "3.1 Disable the Telnet console") {
		t.Fatalf("restart confirmation:\n%s", got)
	}
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEscape})
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	m.sh.busy, m.sh.opSeq = true, m.sh.opSeq+1
	m, _ = upd(t, m, planMsg{seq: m.sh.opSeq, id: m.step.id, changes: []steps.Change{{Setting: "Firewall rule 502/tcp", From: "allow", To: "(deleted)", Deletes: true}}})
	got := plain(armNow(t, m))
	for _, w := range []string{"This deletes: Firewall rule 502/tcp. The rule is gone at once.", "The NPort keeps the change until its Save/Restart.", "y apply (you confirm the deletion next)"} {
		if !strings.Contains(got, w) {
			t.Fatalf("preview lacks %q:\n%s", w, got)
		}
	}
	// Another family without wording gets neutral text, never the NPort's.
	other, _ := staged(t, Config{})
	other.sh.sess.(*fakeSession).family = "kepware"
	other, _ = upd(t, other, runeKey('r'))
	if got := plain(other); strings.Contains(got, "serial") || !strings.Contains(got, "restarts") {
		t.Fatalf("neutral restart wording:\n%s", got)
	}
}

// Discovery sends nothing at start; it runs on request, from the chosen
// interface, after saying what it sends; with discovery off the key is
// not offered.
func TestDiscoveryOnlyOnRequest(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var mu sync.Mutex
	var from []Interface
	cfg.Interfaces = func() ([]Interface, error) {
		return []Interface{{Name: "eth0", Address: "10.0.0.5"}, {Name: "eth1", Address: "192.168.127.10"}}, nil
	}
	cfg.Discover = func(_ context.Context, ifc Interface) ([]Candidate, error) {
		mu.Lock()
		from = append(from, ifc)
		mu.Unlock()
		return []Candidate{{Family: "nport", Label: "NPort 5150A", Address: "192.168.127.254"}}, nil
	}
	cfg.Known = []Candidate{{Family: "kepware", Label: "Demo Kepware", Address: "127.0.0.1"}}
	cfg.DiscoverSends = "one UDP request of 8 bytes to port 4800"
	h := start(t, cfg, f)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.waitFor("Choose the device", "Demo Kepware", "Nothing has been sent", "d discover on the network")
	mu.Lock()
	n := len(from)
	mu.Unlock()
	if n != 0 {
		t.Fatal("discovery ran before it was asked for")
	}
	h.press("d")
	h.waitFor("Send from:", "eth0  10.0.0.5", "eth1  192.168.127.10")
	h.key(tea.KeyDown)
	h.d.WaitForText("This sends one UDP request of 8 bytes to port 4800 from eth1 (192.168.127.10).")
	h.waitArmed("y send it")
	h.press("y")
	h.waitFor("NPort 5150A", "192.168.127.254", "Demo Kepware")
	mu.Lock()
	defer mu.Unlock()
	if len(from) != 1 || from[0].Name != "eth1" {
		t.Fatalf("discovery sent from %+v", from)
	}
}

// A command that does not say what its discovery sends gets a screen
// that says so, naming no family's protocol.
func TestDiscoverySendsUnsaid(t *testing.T) {
	cfg := testConfig(newFake())
	cfg.Discover = func(context.Context, Interface) ([]Candidate, error) { return nil, nil }
	h := start(t, cfg, nil)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.waitFor("d discover on the network")
	h.press("d")
	h.d.WaitForText("This sends a discovery from the interface the system picks; the command did not say what it sends.")
	h.waitArmed("y send it")
	if s := strings.ToLower(h.screen()); strings.Contains(s, "udp") || strings.Contains(s, "moxa") || strings.Contains(s, "4800") {
		t.Fatalf("the discovery screen guesses what is sent:\n%s", h.screen())
	}
}

func TestNoDiscoverTurnsTheKeyOff(t *testing.T) {
	m := New(Config{Families: []string{"nport"}})
	t.Cleanup(m.Close)
	m.screen = scrChoose
	if got := plain(m); strings.Contains(got, "discover") || !strings.Contains(got, "Discovery is off") {
		t.Fatalf("choose screen:\n%s", got)
	}
	m, _ = upd(t, m, runeKey('d'))
	if m.screen != scrChoose {
		t.Fatal("d opened discovery although it is off")
	}
}

// A changed identity met mid-session (the login after the restart, an
// SSH check) stops the session too.
func TestTrustChangedDuringSessionStops(t *testing.T) {
	for _, kind := range []opKind{opApply, opCommit, opRecheck, opAttest} {
		m, _ := staged(t, Config{})
		m.sh.busy, m.sh.opSeq = true, 7
		m, _ = upd(t, m, opDoneMsg{seq: 7, kind: kind, err: fmt.Errorf("log in again after the restart: %w", fpChanged{})})
		if m.screen != scrStop || !m.Summary().Stopped || !errors.Is(m.stopErr(), ErrTrustChanged) {
			t.Fatalf("kind %d: screen %d, summary %+v", kind, m.screen, m.Summary())
		}
		if got := plain(m); !strings.Contains(got, "STOP") || !strings.Contains(got, "DD:EE:FF") {
			t.Fatalf("kind %d:\n%s", kind, got)
		}
		_, cmd := upd(t, m, runeKey('q'))
		if cmd == nil || cmd() != tea.Quit() {
			t.Fatal("q on the STOP screen does not end the session")
		}
	}
}

// timingOf serves Config.TimingOf from a table, for tests.
func timingOf(m map[string]Timing) func(string) Timing {
	return func(family string) Timing { return m[family] }
}
