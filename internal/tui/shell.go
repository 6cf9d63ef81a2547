package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

// The screens never see the root Model. Each gets a *shell: the frame it
// draws in (styles, keys, size), the services it acts through (the
// configuration's hooks, the session, the event hub) and the one
// operation and yes/no arming the wizard has at a time. A screen changes
// only its own state and the shell; to go to another screen it returns a
// nav, and the root Model routes it.

// frame is what a screen draws with: the style sheet, the keymap and the
// terminal's size.
type frame struct {
	st            styles
	keys          keyMap
	width, height int
}

// services are what a screen acts through.
type services struct {
	ctx  context.Context
	cfg  Config
	hub  *hub
	sess Session // nil until connected
	// famTiming is Config.TimingOf for the session's family, asked for
	// when the session opened; nil: not asked.
	famTiming *Timing
	// waivers are the approver and expiry of each step waived in this
	// run, for the record (FinishInfo.Waivers). Replaced, never changed
	// in place: models are values.
	waivers map[string]WaiverInfo
}

// shell is what the screens share. It is part of the Model value.
type shell struct {
	frame
	services

	spin spinner.Model

	// The running operation, if any (a tea.Cmd doing network or disk
	// work); opSeq ties its result message to it.
	busy     bool
	opSeq    int
	opCancel context.CancelFunc
	opStart  time.Time

	// form is the form the current screen shows, if any.
	form *form
	// armGen counts the yes/no screens shown; armed is true once the
	// current one has been on screen for armDelay.
	armGen int
	armed  bool

	errText string // an error for the technician, shown on the current screen
	notice  string // a neutral message, shown on the current screen
}

// nav is a screen's request to the root: go to another screen, stop,
// or quit. The zero nav stays.
type nav struct {
	to     screen
	stepID string // scrStep: the step to open
	reset  bool   // open the screen afresh (a list's cursor on top)
	notice string // shown on the screen opened
	// target is the device to log in to (scrCreds, scrConnecting).
	target *Target
	// err is what the screen opens for: the unknown certificate
	// (scrFingerprint), the changed identity (stop).
	err error
	// stop shows the STOP screen for a changed identity.
	stop TrustChangedError
	// askQuit asks before quitting with staged changes; quit quits.
	askQuit, quit bool
}

func goTo(s screen) nav { return nav{to: s} }

// stopNav is the nav for a changed certificate or host key, if err is one.
func stopNav(err error) (nav, bool) {
	var chg TrustChangedError
	if errors.As(err, &chg) {
		return nav{stop: chg, err: err}, true
	}
	return nav{}, false
}

// arm starts a yes/no screen: keys are ignored until armDelay has passed.
func (sh *shell) arm() tea.Cmd {
	sh.armGen++
	sh.armed = false
	g := sh.armGen
	return tea.Tick(armDelay, func(time.Time) tea.Msg { return armMsg(g) })
}

// armHelp is the help line of a yes/no screen: the keys once armed.
func (sh *shell) armHelp(bs ...key.Binding) string {
	if !sh.armed {
		return sh.st.Muted.Render("Read the screen; keys typed before it appeared are ignored.")
	}
	return sh.help(bs...)
}

// startOp marks the wizard busy with a new operation and returns its
// context and sequence number.
func (sh *shell) startOp(timeout time.Duration) (context.Context, int) {
	if sh.opCancel != nil {
		sh.opCancel()
	}
	ctx, cancel := context.WithTimeout(sh.ctx, timeout)
	sh.opSeq++
	sh.opCancel = cancel
	sh.busy = true
	sh.opStart = time.Now()
	sh.errText, sh.notice = "", ""
	return ctx, sh.opSeq
}

// endOp reports whether a result belongs to the running operation and,
// if so, marks the wizard idle.
func (sh *shell) endOp(seq int) bool {
	if seq != sh.opSeq || !sh.busy {
		return false
	}
	sh.busy = false
	if sh.opCancel != nil {
		sh.opCancel()
		sh.opCancel = nil
	}
	return true
}

// cancelOp abandons the running operation.
func (sh *shell) cancelOp() {
	if sh.opCancel != nil {
		sh.opCancel()
		sh.opCancel = nil
	}
	sh.opSeq++
	sh.busy = false
}

// openForm shows a form with the wizard's styles and width.
func (sh *shell) openForm(fields ...fieldSpec) {
	sh.form = newForm(sh.st, sh.width-2, fields...)
}

// formView draws the form in the lines left below used.
func (sh *shell) formView(used int) string {
	if sh.form == nil {
		return ""
	}
	return sh.form.View(max(sh.height-used, 6))
}

