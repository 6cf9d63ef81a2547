package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// previewTelnet opens the telnet step's preview, armed.
func previewTelnet(t *testing.T, f *fakeSession) *harness {
	t.Helper()
	cfg := testConfig(f)
	cfg.Timing = map[string]Timing{"nport": {Delete: "What is deleted is gone at once."}}
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
