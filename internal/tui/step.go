package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

// stepMode is what the step screen shows.
type stepMode int

const (
	stepView    stepMode = iota // details and the actions
	stepInputs                  // the inputs form for a fix
	stepPreview                 // the planned changes, waiting for a yes
	stepReason                  // the reason form for a waiver or n/a
	stepAttest                  // the attestation form
	stepBusy                    // planning, applying, recording or attesting
	stepDelete                  // a plan that deletes: the deliberate yes for the deletion
)

// noteKey is the form key of the attestation's note; step input keys
// never start with a dot.
const noteKey = ".note"

func (m Model) openStep(id string) (tea.Model, tea.Cmd) {
	m.screen = scrStep
	m.step.id = id
	m.step.mode = stepView
	m.step.values, m.step.changes = nil, nil
	m.step.waiver = WaiverInfo{}
	m.step.planned = false
	m.errText, m.notice = "", ""
	m.layout()
	m.vp.GotoTop()
	return m, nil
}

func (m Model) meta() steps.Meta {
	for _, mt := range m.sess.Steps() {
		if mt.ID == m.step.id {
			return mt
		}
	}
	return steps.Meta{ID: m.step.id, Title: m.step.id}
}

// can reports which actions the step offers now.
func (m Model) can() (fix, attest, decide bool) {
	mt := m.meta()
	o := m.sess.Result(m.step.id).Outcome
	switch o {
	case steps.Compliant, steps.Fixed, steps.Attested, steps.Waived, steps.NotApplicable, steps.Staged:
		return false, false, false
	}
	return mt.Kind == steps.Automatic, mt.Kind == steps.Manual, true
}

