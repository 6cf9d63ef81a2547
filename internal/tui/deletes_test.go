package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// previewTelnet opens the telnet step's preview, armed.
func previewTelnet(t *testing.T, f *fakeSession) *harness {
	t.Helper()
	cfg := testConfig(f)
	cfg.TimingOf = timingOf(map[string]Timing{"nport": {Delete: "What is deleted is gone at once."}})
	h := start(t, cfg, f)
	h.connect()
	h.openStep(1, "Disable the Telnet console")
	h.press("x")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device")
	return h
}

// A change the catalog flags Deletes gets the deletion warning, then its
// own armed confirm screen before anything is sent.
func TestFlaggedDeletionWarnsAndConfirms(t *testing.T) {
	f := newFake()
	f.changes = map[string][]steps.Change{"nport.3.1.telnet": {
		{Setting: "Account operator", From: "present", To: "absent", Deletes: true},
		{Setting: "Telnet console", From: "enabled", To: "disabled"},
	}}
	h := previewTelnet(t, f)
	h.d.WaitForText("This deletes: Account operator. What is deleted is gone at once.", "y apply (you confirm the deletion next)")
	h.press("y")
	h.waitArmed("Delete from the device?", "✗ Account operator", "What is deleted is gone at once.", "y delete and apply")
	if contains(h.screen(), "enabled") {
		t.Fatalf("the deletion screen lists a change that deletes nothing:\n%s", h.screen())
	}
	if got := f.called("apply"); len(got) != 0 {
		t.Fatalf("applied before the deletion was confirmed: %v", got)
	}
	// esc goes back to the preview, sending nothing.
	h.key(tea.KeyEscape)
	h.waitArmed("This will change on the device", "This deletes")
	h.press("y")
	h.waitArmed("Delete from the device?")
	h.press("y")
	h.waitFor("Change sent for 3.1 Disable the Telnet console")
	if got := f.called("apply"); len(got) != 1 {
		t.Fatalf("apply calls = %v", got)
	}
}

// Words that sound like a deletion do not make one: without the flag
// there is no warning and y applies at once.
func TestDeletingWordsWithoutFlagDoNotWarn(t *testing.T) {
	f := newFake()
	f.changes = map[string][]steps.Change{"nport.3.1.telnet": {
		{Setting: "Remove legacy ciphers", From: "delete on expiry", To: "(none)"},
		{Setting: "Banner", From: "Welcome", To: ""},
	}}
	h := previewTelnet(t, f)
	h.waitFor("Remove legacy ciphers", "y apply · e edit inputs")
	if s := h.screen(); contains(s, "This deletes") || contains(s, "confirm the deletion") {
		t.Fatalf("an unflagged change was taken for a deletion:\n%s", s)
	}
	h.press("y")
	h.waitFor("Change sent for 3.1 Disable the Telnet console")
	if contains(h.screen(), "Delete from the device?") {
		t.Fatal("the deletion screen appeared")
	}
}

// The deletion confirm screen and the notice of changes awaiting their
// restart fit 80x24 with many entries, and keep their keys on screen.
func TestDeleteAndAwaitScreensFit80x24(t *testing.T) {
	f := newFake()
	m := connected(t, f)
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	var cs []steps.Change
	for i := range 30 {
		cs = append(cs, steps.Change{Setting: "Firewall rule " + itoa(i) + " " + strings.Repeat("x", 90), From: "allow", To: "(gone)", Deletes: true})
	}
	m.sh.busy, m.sh.opSeq = true, m.sh.opSeq+1
	m, _ = upd(t, m, planMsg{seq: m.sh.opSeq, id: m.step.id, changes: cs})
	m, _ = upd(t, armNow(t, m), runeKey('y'))
	m = armNow(t, m)
	checkFits(t, "delete confirmation", m)
	if got := plain(m); !strings.Contains(got, "Delete from the device?") || !strings.Contains(got, "more") || !strings.Contains(got, "y delete and apply") {
		t.Fatalf("delete confirmation:\n%s", got)
	}
	g := newFake()
	for i := range 30 {
		id := "extra." + itoa(i)
		mt := steps.Meta{ID: id, Section: "9." + itoa(i), Title: strings.Repeat("Long title ", 10), Kind: steps.Automatic}
		g.metas = append(g.metas, mt)
		g.results[id] = &steps.Result{Meta: mt, StepID: id, Outcome: steps.Staged}
	}
	a := New(testConfig(g))
	t.Cleanup(a.Close)
	a.screen, a.sh.busy, a.sh.opSeq = scrConnecting, true, 1
	a, _ = upd(t, a, connectedMsg{seq: 1, sess: g})
	a = armNow(t, a)
	checkFits(t, "awaiting restart", a)
	if got := plain(a); a.screen != scrAwaiting || !strings.Contains(got, "30 changes were sent") || !strings.Contains(got, "more") ||
		!strings.Contains(got, "r restart & verify") {
		t.Fatalf("awaiting restart:\n%s", got)
	}
}
