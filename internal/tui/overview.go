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

// overviewScreen lists the steps by group.
type overviewScreen struct {
	cursor int
}

// open shows the overview; reset puts the cursor on the first step.
func (scr *overviewScreen) open(reset bool) {
	if reset {
		scr.cursor = 0
	}
}

// View draws the screen.
func (scr overviewScreen) View(sh *shell) string {
	s := sh.st
	ms := sh.sess.Steps()
	rs := sh.sess.Results()
	decided := 0
	for _, r := range rs {
		if r.Outcome.Final() {
			decided++
		}
	}
	var b strings.Builder
	b.WriteString(truncate(s.Title.Render("commission")+" "+s.Muted.Render(printable.String(sh.sess.Guide())), sh.width) + "\n")
	b.WriteString(truncate(identityLine(sh.sess.Identity()), sh.width) + "\n")
	count := fmt.Sprintf(" %d/%d decided", decided, len(ms))
	b.WriteString(s.bar(decided, len(ms), min(sh.width-lipgloss.Width(count)-3, 50)) + count + "\n")
	if n := sh.sess.Pending(); n > 0 {
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
	room := max(sh.height-7, 3)
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
			b.WriteString(s.Selected.Render(truncate("> "+line, sh.width)) + "\n")
		} else {
			b.WriteString(truncate("  "+line, sh.width) + "\n")
		}
	}
	if st := sh.statusLine(); st != "" || sh.busy {
		if sh.busy {
			st = sh.spin.View() + " Reading the device again…"
		}
		b.WriteString(truncate(st, sh.width) + "\n")
	}
	k := sh.keys
	b.WriteString(sh.help(k.Move, k.Enter, k.NextOpen, k.Restart, k.Recheck, k.Finish, k.Quit))
	return b.String()
}

// current is the step under the cursor.
func (scr overviewScreen) current(sh *shell) (steps.Meta, bool) {
	ms := sh.sess.Steps()
	order := stepOrder(overviewRows(ms))
	if len(order) == 0 {
		return steps.Meta{}, false
	}
	return ms[order[min(scr.cursor, len(order)-1)]], true
}

// Update handles a key on the screen.
func (scr *overviewScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if sh.busy {
		return nil, nav{}
	}
	n := len(sh.sess.Steps())
	switch {
	case key.Matches(k, sh.keys.Quit):
		if sh.sess.Pending() > 0 {
			return nil, nav{askQuit: true}
		}
		return nil, nav{quit: true}
	case key.Matches(k, sh.keys.Up):
		scr.cursor = max(scr.cursor-1, 0)
	case key.Matches(k, sh.keys.Down):
		scr.cursor = max(min(scr.cursor+1, n-1), 0)
	case key.Matches(k, sh.keys.Home):
		scr.cursor = 0
	case key.Matches(k, sh.keys.End):
		scr.cursor = max(n-1, 0)
	case key.Matches(k, sh.keys.NextOpen):
		cur, ok := scr.current(sh)
		if !ok {
			return nil, nav{}
		}
		id, ok := cur.ID, isOpen(sh.sess.Result(cur.ID).Outcome)
		if next, found := sh.nextOpen(cur.ID); found {
			id, ok = next, true
		}
		if !ok {
			sh.errText, sh.notice = "", "Every step is decided."
			return nil, nav{}
		}
		scr.cursor = scr.cursorOf(sh, id)
	case key.Matches(k, sh.keys.Enter):
		if mt, ok := scr.current(sh); ok {
			return nil, nav{to: scrStep, stepID: mt.ID}
		}
	case key.Matches(k, sh.keys.Restart):
		if sh.sess.Pending() == 0 {
			sh.errText, sh.notice = "", "Nothing is waiting for a restart."
			return nil, nav{}
		}
		return nil, goTo(scrRestart)
	case key.Matches(k, sh.keys.Recheck):
		ctx, seq := sh.startOp(applyTimeout)
		sess := sh.sess
		return tea.Batch(sh.spin.Tick, func() tea.Msg {
			return opDoneMsg{seq: seq, kind: opRecheck, err: sess.Recheck(ctx)}
		}), nav{}
	case key.Matches(k, sh.keys.Finish):
		return nil, goTo(scrSummary)
	}
	return nil, nav{}
}

// onRecheck takes in the result of checking again.
func (scr *overviewScreen) onRecheck(sh *shell, msg opDoneMsg) {
	if msg.err != nil {
		sh.errText = printable.String(msg.err.Error(), true)
	} else {
		sh.notice = "Checked again."
	}
}

// cursorOf is the cursor position of step id.
func (scr overviewScreen) cursorOf(sh *shell, id string) int {
	ms := sh.sess.Steps()
	for i, si := range stepOrder(overviewRows(ms)) {
		if ms[si].ID == id {
			return i
		}
	}
	return scr.cursor
}
