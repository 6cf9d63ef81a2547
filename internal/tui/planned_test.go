package tui

import (
	"context"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
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

// plannedFake is a session that fills inputs from a site plan, as the
// command's planned engine does.
type plannedFake struct {
	*fakeSession
	plan map[string]steps.Values
}

func (p plannedFake) FromPlan(id string) steps.Values { return p.plan[id] }

func (p plannedFake) Defaults(id string) steps.Values {
	out := p.fakeSession.Defaults(id)
	for k, v := range p.plan[id] {
		out[k] = v
	}
	return out
}

// A session that says what the plan gives (FromPlan) needs no
// Config.Planned: its planned inputs are marked, against the plan's own
// values.
func TestPlannedFromTheSession(t *testing.T) {
	f := newFake()
	pf := plannedFake{fakeSession: f, plan: map[string]steps.Values{"nport.4.1.allowlist": {"allow": "10.0.0.0/8,127.0.0.1/32"}}}
	cfg := testConfig(f)
	cfg.Connect = func(_ context.Context, _ Target, rep steps.Reporter) (Session, error) {
		f.rep = rep
		return pf, nil
	}
	h := start(t, cfg, f)
	h.connect()
	h.openStep(2, "Restrict access with the allow list")
	h.press("x")
	h.waitFor("Allowed network  · from the site plan", "10.0.0.0/8,127.0.0.1/32")
	h.key(tea.KeyBackspace)
	h.waitFor("Allowed network  · changed in the field", "the site plan says: 10.0.0.0/8,127.0.0.1/32")
}
