package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/commission-tool/commission/internal/steps"
)

func press(m tea.Model, keys ...tea.KeyPressMsg) tea.Model {
	for _, k := range keys {
		m, _ = m.Update(k)
	}
	return m
}

func runeKey(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

// connected builds a model already on the overview, without a program.
func connected(t *testing.T, f *fakeSession) Model {
	t.Helper()
	m := New(testConfig(f))
	t.Cleanup(m.Close)
	m.screen = scrOverview
	m.sh.sess = f
	return m
}

func plain(m tea.Model) string { return ansi.Strip(m.View().Content) }

// checkFits fails when a frame does not fit 80x24.
func checkFits(t *testing.T, name string, m tea.Model) {
	t.Helper()
	content := m.View().Content
	lines := strings.Split(content, "\n")
	if len(lines) > 24 {
		t.Errorf("%s: %d lines, want at most 24", name, len(lines))
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("%s: line %d is %d cells wide: %q", name, i, w, ansi.Strip(l))
		}
	}
}

func TestOverviewKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []tea.KeyPressMsg
		want string // the selected row shows this
	}{
		{"start", nil, "> ! deviation  2.1"},
		{"down", []tea.KeyPressMsg{{Code: tea.KeyDown}}, "> ! deviation  3.1"},
		{"j twice", []tea.KeyPressMsg{runeKey('j'), runeKey('j')}, "> ! deviation  4.1"},
		{"k stops at top", []tea.KeyPressMsg{runeKey('k'), runeKey('k')}, "> ! deviation  2.1"},
		{"down past end", []tea.KeyPressMsg{runeKey('j'), runeKey('j'), runeKey('j'), runeKey('j'), runeKey('j'), runeKey('j'), runeKey('j')}, "> ? manual     7.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := press(connected(t, newFake()), tt.keys...)
			if got := plain(m); !strings.Contains(got, tt.want) {
				t.Fatalf("want %q in\n%s", tt.want, got)
			}
		})
	}
}

func TestStepKeysOfferOnlyValidActions(t *testing.T) {
	tests := []struct {
		down    int
		want    []string
		notWant []string
	}{
		{0, []string{"x fix", "w waive"}, []string{"a attest"}},                     // automatic deviation
		{3, []string{"esc back"}, []string{"x fix", "w waive"}},                     // compliant
		{5, []string{"a attest", "w waive"}, []string{"x fix"}},                     // manual
		{2, []string{"- not applicable", "n next open"}, []string{"e edit inputs"}}, // nothing planned yet
	}
	for _, tt := range tests {
		m := tea.Model(connected(t, newFake()))
		for range tt.down {
			m = press(m, runeKey('j'))
		}
		m = press(m, tea.KeyPressMsg{Code: tea.KeyEnter})
		got := plain(m)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("row %d: want %q in\n%s", tt.down, w, got)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(got, w) {
				t.Errorf("row %d: did not want %q in\n%s", tt.down, w, got)
			}
		}
		// An action key that is not offered does nothing.
		if tt.down == 3 {
			m = press(m, runeKey('w'))
			if strings.Contains(plain(m), "Why do you waive") {
				t.Error("waive opened on a compliant step")
			}
		}
	}
}

func TestScreensFit80x24(t *testing.T) {
	f := newFake()
	long := strings.Repeat("A very long explanation of the trade-off. ", 40)
	f.metas[0].Why = long
	f.metas[0].Caution = long
	for i := range 30 {
		id := "extra." + string(rune('a'+i%26)) + string(rune('a'+i/26))
		m := steps.Meta{ID: id, Section: "9." + id, Group: "logging", Title: strings.Repeat("Long title ", 12), Kind: steps.Automatic}
		f.metas = append(f.metas, m)
		f.results[id] = &steps.Result{Meta: m, StepID: id, Outcome: steps.Deviation, Reason: long}
	}
	m := tea.Model(connected(t, f))
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	checkFits(t, "overview", m)
	for range 25 {
		m = press(m, runeKey('j'))
	}
	checkFits(t, "overview scrolled", m)
	if !strings.Contains(plain(m), "> ") {
		t.Error("the cursor row scrolled out of sight")
	}
	m = press(m, tea.KeyPressMsg{Code: tea.KeyEnter})
	checkFits(t, "step", m)
	for range 30 {
		m = press(m, runeKey('k'))
	}
	m = press(m, tea.KeyPressMsg{Code: tea.KeyEscape}, runeKey('f'))
	checkFits(t, "summary", m)
	if !strings.Contains(plain(m), "write the signed record") {
		t.Errorf("summary help cut off:\n%s", plain(m))
	}
	w := New(Config{Version: "v1", Resume: &ResumeOffer{Label: "NPort at 127.0.0.1, 3 of 12 steps"}})
	defer w.Close()
	checkFits(t, "welcome", w)
}

