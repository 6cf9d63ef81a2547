package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// Home, End and n move the overview's cursor without walking row by row.
func TestOverviewHomeEndNextOpen(t *testing.T) {
	f := newFake()
	f.results["nport.3.1.telnet"].Outcome = steps.Waived
	m := connected(t, f)
	cur := func(m Model) string { mt, _ := m.ov.current(&m.sh); return mt.ID }
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnd})
	if cur(m) != "nport.7.1.firmware" {
		t.Fatalf("end: %s", cur(m))
	}
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyHome})
	if cur(m) != "nport.2.1.password" {
		t.Fatalf("home: %s", cur(m))
	}
	// n skips the waived 3.1 and the compliant 5.1.
	want := []string{"nport.4.1.allowlist", "nport.6.1.syslog", "nport.7.1.firmware", "nport.2.1.password"}
	for _, w := range want {
		m, _ = upd(t, m, runeKey('n'))
		if cur(m) != w {
			t.Fatalf("n: %s, want %s", cur(m), w)
		}
	}
	if !strings.Contains(plain(m), "n next open") {
		t.Fatalf("overview help lacks n:\n%s", plain(m))
	}
	// On a step, n opens the next open step.
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	m, _ = upd(t, m, runeKey('n'))
	if m.screen != scrStep || m.step.id != "nport.4.1.allowlist" {
		t.Fatalf("n on a step opened %q", m.step.id)
	}
}

// A form has one help line, and every label stays on screen while the
// fields fit in 80x24.
func TestFormOneHelpLineAndLabelsStay(t *testing.T) {
	f := newFake()
	var in []steps.Input
	for _, l := range []string{"Account name", "Password", "Confirm password", "Level", "Remark"} {
		in = append(in, steps.Input{Key: strings.ToLower(l), Label: l, Help: "Help for " + l})
	}
	in[3].Options = []string{"admin", "user"}
	f.metas[0].Inputs = in
	m := connected(t, f)
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	m, _ = upd(t, m, runeKey('x'))
	for range 4 {
		m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	}
	checkFits(t, "form", m)
	got := plain(m)
	for _, l := range []string{"Account name", "Password", "Confirm password", "Level", "Remark"} {
		if !strings.Contains(got, l) {
			t.Errorf("label %q scrolled off:\n%s", l, got)
		}
	}
	if n := strings.Count(got, "esc cancel"); n != 1 {
		t.Errorf("%d help lines with esc, want 1:\n%s", n, got)
	}
	if !strings.Contains(got, "Help for Remark") || strings.Contains(got, "Help for Account name") {
		t.Errorf("only the focused field's help is shown:\n%s", got)
	}
}

// A long reason is typed in a multi-line field and reaches the engine
// whole, line breaks included.
func TestReasonIsMultiline(t *testing.T) {
	f := newFake()
	m := connected(t, f)
	for range 4 {
		m, _ = upd(t, m, runeKey('j'))
	}
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	m, _ = upd(t, m, runeKey('w'))
	for _, r := range "first line" {
		m, _ = upd(t, m, runeKey(r))
	}
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt})
	for _, r := range "second line" {
		m, _ = upd(t, m, runeKey(r))
	}
	if got := plain(m); !strings.Contains(got, "first line") || !strings.Contains(got, "second line") || !strings.Contains(got, "alt+enter new line") {
		t.Fatalf("reason field:\n%s", got)
	}
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	for _, r := range "J. Smith, OT security" {
		m, _ = upd(t, m, runeKey(r))
	}
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	for _, r := range "2099-12-31" {
		m, _ = upd(t, m, runeKey(r))
	}
	m, cmd := upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	if m.step.mode != stepBusy || cmd == nil {
		t.Fatal("enter did not record the reason")
	}
	// The decision runs in a command (it writes the journal), not in Update.
	if got := f.called("waived"); len(got) != 0 {
		t.Fatalf("Waive ran inside Update: %v", got)
	}
	for _, c := range cmd().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		if msg, ok := c().(opDoneMsg); ok {
			m, _ = upd(t, m, msg)
		}
	}
	if got := f.called("waived nport.6.1.syslog first line\nsecond line"); len(got) != 1 {
		t.Fatalf("waive calls = %q", f.called("waived"))
	}
}

// The new screens fit 80x24 and say what they are for.
func TestNewScreensFit80x24(t *testing.T) {
	cfg := Config{Discover: func(context.Context, Interface) ([]Candidate, error) { return nil, nil },
		Interfaces: func() ([]Interface, error) { return nil, nil }}
	m, _ := staged(t, cfg)
	m, _ = upd(t, m, runeKey('r'))
	checkFits(t, "restart confirmation", m)
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEscape})
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	m.sh.busy, m.sh.opSeq = true, m.sh.opSeq+1
	var cs []steps.Change
	for i := range 12 {
		cs = append(cs, steps.Change{Setting: "Setting " + strings.Repeat("x", i*4), From: "old value", To: strings.Repeat("new ", i)})
	}
	m, _ = upd(t, m, planMsg{seq: m.sh.opSeq, id: m.step.id, changes: cs})
	m = armNow(t, m)
	checkFits(t, "long preview", m)
	if got := plain(m); !strings.Contains(got, "Setting") || !strings.Contains(got, "After") || !strings.Contains(got, "y apply") || !strings.Contains(got, "0 lines above") {
		t.Fatalf("preview:\n%s", got)
	}
	for range 40 {
		m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyDown})
	}
	if got := plain(m); !strings.Contains(got, ", 0 below") || !strings.Contains(got, "new new new new new new new new new new new") {
		t.Fatalf("the preview does not scroll to its end:\n%s", got)
	}
	d := New(cfg)
	t.Cleanup(d.Close)
	d.screen = scrChoose
	d, _ = upd(t, d, runeKey('d'))
	d, _ = upd(t, d, interfacesMsg{list: []Interface{{Name: "eth0", Address: "10.0.0.5"}}})
	checkFits(t, "discovery", d)
}
