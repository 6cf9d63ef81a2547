package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// A dismissed preview is cancelled in the engine, whether by esc or n on
// the preview or by esc on the inputs opened from it; an applied one is
// not.
func TestDismissedPreviewIsCancelled(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(1, "Disable the Telnet console")
	h.press("x")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device")
	h.key(tea.KeyEscape)
	h.waitFor("Cancelled; nothing was sent.")
	if got := f.called("cancel"); len(got) != 1 || got[0] != "cancel nport.3.1.telnet" {
		t.Fatalf("cancel calls after esc = %v", got)
	}
	// e on the preview, then esc on the inputs: the preview is dismissed.
	h.press("e")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device")
	h.press("e")
	h.waitFor("Telnet console", "esc cancel")
	h.key(tea.KeyEscape)
	h.waitFor("Cancelled; nothing was sent.", "x fix")
	if got := f.called("cancel"); len(got) != 2 {
		t.Fatalf("cancel calls after esc on the inputs = %v", got)
	}
	// n on the preview cancels too; y applies and cancels nothing.
	h.press("x")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device")
	h.press("n")
	h.waitFor("Cancelled; nothing was sent.")
	h.press("x")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device")
	h.press("y")
	h.waitFor("Change sent for 3.1 Disable the Telnet console")
	if got := f.called("cancel"); len(got) != 3 {
		t.Fatalf("cancel calls = %v, want 3 (esc, esc on the inputs, n)", got)
	}
	if got := f.called("apply"); len(got) != 1 {
		t.Fatalf("apply calls = %v", got)
	}
}

// resumed connects to a session whose telnet and syslog changes were
// sent before an interruption.
func resumed(t *testing.T) (*harness, *fakeSession) {
	t.Helper()
	f := newFake()
	f.results["nport.3.1.telnet"].Outcome = steps.Staged
	f.results["nport.6.1.syslog"].Outcome = steps.Staged
	cfg := testConfig(f)
	cfg.Resume = &ResumeOffer{Label: "NPort 5150A at 127.0.0.1, 2 changes staged", Path: "/j/1.jsonl",
		Target: Target{Family: "nport", Address: "127.0.0.1", User: "admin"}}
	h := start(t, cfg, f)
	h.waitFor("Unfinished session", "r resume")
	h.press("r")
	h.waitFocus("User")
	h.key(tea.KeyEnter)
	h.waitFocus("Password")
	h.typ("secret")
	// An enter typed ahead for the overview must not skip the notice.
	h.burst("{enter}{enter}")
	return h, f
}

// After a resume, the first screen says which staged changes still wait
// for their restart, before the overview, and r leads to the restart.
func TestResumeSaysWhatAwaitsRestart(t *testing.T) {
	h, f := resumed(t)
	h.waitArmed("Changes still waiting for their restart", "2 changes were sent to the device before the session was",
		"… staged  3.1 Disable the Telnet console", "… staged  6.1 Send events to syslog", "r restart & verify")
	if contains(h.screen(), "decided") || contains(h.screen(), "2.1 Change the admin password") {
		t.Fatalf("the overview shows before the notice:\n%s", h.screen())
	}
	h.press("r")
	h.waitArmed("Restart the device now?", "2 staged changes take effect")
	h.press("y")
	h.waitFor("Verified against a fresh read", "✓ fixed")
	if got := f.called("commit"); len(got) != 1 {
		t.Fatalf("commit calls = %v", got)
	}
}

// enter on the notice goes to the overview, where the restart waits.
func TestResumeNoticeThenOverview(t *testing.T) {
	h, f := resumed(t)
	h.waitArmed("Changes still waiting for their restart", "q quit")
	h.press("q")
	h.waitFor("2 changes are sent but not verified until a restart.")
	h.waitFor("Quit anyway? y/n")
	h.press("n")
	h.waitGone("Quit anyway")
	h.key(tea.KeyEnter)
	h.waitFor("decided", "2 changes waiting for restart")
	if got := f.called("commit"); len(got) != 0 {
		t.Fatalf("commit calls = %v", got)
	}
}