func TestResumeOpensCredentials(t *testing.T) {
	m := New(Config{Resume: &ResumeOffer{Label: "NPort 5150A at 127.0.0.1",
		Target: Target{Family: "nport", Address: "127.0.0.1", User: "admin"}}})
	defer m.Close()
	if !strings.Contains(plain(m), "NPort 5150A at 127.0.0.1") {
		t.Fatalf("no resume offer:\n%s", plain(m))
	}
	next := press(m, runeKey('r'))
	if got := plain(next); !strings.Contains(got, "Log in to 127.0.0.1") {
		t.Fatalf("resume did not ask for the password:\n%s", got)
	}
}

func TestResumeWithPasswordConnectsInCmd(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	calls := 0
	inner := cfg.Connect
	cfg.Connect = func(ctx context.Context, tg Target, rep steps.Reporter) (Session, error) {
		calls++
		return inner(ctx, tg, rep)
	}
	cfg.Resume = &ResumeOffer{Label: "x", Target: Target{Address: "127.0.0.1", User: "admin", Password: "p"}}
	m := New(cfg)
	defer m.Close()
	next, cmd := m.Update(runeKey('r'))
	if calls != 0 {
		t.Fatal("Connect ran inside Update")
	}
	if !strings.Contains(plain(next), "Connecting to 127.0.0.1") || cmd == nil {
		t.Fatalf("no connecting screen:\n%s", plain(next))
	}
}

func TestValidAddress(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.1:8443", true},
		{"nport-line3.plant.local", true},
		{"nport", true},
		{"", false},
		{"::1", false},
		{"256.1.1.1", false},
		{"1.2.3", false},
		{"bad_host", false},
		{"host:port", false},
		{"-lead.example", false},
		{"127.0.0.999", false},     // a malformed IP literal never goes to DNS
		{"127.0.0.999:443", false}, // nor with a port
		{"10.1.2.3:0x1bb", false},  // the port is decimal
		{"nport.plant.local:8443", true},
		{"[::1]:443", false}, // IPv4 only
	}
	for _, tt := range tests {
		if err := validAddress(tt.in); (err == nil) != tt.ok {
			t.Errorf("validAddress(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestHubDeliversInOrderAndStops(t *testing.T) {
	h := newHub()
	h.Report(steps.Event{Kind: steps.DeviceProgress, Message: "one"})
	h.Report(steps.Event{Kind: steps.DeviceProgress, Message: "two"})
	msg := h.listen()()
	evs, ok := msg.(eventsMsg)
	if !ok || len(evs) != 2 || evs[0].Message != "one" || evs[1].Message != "two" {
		t.Fatalf("got %#v", msg)
	}
	h.close()
	if msg := h.listen()(); msg != nil {
		t.Fatalf("listen after close = %#v", msg)
	}
}

func TestResumePathReachesConnect(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var got Target
	cfg.Connect = func(_ context.Context, tg Target, _ steps.Reporter) (Session, error) {
		got = tg
		return f, nil
	}
	cfg.Resume = &ResumeOffer{Label: "x", Path: "/j/1.jsonl", Target: Target{Address: "127.0.0.1", User: "admin", Password: "p"}}
	m := New(cfg)
	defer m.Close()
	_, cmd := m.Update(runeKey('r'))
	// The connect runs in one of the batch's commands, not in Update.
	for _, c := range cmd().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		if msg, ok := c().(connectedMsg); ok && msg.err == nil {
			break
		}
	}
	if got.ResumePath != "/j/1.jsonl" || got.Address != "127.0.0.1" {
		t.Fatalf("connect target = %+v", got)
	}
}

func TestSummaryString(t *testing.T) {
	s := Summary{Connected: true, Total: 3, Finished: true, Dir: "/r",
		Counts: map[steps.Outcome]int{steps.Fixed: 2, steps.Waived: 1}}
	if got := s.String(); got != "3 steps: 2 fixed, 1 waived; record written to /r" {
		t.Fatalf("got %q", got)
	}
	if got := (Summary{}).String(); got != "no device was commissioned" {
		t.Fatalf("got %q", got)
	}
}