// stepDetails is the scrollable text of the step screen.
func (m Model) stepDetails() string {
	if m.sess == nil {
		return ""
	}
	s := m.st
	mt := m.meta()
	r := m.sess.Result(m.step.id)
	var b strings.Builder
	srs := ""
	if len(mt.SRs) > 0 {
		srs = " · " + strings.Join(mt.SRs, ", ")
	}
	b.WriteString(s.Muted.Render("Guide section "+mt.Section+srs+" · "+string(mt.Kind)) + "\n\n")
	if mt.Why != "" {
		b.WriteString(s.Heading.Render("Why") + "\n" + m.wrap(mt.Why, 2) + "\n\n")
	}
	finding := func(title string, f *steps.Finding) {
		if f == nil {
			return
		}
		b.WriteString(s.Heading.Render(title) + "\n")
		if f.Observed != "" {
			b.WriteString(m.wrap("Observed: "+printable.String(f.Observed, true), 2) + "\n")
		}
		if f.Expected != "" {
			b.WriteString(m.wrap("Expected: "+printable.String(f.Expected, true), 2) + "\n")
		}
		for _, n := range f.Notes {
			b.WriteString(s.Warn.Render(m.wrap("Note: "+printable.String(n, true), 2)) + "\n")
		}
		b.WriteString("\n")
	}
	finding("Finding", r.Before)
	finding("After the restart", r.After)
	if len(r.Changes) > 0 && (r.Outcome == steps.Staged || r.Outcome == steps.Fixed || r.Outcome == steps.Failed) {
		b.WriteString(s.Heading.Render("Changes") + "\n" + m.changeLines(r.Changes) + "\n")
	}
	if r.Reason != "" {
		b.WriteString(s.Heading.Render("Reason") + "\n" + m.wrap(printable.String(r.Reason, true), 2) + "\n\n")
	}
	if r.Outcome == steps.Waived {
		b.WriteString(strings.TrimLeft(m.waiverLine(r.StepID), " ") + "\n\n")
	}
	if r.Evidence != "" {
		b.WriteString(s.Heading.Render("Evidence") + "\n" + m.wrap(printable.String(r.Evidence, true), 2) + "\n\n")
	}
	if mt.Kind == steps.Manual && mt.Attest != "" {
		b.WriteString(s.Heading.Render("What you confirm") + "\n" + m.wrap(mt.Attest, 2) + "\n\n")
	}
	if mt.Caution != "" {
		b.WriteString(s.Warn.Render(s.Heading.Render("Caution")+"\n"+m.wrap(mt.Caution, 2)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// changeLines renders changes as a setting / now / after table.
func (m Model) changeLines(cs []steps.Change) string {
	if len(cs) == 0 {
		return m.st.Muted.Render("  (nothing differs)") + "\n"
	}
	w := max(m.width-4, 30)
	col := (w - 4) / 3
	cell := func(v string, n int) string {
		v = truncate(v, n)
		return v + strings.Repeat(" ", max(n-visibleWidth(v), 0))
	}
	var b strings.Builder
	b.WriteString("  " + m.st.Muted.Render(cell("Setting", col)+"  "+cell("Now", col)+"  "+cell("After", col)) + "\n")
	for _, c := range cs {
		set, from, to := printable.String(c.Setting), printable.String(c.From), printable.String(c.To)
		if visibleWidth(set) <= col && visibleWidth(from) <= col && visibleWidth(to) <= col {
			b.WriteString("  " + cell(set, col) + "  " + cell(from, col) + "  " + cell(to, col) + "\n")
			continue
		}
		// Too long for a row: one line each, wrapped, so nothing is cut.
		b.WriteString(m.wrap(set, 2) + "\n")
		b.WriteString(m.wrap("now:   "+from, 4) + "\n")
		b.WriteString(m.wrap("after: "+to, 4) + "\n")
	}
	return b.String()
}

// deletions lists the settings a plan removes: the changes the catalog
// marks Deletes. Nothing is guessed from the wording.
func deletions(cs []steps.Change) []string {
	var out []string
	for _, c := range cs {
		if c.Deletes {
			out = append(out, printable.String(c.Setting))
		}
	}
	return out
}

// timing is the connected family's wording for the confirm screens.
func (m Model) timing() Timing {
	t := Timing{}
	if m.sess != nil {
		t = m.cfg.Timing[m.sess.Family()]
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

func (m Model) stepHeader() string {
	mt := m.meta()
	r := m.sess.Result(m.step.id)
	return truncate(m.st.Title.Render(printable.String(mt.Section)+" "+printable.String(mt.Title))+"  "+m.st.badge(r.Outcome), m.width)
}

// View draws the screen.
func (scr stepScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(m.stepHeader() + "\n\n")
	switch scr.mode {
	case stepView:
		b.WriteString(m.vp.View() + "\n")
		if st := m.statusLine(); st != "" {
			b.WriteString(m.clip(st, 3) + "\n")
		}
		fix, attest, decide := m.can()
		k := m.keys
		k.Fix.SetEnabled(fix)
		k.Attest.SetEnabled(attest)
		k.Waive.SetEnabled(decide)
		k.NotApplicable.SetEnabled(decide)
		k.Edit.SetEnabled(fix && scr.values != nil)
		b.WriteString(m.help(k.Fix, k.Edit, k.Attest, k.Waive, k.NotApplicable, k.NextOpen, hint("↑/↓", "scroll"), k.Back))
	case stepPreview:
		t := m.timing()
		var tail strings.Builder
		yes := hint("y", "apply")
		if del := deletions(scr.changes); len(del) > 0 {
			tail.WriteString(s.Warn.Render(m.wrap("This deletes: "+strings.Join(del, ", ")+". "+t.Delete, 0)) + "\n\n")
			yes = hint("y", "apply (you confirm the deletion next)")
		}
		tail.WriteString(m.wrap(t.Apply, 0) + "\n\n")
		tail.WriteString(m.armHelp(yes, m.keys.Edit, hint("esc", "cancel")))
		// The table gives way to the wording and the keys, never the reverse.
		room := max(m.height-lipgloss.Height(b.String())-lipgloss.Height(tail.String())-2, 2)
		table := strings.Split(strings.TrimRight(m.changeLines(scr.changes), "\n"), "\n")
		if len(table) > room {
			// Scrolls with ↑/↓; the last line says what is out of sight.
			off := min(scr.pvOff, len(table)-(room-1))
			below := len(table) - off - (room - 1)
			table = append(table[off:off+room-1:off+room-1], s.Muted.Render(
				fmt.Sprintf("  ↑/↓ scroll: %d lines above, %d below", off, below)))
		}
		b.WriteString(s.Heading.Render("This will change on the device") + "\n")
		b.WriteString(strings.Join(table, "\n") + "\n\n")
		b.WriteString(tail.String())
	case stepDelete:
		del := deletions(scr.changes)
		b.WriteString(s.Bad.Render("Delete from the device?") + "\n\n")
		room := max(m.height-12, 2)
		for i, d := range del {
			if i == room-1 && len(del) > room {
				b.WriteString(s.Muted.Render(fmt.Sprintf("  … and %d more", len(del)-i)) + "\n")
				break
			}
			b.WriteString(s.Warn.Render(truncate("  ✗ "+d, m.width)) + "\n")
		}
		b.WriteString("\n" + s.Warn.Render(m.wrap(m.timing().Delete, 0)) + "\n\n")
		b.WriteString(m.wrap("The rest of the preview is applied with it.", 0) + "\n\n")
		b.WriteString(m.armHelp(hint("y", "delete and apply"), hint("esc", "back to the preview")))
	case stepBusy:
		b.WriteString(m.spin.View() + " " + scr.busyWhat + "\n")
	default:
		if m.errText != "" {
			b.WriteString(s.Bad.Render(m.wrap(m.errText, 0)) + "\n\n")
		}
		if scr.mode == stepAttest && m.meta().Attest != "" {
			b.WriteString(m.clip(m.wrap(m.meta().Attest, 0), 4) + "\n\n")
		}
		b.WriteString(m.formView(lipgloss.Height(b.String())))
	}
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *stepScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	switch scr.mode {
	case stepBusy:
		return nil
	case stepDelete:
		if key.Matches(k, m.keys.Back) {
			scr.mode = stepPreview
			return m.arm()
		}
		if !m.armed {
			return nil
		}
		switch {
		case key.Matches(k, m.keys.Yes):
			return m.do(m.apply())
		case key.Matches(k, m.keys.No):
			scr.mode = stepPreview
			return m.arm()
		}
		return nil
	case stepPreview:
		switch {
		case key.Matches(k, m.keys.Up):
			scr.pvOff = max(scr.pvOff-1, 0)
			return nil
		case key.Matches(k, m.keys.Down):
			scr.pvOff = min(scr.pvOff+1, max(len(scr.changes)*3, 0))
			return nil
		}
		if !m.armed {
			return nil
		}
		switch {
		case key.Matches(k, m.keys.Yes):
			if len(deletions(scr.changes)) > 0 {
				// A deletion asks for its own, deliberate yes.
				scr.mode = stepDelete
				return m.arm()
			}
			return m.do(m.apply())
		case key.Matches(k, m.keys.Edit):
			return m.do(m.openInputs())
		case key.Matches(k, m.keys.Back), key.Matches(k, m.keys.No):
			return m.do(m.cancelPlan())
		}
		return nil
	}
	fix, attest, decide := m.can()
	switch {
	case key.Matches(k, m.keys.Back), key.Matches(k, m.keys.Quit):
		m.screen = scrOverview
		m.errText, m.notice = "", ""
		return nil
	case fix && key.Matches(k, m.keys.Fix):
		scr.values = nil
		return m.do(m.openInputs())
	case fix && scr.values != nil && key.Matches(k, m.keys.Edit):
		return m.do(m.openInputs())
	case attest && key.Matches(k, m.keys.Attest):
		return m.do(m.openAttest())
	case decide && key.Matches(k, m.keys.Waive):
		return m.do(m.openReason(steps.Waived))
	case decide && key.Matches(k, m.keys.NotApplicable):
		return m.do(m.openReason(steps.NotApplicable))
	case key.Matches(k, m.keys.NextOpen):
		if id, ok := m.nextOpen(scr.id); ok {
			return m.do(m.openStep(id))
		}
		m.notice = "Every step is decided."
		return nil
	}
	m.scroll(k)
	return nil
}

// inputFields builds form fields for a step's inputs, prefilled with
// vals. The inputs in planned take their default (defaults) from the
// site plan: their fields say so, and say it when the value differs.
func inputFields(mt steps.Meta, vals, defaults steps.Values, planned map[string]bool) []fieldSpec {
	var fields []fieldSpec
	for _, in := range mt.Inputs {
		v := printable.String(vals[in.Key], in.Multiline)
		f := fieldSpec{Key: in.Key, Title: in.Label, Help: in.Help, Value: v, Validate: in.Validate,
			Secret: in.Secret, Multiline: in.Multiline}
		if len(in.Options) > 0 {
			if !containsString(in.Options, v) {
				f.Value = in.Options[0]
			}
			f.Options = in.Options
			f.Validate = nil
		}
		if planned[in.Key] && !in.Secret {
			f.Planned, f.PlanValue = true, printable.String(defaults[in.Key], in.Multiline)
		}
		fields = append(fields, f)
	}
	return fields
}

// stepFields are the step's input fields with the values to show: the
// technician's last ones, else the defaults.
func (m Model) stepFields() []fieldSpec {
	defaults := m.sess.Defaults(m.step.id)
	vals := m.step.values
	if vals == nil {
		vals = defaults
	}
	var planned map[string]bool
	if m.cfg.Planned != nil {
		planned = m.cfg.Planned(m.step.id)
	}
	return inputFields(m.meta(), vals, defaults, planned)
}

func (m Model) openInputs() (tea.Model, tea.Cmd) {
	mt := m.meta()
	m.errText, m.notice = "", ""
	if len(mt.Inputs) == 0 {
		return m.plan(steps.Values{})
	}
	m.step.mode = stepInputs
	m.openForm(m.stepFields()...)
	return m, nil
}

func (m Model) openAttest() (tea.Model, tea.Cmd) {
	m.errText, m.notice = "", ""
	m.step.mode = stepAttest
	fields := m.stepFields()
	fields = append(fields, fieldSpec{Key: noteKey, Title: "Note (optional)", Limit: 500, Multiline: true})
	m.openForm(fields...)
	return m, nil
}

func (m Model) openReason(o steps.Outcome) (tea.Model, tea.Cmd) {
	m.errText, m.notice = "", ""
	m.step.mode = stepReason
	m.step.reasonKind = o
	title := "Why do you waive this step?"
	if o == steps.NotApplicable {
		title = "Why does this step not apply here?"
	}
	fields := []fieldSpec{{Key: "reason", Title: title, Multiline: true, Limit: 2000,
		Help: "Required. It goes into the signed record.",
		Validate: func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("a reason is required")
			}
			return nil
		}}}
	if o == steps.Waived {
		fields = append(fields,
			fieldSpec{Key: "approver", Title: "Approved by (name and role)", Limit: 200,
				Placeholder: "J. Smith, OT security", Value: m.step.waiver.Approver,
				Help: "Who accepted the risk of skipping this step. Required.", Validate: required("approver's name and role")},
			fieldSpec{Key: "expires", Title: "Waiver holds until (YYYY-MM-DD)", Limit: 10,
				Placeholder: "2027-06-30", Value: m.step.waiver.Expires,
				Help:     "The last day the waiver holds; the step is due again after it.",
				Validate: func(s string) error { return validExpiry(s, time.Now()) }})
	}
	m.openForm(fields...)
	return m, nil
}

// validExpiry accepts a date written YYYY-MM-DD that is not before the
// day of now: the last day a waiver holds.
func validExpiry(s string, now time.Time) error {
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), now.Location())
	if err != nil {
		return errors.New("write the date as YYYY-MM-DD, for example 2027-06-30")
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if d.Before(today) {
		return errors.New("the date has passed: a waiver must hold at least until today")
	}
	return nil
}

func (m Model) stepFormDone(v map[string]string) (tea.Model, tea.Cmd) {
	switch m.step.mode {
	case stepReason:
		// Recording a decision writes the journal (fsync): a command.
		_, seq := m.startOp(applyTimeout)
		m.step.mode = stepBusy
		m.step.busyWhat = "Recording the decision…"
		sess, id, kind, reason := m.sess, m.step.id, m.step.reasonKind, v["reason"]
		m.step.waiver = WaiverInfo{Approver: strings.TrimSpace(v["approver"]), Expires: strings.TrimSpace(v["expires"])}
		return m, tea.Batch(m.spin.Tick, func() tea.Msg {
			var err error
			if kind == steps.NotApplicable {
				err = sess.NotApplicable(id, reason)
			} else {
				err = sess.Waive(id, reason)
			}
			return opDoneMsg{seq: seq, kind: opDecide, id: id, err: err}
		})
	case stepAttest:
		note := v[noteKey]
		delete(v, noteKey)
		m.step.values = steps.Values(v)
		ctx, seq := m.startOp(applyTimeout)
		m.step.mode = stepBusy
		m.step.busyWhat = "Recording the attestation…"
		sess, id, in := m.sess, m.step.id, steps.Values(v)
		return m, tea.Batch(m.spin.Tick, func() tea.Msg {
			return opDoneMsg{seq: seq, kind: opAttest, id: id, err: sess.Attest(ctx, id, in, note)}
		})
	default:
		return m.plan(steps.Values(v))
	}
}

// plan asks the engine for the preview in a command; nothing is sent.
func (m Model) plan(in steps.Values) (tea.Model, tea.Cmd) {
	m.step.values = in
	_, seq := m.startOp(applyTimeout)
	m.step.mode = stepBusy
	m.step.busyWhat = "Preparing the preview…"
	sess, id := m.sess, m.step.id
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		cs, err := sess.Plan(id, in)
		return planMsg{seq: seq, id: id, changes: cs, err: err}
	})
}

// onPlanned shows the preview, armed, or the refusal.
func (m Model) onPlanned(msg planMsg) (tea.Model, tea.Cmd) {
	if !m.endOp(msg.seq) || msg.id != m.step.id || m.screen != scrStep {
		return m, nil
	}
	var refused *steps.RefusedError
	switch err := msg.err; {
	case errors.As(err, &refused):
		m.step.mode = stepView
		m.errText = "Refused, nothing was sent: " + printable.String(refused.Err.Error(), true) +
			"\nPress e to edit the inputs."
		m.layout()
		return m, nil
	case err != nil:
		m.step.mode = stepView
		m.errText = printable.String(err.Error(), true)
		m.layout()
		return m, nil
	}
	m.step.changes = msg.changes
	m.step.planned = true
	m.step.mode = stepPreview
	m.step.pvOff = 0
	return m, m.arm()
}

// cancelPlan drops the step's plan in a command (the engine journals
// the cancellation): the dismissed preview never reaches the record.
func (m Model) cancelPlan() (tea.Model, tea.Cmd) {
	_, seq := m.startOp(applyTimeout)
	m.step.mode = stepBusy
	m.step.busyWhat = "Dropping the preview…"
	sess, id := m.sess, m.step.id
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opCancel, id: id, err: sess.Cancel(id)}
	})
}