// statusLine renders the current error or notice, if any.
func (sh *shell) statusLine() string {
	switch {
	case sh.errText != "":
		return sh.st.Bad.Render(sh.wrap(sh.errText, 0))
	case sh.notice != "":
		return sh.st.OK.Render(sh.wrap(sh.notice, 0))
	}
	return ""
}

// meta is a step's metadata.
func (sv *services) meta(id string) steps.Meta {
	for _, mt := range sv.sess.Steps() {
		if mt.ID == id {
			return mt
		}
	}
	return steps.Meta{ID: id, Title: id}
}

// stepLabel is a step's section and title.
func (sv *services) stepLabel(id string) string {
	for _, mt := range sv.sess.Steps() {
		if mt.ID == id {
			return printable.String(mt.Section) + " " + printable.String(mt.Title)
		}
	}
	return id
}

// nextOpen is the first undecided step after the step id in overview
// order, wrapping around; id itself is never returned.
func (sv *services) nextOpen(id string) (string, bool) {
	ms := sv.sess.Steps()
	order := stepOrder(overviewRows(ms))
	at := -1
	for i, si := range order {
		if ms[si].ID == id {
			at = i
		}
	}
	for n := 1; n <= len(order); n++ {
		mt := ms[order[(at+n+len(order))%len(order)]]
		if mt.ID == id {
			continue
		}
		if isOpen(sv.sess.Result(mt.ID).Outcome) {
			return mt.ID, true
		}
	}
	return "", false
}

// timing is the connected family's wording for the confirm screens.
func (sv *services) timing() Timing {
	t := Timing{}
	switch {
	case sv.famTiming != nil:
		t = *sv.famTiming
	case sv.sess != nil && sv.cfg.TimingOf != nil:
		t = sv.cfg.TimingOf(sv.sess.Family())
	}
	if t.Apply == "" {
		t.Apply = "The change is sent to the device when you press y. It counts as done only after " +
			"the restart and a fresh read verify it (r on the overview)."
	}
	if t.Restart == "" {
		t.Restart = "The device saves the staged changes and restarts. While it restarts it serves none of its connections."
	}
	if t.Delete == "" {
		t.Delete = "What is deleted is gone from the device; this tool cannot bring it back."
	}
	return t
}

// waiverLine says who approved a waived step and until when.
func (sh *shell) waiverLine(id string) string {
	w, ok := sh.waivers[id]
	if !ok {
		return sh.st.Warn.Render(sh.wrap("Approver and expiry not given in this run of the wizard.", 4))
	}
	return sh.wrap("Approved by "+printable.String(w.Approver)+", until "+printable.String(w.Expires), 4)
}

// help renders bindings as "key desc · key desc", wrapped to the width.
func (f frame) help(bs ...key.Binding) string {
	return f.wrapParts(f.st.helpParts(bs...))
}

// wrapParts joins parts with " · ", breaking lines at the screen width.
func (f frame) wrapParts(parts []string) string {
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case visibleWidth(cur)+3+visibleWidth(p) > f.width:
			lines = append(lines, cur)
			cur = p
		default:
			cur += " · " + p
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return strings.Join(lines, "\n")
}

// clip keeps at most n lines.
func (f frame) clip(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// wrap breaks text to the screen width, indented by indent spaces.
func (f frame) wrap(text string, indent int) string {
	w := max(f.width-indent-1, 20)
	pad := strings.Repeat(" ", indent)
	lines := strings.Split(lipglossWrap(text, w), "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// scroll moves vp for the scrolling keys; it reports whether the key
// was one of them.
func (f frame) scroll(vp *viewport.Model, k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, f.keys.Up):
		vp.ScrollUp(1)
	case key.Matches(k, f.keys.Down):
		vp.ScrollDown(1)
	case key.Matches(k, f.keys.PageUp):
		vp.PageUp()
	case key.Matches(k, f.keys.PageDown):
		vp.PageDown()
	default:
		return false
	}
	return true
}

// newViewport is a viewport for a scrolling screen.
func newViewport() viewport.Model {
	return viewport.New(viewport.WithWidth(78), viewport.WithHeight(10))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

func itoa(n int) string { return strconv.Itoa(n) }

// lipglossWrap wraps text at width w.
func lipglossWrap(s string, w int) string { return lipgloss.Wrap(s, w, "") }

// truncate cuts a styled string to w cells.
func truncate(s string, w int) string { return ansi.Truncate(s, max(w, 1), "…") }

// visibleWidth is the number of cells a styled string takes.
func visibleWidth(s string) int { return lipgloss.Width(s) }
