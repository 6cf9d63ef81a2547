package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
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

// open lists the changes awaiting their restart, armed.
func (scr *awaitScreen) open(sh *shell) tea.Cmd {
	scr.ids = sh.sess.AwaitingRestart()
	return sh.arm()
}

// View draws the screen.
func (scr awaitScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Changes still waiting for their restart") + "\n\n")
	b.WriteString(sh.wrap(identityLine(sh.sess.Identity()), 0) + "\n\n")
	b.WriteString(sh.wrap(plural(len(scr.ids), "change was", "changes were")+" sent to the device before the session was "+
		"interrupted. They are staged: not effective and not verified until the device restarts and is read again.", 0) + "\n\n")
	room := max(sh.height-14, 2)
	for i, id := range scr.ids {
		if i == room-1 && len(scr.ids) > room {
			b.WriteString(s.Muted.Render(fmt.Sprintf("  … and %d more", len(scr.ids)-i)) + "\n")
			break
		}
		b.WriteString(s.Info.Render(truncate("  … staged  "+sh.stepLabel(id), sh.width)) + "\n")
	}
	b.WriteString("\n" + sh.wrap("Restart the device to make them effective and verify them: press r now (you confirm "+
		"first), or r on the overview later.", 0) + "\n\n")
	b.WriteString(sh.armHelp(sh.keys.Restart, hint("enter", "to the overview"), sh.keys.Quit))
	return b.String()
}

// Update handles a key on the screen.
func (scr *awaitScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if !sh.armed {
		return nil, nav{}
	}
	switch {
	case key.Matches(k, sh.keys.Restart):
		return nil, goTo(scrRestart)
	case key.Matches(k, sh.keys.Enter):
		return nil, nav{to: scrOverview, reset: true}
	case key.Matches(k, sh.keys.Quit):
		return nil, nav{askQuit: true} // the staged changes: asks first
	}
	return nil, nav{}
}

// restartScreen asks for a deliberate yes before the device restarts.
type restartScreen struct{}

// open asks, armed.
func (scr *restartScreen) open(sh *shell) tea.Cmd {
	sh.errText, sh.notice = "", ""
	return sh.arm()
}

// View draws the screen.
func (scr restartScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Restart the device now?") + "\n\n")
	b.WriteString(sh.wrap(identityLine(sh.sess.Identity()), 0) + "\n\n")
	n := sh.sess.Pending()
	b.WriteString(sh.wrap(plural(n, "staged change takes", "staged changes take")+" effect and is verified with a fresh read:", 0) + "\n")
	var staged []string
	for _, r := range sh.sess.Results() {
		if r.Outcome == steps.Staged {
			staged = append(staged, truncate("  "+sh.stepLabel(r.StepID), sh.width))
		}
	}
	if len(staged) > 6 {
		staged = append(staged[:5], s.Muted.Render(fmt.Sprintf("  … and %d more", len(staged)-5)))
	}
	b.WriteString(strings.Join(staged, "\n") + "\n\n")
	b.WriteString(s.Warn.Render(sh.wrap(sh.timing().Restart, 0)) + "\n\n")
	b.WriteString(sh.wrap("Restart only when the plant can spare the device for that time.", 0) + "\n\n")
	b.WriteString(sh.armHelp(hint("y", "restart now"), hint("esc", "not now")))
	return b.String()
}

// Update handles a key on the screen.
func (scr *restartScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	notNow := nav{to: scrOverview, notice: "Not restarted; the changes stay staged."}
	if key.Matches(k, sh.keys.Back) {
		return nil, notNow
	}
	if !sh.armed {
		return nil, nav{}
	}
	switch {
	case key.Matches(k, sh.keys.Yes):
		return nil, goTo(scrCommit)
	case key.Matches(k, sh.keys.No):
		return nil, notNow
	}
	return nil, nav{}
}

// commitScreen is the restart and the verification after it.
type commitScreen struct {
	vp   viewport.Model // the progress and the verification
	log  []string
	ids  []string
	done bool
}