// apply sends the planned change in a tea.Cmd.
func (m Model) apply() (tea.Model, tea.Cmd) {
	m.step.planned = false // Apply takes the plan, whatever its outcome
	ctx, seq := m.startOp(applyTimeout)
	m.step.mode = stepBusy
	m.step.busyWhat = "Applying the change…"
	sess, id := m.sess, m.step.id
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opApply, id: id, err: sess.Apply(ctx, id)}
	})
}

func (m Model) onOpDone(msg opDoneMsg) (tea.Model, tea.Cmd) {
	if !m.endOp(msg.seq) {
		return m, nil
	}
	// A changed certificate or host key met during the session (the
	// restart's new login, an SSH check) stops it like one met at login.
	var chg TrustChangedError
	if errors.As(msg.err, &chg) {
		return m.stop(msg.err, chg), nil
	}
	switch msg.kind {
	case opApply:
		m.step.mode = stepView
		if msg.err != nil {
			m.errText = "The change failed and is not verified: " + printable.String(msg.err.Error(), true)
			m.layout()
			break
		}
		done := m.stepLabel(msg.id)
		notice := "Change sent for " + done + ": staged until the restart (r on the overview) verifies it."
		if next, ok := m.nextOpen(msg.id); ok {
			nm, cmd := m.openStep(next)
			mm := nm.(Model)
			mm.notice = notice
			return mm, cmd
		}
		m.notice = notice
		m.layout()
	case opCancel:
		m.step.mode = stepView
		m.step.planned = false
		if msg.err != nil {
			m.errText = "Nothing was sent, but the cancelled preview could not be recorded: " + printable.String(msg.err.Error(), true)
		} else {
			m.notice = "Cancelled; nothing was sent."
		}
		m.layout()
	case opDecide:
		m.step.mode = stepView
		if msg.err != nil {
			e := printable.String(msg.err.Error(), true)
			nm, cmd := m.openReason(m.step.reasonKind)
			mm := nm.(Model)
			mm.errText = e
			return mm, cmd
		}
		if m.step.reasonKind == steps.Waived {
			ws := make(map[string]WaiverInfo, len(m.waivers)+1)
			for k, w := range m.waivers {
				ws[k] = w
			}
			ws[msg.id] = m.step.waiver
			m.waivers = ws
		}
		m.step.waiver = WaiverInfo{}
		m.notice = "Recorded as " + strings.ReplaceAll(string(m.step.reasonKind), "_", " ") + "."
		m.layout()
	case opAttest:
		m.step.mode = stepView
		if msg.err != nil {
			m.errText = printable.String(msg.err.Error(), true)
		} else {
			m.notice = "Attested."
		}
		m.layout()
	case opCommit:
		m.commit.done = true
		if msg.err != nil {
			m.errText = printable.String(msg.err.Error(), true)
		}
		m.layout()
	case opRecheck:
		if msg.err != nil {
			m.errText = printable.String(msg.err.Error(), true)
		} else {
			m.notice = "Checked again."
		}
	}
	return m, nil
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// stepLabel is a step's section and title.
func (m Model) stepLabel(id string) string {
	for _, mt := range m.sess.Steps() {
		if mt.ID == id {
			return printable.String(mt.Section) + " " + printable.String(mt.Title)
		}
	}
	return id
}

// nextOpen is the first undecided step after the step id in overview
// order, wrapping around; id itself is never returned.
func (m Model) nextOpen(id string) (string, bool) {
	ms := m.sess.Steps()
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
		if isOpen(m.sess.Result(mt.ID).Outcome) {
			return mt.ID, true
		}
	}
	return "", false
}

// isOpen reports whether a step still waits for a decision.
func isOpen(o steps.Outcome) bool {
	switch o {
	case steps.Deviation, steps.ManualPending, steps.Pending, steps.Failed, steps.Error:
		return true
	}
	return false
}
