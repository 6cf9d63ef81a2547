package tui

import (
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// A default from the site plan is marked so in the form; the technician
// can still edit it, and an edited value is marked changed in the field,
// with the plan's value beside it. Inputs the plan does not set carry no
// mark.
func TestPlannedValuesAreMarked(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var mu sync.Mutex
	var asked []string
	cfg.Planned = func(id string) map[string]bool {
		mu.Lock()
		asked = append(asked, id)
		mu.Unlock()
		if id == "nport.4.1.allowlist" {
			return map[string]bool{"allow": true}
		}
		return nil
	}
	h := start(t, cfg, f)
	h.connect()
	h.openStep(2, "Restrict access with the allow list")
	h.press("x")
	h.waitFor("Allowed network  · from the site plan", "192.168.1.0/24")
	if contains(h.screen(), "changed in the field") {
		t.Fatalf("an unedited plan value is marked changed:\n%s", h.screen())
	}
	h.typ(",127.0.0.1/32")
	h.waitFor("Allowed network  · changed in the field", "the site plan says: 192.168.1.0/24")
	for range len(",127.0.0.1/32") {
		h.key(tea.KeyBackspace)
	}
	h.waitFor("Allowed network  · from the site plan")
	h.waitGone("the site plan says")
	h.typ(",127.0.0.1/32")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device", "192.168.1.0/24,127.0.0.1/32")
	if in := f.planned1("nport.4.1.allowlist"); in["allow"] != "192.168.1.0/24,127.0.0.1/32" {
		t.Fatalf("the edited value did not reach the plan: %v", in)
	}
	// Back to the inputs from the preview: the edited value is still
	// marked as changed against the plan.
	h.press("e")
	h.waitFor("Allowed network  · changed in the field", "the site plan says: 192.168.1.0/24")
	h.key(tea.KeyEscape)
	h.waitFor("Cancelled; nothing was sent.")
	h.key(tea.KeyEscape)
	h.waitFor("decided")
	h.key(tea.KeyUp) // the cursor stayed on 4.1
	h.waitFor("> ! deviation  3.1")
	h.key(tea.KeyEnter)
	h.waitFor("Disable the Telnet console", "esc back")
	h.press("x")
	h.waitFor("Telnet console", "disabled")
	if s := h.screen(); contains(s, "site plan") || contains(s, "changed in the field") {
		t.Fatalf("an input the plan does not set is marked:\n%s", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(asked, " ") != "nport.4.1.allowlist nport.4.1.allowlist nport.3.1.telnet" {
		t.Fatalf("Planned asked for %v", asked)
	}
}
