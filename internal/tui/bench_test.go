package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// BenchmarkFirstFrame is the cost of the wizard's first frame: building
// the model and drawing the welcome screen.
func BenchmarkFirstFrame(b *testing.B) {
	cfg := Config{Version: "bench", Families: []string{"nport"}}
	for b.Loop() {
		m := New(cfg)
		_ = m.View()
		m.Close()
	}
}

// BenchmarkOverviewFrame draws the overview of a connected session.
func BenchmarkOverviewFrame(b *testing.B) {
	m := New(testConfig(newFake()))
	defer m.Close()
	m.screen, m.sh.sess = scrOverview, newFake()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFormKeystroke is one typed key in a form plus the frame after it.
func BenchmarkFormKeystroke(b *testing.B) {
	m := New(Config{Families: []string{"nport"}})
	defer m.Close()
	next, _ := m.route(nil, goTo(scrAddress))
	var tm = next
	k := tea.KeyPressMsg{Code: 'a', Text: "a"}
	bs := tea.KeyPressMsg{Code: tea.KeyBackspace}
	for b.Loop() {
		tm, _ = tm.Update(k)
		tm, _ = tm.Update(bs)
		_ = tm.View()
	}
}
