package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

// ovRow is one line of the overview: a group heading or a step.
type ovRow struct {
	heading string
	step    int // index into Steps(); -1 for headings
}

// overviewRows groups the steps by Meta.Group, groups in order of first
// appearance, steps in guide order.
func overviewRows(ms []steps.Meta) []ovRow {
	var order []string
	byGroup := map[string][]int{}
	for i, mt := range ms {
		if _, ok := byGroup[mt.Group]; !ok {
			order = append(order, mt.Group)
		}
		byGroup[mt.Group] = append(byGroup[mt.Group], i)
	}
	var rows []ovRow
	for _, g := range order {
		rows = append(rows, ovRow{heading: groupTitle(g), step: -1})
		for _, i := range byGroup[g] {
			rows = append(rows, ovRow{step: i})
		}
	}
	return rows
}

// stepOrder lists step indexes in the order the overview shows them.
func stepOrder(rows []ovRow) []int {
	var out []int
	for _, r := range rows {
		if r.step >= 0 {
			out = append(out, r.step)
		}
	}
	return out
}

// identityLine is the device's identity, cleaned.
func identityLine(id devices.Identity) string {
	var parts []string
	for _, p := range []string{id.Model, id.Firmware, id.Address, id.Name, id.Serial} {
		if p = printable.String(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return printable.String(id.Family)
	}
	return strings.Join(parts, " · ")
}

// bar draws a progress bar of width w.
func (s styles) bar(done, total, w int) string {
	if total <= 0 {
		total = 1
	}
	w = max(w, 5)
	fill := done * w / total
	return "[" + s.OK.Render(strings.Repeat("█", fill)) + s.Muted.Render(strings.Repeat("░", w-fill)) + "]"
}

// View draws the screen.
func (scr overviewScreen) View(m Model) string {
	s := m.st
	ms := m.sess.Steps()
	rs := m.sess.Results()
	decided := 0
	for _, r := range rs {
		if r.Outcome.Final() {
			decided++
		}
	}
	var b strings.Builder
	b.WriteString(truncate(s.Title.Render("commission")+" "+s.Muted.Render(printable.String(m.sess.Guide())), m.width) + "\n")
	b.WriteString(truncate(identityLine(m.sess.Identity()), m.width) + "\n")
	count := fmt.Sprintf(" %d/%d decided", decided, len(ms))
	b.WriteString(s.bar(decided, len(ms), min(m.width-lipgloss.Width(count)-3, 50)) + count + "\n")
	if n := m.sess.Pending(); n > 0 {
		b.WriteString(s.Info.Render(plural(n, "change", "changes")+" waiting for restart") + s.Muted.Render(" · press ") +
			s.Key.Render("r") + s.Muted.Render(" to restart & verify now") + "\n")
	} else {
		b.WriteString("\n")
	}
	rows := overviewRows(ms)
	order := stepOrder(rows)
	cur := -1
	if len(order) > 0 {
		cur = order[min(scr.cursor, len(order)-1)]
	}
	curRow := 0
	for i, r := range rows {
		if r.step == cur {
			curRow = i
		}
	}
	room := max(m.height-7, 3)
	first := 0
	if curRow >= room {
		first = curRow - room + 1
	}
	if first > 0 && rows[first].step >= 0 && curRow-first < room-1 {
		first-- // keep a heading above when it fits
	}
	for i := first; i < len(rows) && i < first+room; i++ {
		r := rows[i]
		if r.step < 0 {
			b.WriteString(s.Heading.Render(r.heading) + "\n")
			continue
		}
		mt := ms[r.step]
		res := rs[r.step]
		badge := s.badge(res.Outcome)
		badge += strings.Repeat(" ", max(13-lipgloss.Width(badge), 1))
		line := badge + printable.String(mt.Section) + " " + printable.String(mt.Title)
		if r.step == cur {
			b.WriteString(s.Selected.Render(truncate("> "+line, m.width)) + "\n")
		} else {
			b.WriteString(truncate("  "+line, m.width) + "\n")
		}
	}
	if st := m.statusLine(); st != "" || m.busy {
		if m.busy {
			st = m.spin.View() + " Reading the device again…"
		}
		b.WriteString(truncate(st, m.width) + "\n")
	}
	b.WriteString(m.help(m.keys.Move, m.keys.Enter, m.keys.NextOpen, m.keys.Restart, m.keys.Recheck, m.keys.Finish, m.keys.Quit))
	return b.String()
}

// currentStep is the step under the overview's cursor.
func (m Model) currentStep() (steps.Meta, bool) {
	ms := m.sess.Steps()
	order := stepOrder(overviewRows(ms))
	if len(order) == 0 {
		return steps.Meta{}, false
	}
	return ms[order[min(m.ov.cursor, len(order)-1)]], true
}

// Update handles a key on the screen; transitions go through the root.
func (scr *overviewScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if m.busy {
		return nil
	}
	n := len(m.sess.Steps())
	switch {
	case key.Matches(k, m.keys.Quit):
		if m.sess.Pending() > 0 {
			m.confirmQuit = true
			return m.arm()
		}
		return m.do(m.quit())
	case key.Matches(k, m.keys.Up):
		scr.cursor = max(scr.cursor-1, 0)
	case key.Matches(k, m.keys.Down):
		scr.cursor = max(min(scr.cursor+1, n-1), 0)
	case key.Matches(k, m.keys.Home):
		scr.cursor = 0
	case key.Matches(k, m.keys.End):
		scr.cursor = max(n-1, 0)
	case key.Matches(k, m.keys.NextOpen):
		cur, ok := m.currentStep()
		if !ok {
			return nil
		}
		id, ok := cur.ID, isOpen(m.sess.Result(cur.ID).Outcome)
		if next, found := m.nextOpen(cur.ID); found {
			id, ok = next, true
		}
		if !ok {
			m.errText, m.notice = "", "Every step is decided."
			return nil
		}
		scr.cursor = m.cursorOf(id)
	case key.Matches(k, m.keys.Enter):
		if mt, ok := m.currentStep(); ok {
			return m.do(m.openStep(mt.ID))
		}
	case key.Matches(k, m.keys.Restart):
		if m.sess.Pending() == 0 {
			m.errText, m.notice = "", "Nothing is waiting for a restart."
			return nil
		}
		return m.do(m.openRestart())
	case key.Matches(k, m.keys.Recheck):
		ctx, seq := m.startOp(applyTimeout)
		sess := m.sess
		return tea.Batch(m.spin.Tick, func() tea.Msg {
			return opDoneMsg{seq: seq, kind: opRecheck, err: sess.Recheck(ctx)}
		})
	case key.Matches(k, m.keys.Finish):
		return m.do(m.openSummary())
	}
	return nil
}

// cursorOf is the overview cursor position of step id.
func (m Model) cursorOf(id string) int {
	ms := m.sess.Steps()
	for i, si := range stepOrder(overviewRows(ms)) {
		if ms[si].ID == id {
			return i
		}
	}
	return m.ov.cursor
}