// start runs the restart and verification in a tea.Cmd.
func (scr *commitScreen) start(sh *shell) tea.Cmd {
	scr.ids = nil
	for _, r := range sh.sess.Results() {
		if r.Outcome == steps.Staged {
			scr.ids = append(scr.ids, r.StepID)
		}
	}
	scr.log = nil
	scr.done = false
	ctx, seq := sh.startOp(commitTimeout)
	sess := sh.sess
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opCommit, err: sess.Commit(ctx)}
	})
}

// onEvents keeps the device's progress lines; it reports whether there
// was one.
func (scr *commitScreen) onEvents(evs eventsMsg) bool {
	got := false
	for _, e := range evs {
		if e.Kind == steps.DeviceProgress && e.Message != "" {
			scr.log = append(scr.log, printable.String(e.Message))
			if len(scr.log) > 200 {
				scr.log = scr.log[len(scr.log)-200:]
			}
			got = true
		}
	}
	return got
}

// onDone takes in the end of the restart and verification.
func (scr *commitScreen) onDone(sh *shell, msg opDoneMsg) {
	scr.done = true
	if msg.err != nil {
		sh.errText = printable.String(msg.err.Error(), true)
	}
	scr.layout(sh)
}

// layout sizes the viewport and fills it, showing its end.
func (scr *commitScreen) layout(sh *shell) {
	scr.vp.SetWidth(sh.width)
	scr.vp.SetHeight(max(sh.height-6, 3))
	scr.vp.SetContent(scr.content(sh))
	scr.vp.GotoBottom()
}

func (scr commitScreen) content(sh *shell) string {
	if sh.sess == nil {
		return ""
	}
	s := sh.st
	var b strings.Builder
	for _, l := range scr.log {
		b.WriteString(s.Muted.Render("  "+truncate(l, sh.width-3)) + "\n")
	}
	if scr.done {
		b.WriteString("\n" + s.Heading.Render("Verified against a fresh read") + "\n")
		titles := map[string]string{}
		for _, mt := range sh.sess.Steps() {
			titles[mt.ID] = printable.String(mt.Section) + " " + printable.String(mt.Title)
		}
		for _, id := range scr.ids {
			r := sh.sess.Result(id)
			badge := s.badge(r.Outcome)
			b.WriteString(truncate(badge+strings.Repeat(" ", max(13-visibleWidth(badge), 1))+titles[id], sh.width) + "\n")
			if r.Outcome != steps.Fixed && r.Reason != "" {
				b.WriteString(sh.wrap(printable.String(r.Reason), 4) + "\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// View draws the screen.
func (scr commitScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Restart and verify") + "\n")
	if sh.busy {
		secs := int(time.Since(sh.opStart).Seconds())
		b.WriteString(fmt.Sprintf("%s Restarting the device and verifying %s… %ds\n",
			sh.spin.View(), plural(len(scr.ids), "change", "changes"), secs))
	} else {
		b.WriteString(s.Muted.Render("Done.") + "\n")
	}
	b.WriteString("\n" + scr.vp.View() + "\n")
	if sh.errText != "" {
		b.WriteString(sh.clip(s.Bad.Render(sh.wrap(sh.errText, 0)), 2) + "\n")
	}
	if sh.busy {
		b.WriteString(s.Muted.Render(truncate(sh.timing().Restart, sh.width)))
	} else {
		b.WriteString(sh.help(hint("enter", "back to the overview"), hint("↑/↓", "scroll")))
	}
	return b.String()
}

// Update handles a key on the screen.
func (scr *commitScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if sh.busy {
		return nil, nav{}
	}
	if key.Matches(k, sh.keys.Enter, sh.keys.Back, sh.keys.Quit) {
		sh.errText = ""
		return nil, goTo(scrOverview)
	}
	sh.scroll(&scr.vp, k)
	return nil, nav{}
}
