package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

// awaitScreen is the first screen after connecting to a session whose
// changes were sent before an interruption and still wait for their
// restart.
type awaitScreen struct {
	ids []string
}

// View draws the screen.
func (scr awaitScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Changes still waiting for their restart") + "\n\n")
	b.WriteString(m.wrap(identityLine(m.sess.Identity()), 0) + "\n\n")
	b.WriteString(m.wrap(plural(len(scr.ids), "change was", "changes were")+" sent to the device before the session was "+
		"interrupted. They are staged: not effective and not verified until the device restarts and is read again.", 0) + "\n\n")
	room := max(m.height-14, 2)
	for i, id := range scr.ids {
		if i == room-1 && len(scr.ids) > room {
			b.WriteString(s.Muted.Render(fmt.Sprintf("  … and %d more", len(scr.ids)-i)) + "\n")
			break
		}
		b.WriteString(s.Info.Render(truncate("  … staged  "+m.stepLabel(id), m.width)) + "\n")
	}
	b.WriteString("\n" + m.wrap("Restart the device to make them effective and verify them: press r now (you confirm "+
		"first), or r on the overview later.", 0) + "\n\n")
	b.WriteString(m.armHelp(m.keys.Restart, hint("enter", "to the overview")))
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *awaitScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if !m.armed {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Restart):
		return m.do(m.openRestart())
	case key.Matches(k, m.keys.Enter):
		m.screen = scrOverview
	}
	return nil
}

// openRestart asks for a deliberate yes before the device restarts.
func (m Model) openRestart() (tea.Model, tea.Cmd) {
	m.screen = scrRestart
	m.errText, m.notice = "", ""
	return m, m.arm()
}

// View draws the screen.
func (scr restartScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Restart the device now?") + "\n\n")
	b.WriteString(m.wrap(identityLine(m.sess.Identity()), 0) + "\n\n")
	n := m.sess.Pending()
	b.WriteString(m.wrap(plural(n, "staged change takes", "staged changes take")+" effect and is verified with a fresh read:", 0) + "\n")
	var staged []string
	for _, r := range m.sess.Results() {
		if r.Outcome == steps.Staged {
			staged = append(staged, truncate("  "+m.stepLabel(r.StepID), m.width))
		}
	}
	if len(staged) > 6 {
		staged = append(staged[:5], s.Muted.Render(fmt.Sprintf("  … and %d more", len(staged)-5)))
	}
	b.WriteString(strings.Join(staged, "\n") + "\n\n")
	b.WriteString(s.Warn.Render(m.wrap(m.timing().Restart, 0)) + "\n\n")
	b.WriteString(m.wrap("Restart only when the plant can spare the device for that time.", 0) + "\n\n")
	b.WriteString(m.armHelp(hint("y", "restart now"), hint("esc", "not now")))
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *restartScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.Back) {
		m.screen = scrOverview
		m.notice = "Not restarted; the changes stay staged."
		return nil
	}
	if !m.armed {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Yes):
		return m.do(m.startCommit())
	case key.Matches(k, m.keys.No):
		m.screen = scrOverview
		m.notice = "Not restarted; the changes stay staged."
	}
	return nil
}

// startCommit runs the restart and verification in a tea.Cmd.
func (m Model) startCommit() (tea.Model, tea.Cmd) {
	m.commit.ids = nil
	for _, r := range m.sess.Results() {
		if r.Outcome == steps.Staged {
			m.commit.ids = append(m.commit.ids, r.StepID)
		}
	}
	m.commit.log = nil
	m.commit.done = false
	m.screen = scrCommit
	ctx, seq := m.startOp(commitTimeout)
	m.layout()
	sess := m.sess
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opCommit, err: sess.Commit(ctx)}
	})
}

func (m Model) commitContent() string {
	if m.sess == nil {
		return ""
	}
	s := m.st
	var b strings.Builder
	for _, l := range m.commit.log {
		b.WriteString(s.Muted.Render("  "+truncate(l, m.width-3)) + "\n")
	}
	if m.commit.done {
		b.WriteString("\n" + s.Heading.Render("Verified against a fresh read") + "\n")
		titles := map[string]string{}
		for _, mt := range m.sess.Steps() {
			titles[mt.ID] = printable.String(mt.Section) + " " + printable.String(mt.Title)
		}
		for _, id := range m.commit.ids {
			r := m.sess.Result(id)
			badge := s.badge(r.Outcome)
			b.WriteString(truncate(badge+strings.Repeat(" ", max(13-visibleWidth(badge), 1))+titles[id], m.width) + "\n")
			if r.Outcome != steps.Fixed && r.Reason != "" {
				b.WriteString(m.wrap(printable.String(r.Reason), 4) + "\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// View draws the screen.
func (scr commitScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Restart and verify") + "\n")
	if m.busy {
		secs := int(time.Since(m.opStart).Seconds())
		b.WriteString(fmt.Sprintf("%s Restarting the device and verifying %s… %ds\n",
			m.spin.View(), plural(len(scr.ids), "change", "changes"), secs))
	} else {
		b.WriteString(s.Muted.Render("Done.") + "\n")
	}
	b.WriteString("\n" + m.vp.View() + "\n")
	if m.errText != "" {
		b.WriteString(m.clip(s.Bad.Render(m.wrap(m.errText, 0)), 2) + "\n")
	}
	if m.busy {
		b.WriteString(s.Muted.Render(truncate(m.timing().Restart, m.width)))
	} else {
		b.WriteString(m.help(hint("enter", "back to the overview"), hint("↑/↓", "scroll")))
	}
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *commitScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if m.busy {
		return nil
	}
	if key.Matches(k, m.keys.Enter, m.keys.Back, m.keys.Quit) {
		m.screen = scrOverview
		m.errText = ""
		return nil
	}
	m.scroll(k)
	return nil
}
