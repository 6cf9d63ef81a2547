package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
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

// stepScreen is one step: details, inputs, preview, reason, attestation.
type stepScreen struct {
	id         string
	mode       stepMode
	vp         viewport.Model // the details
	values     steps.Values
	changes    []steps.Change
	reasonKind steps.Outcome
	waiver     WaiverInfo // the waiver being recorded, kept once Waive succeeds
	busyWhat   string     // what the busy step screen waits for
	planned    bool       // the engine holds a plan of this step that was not applied
	pvOff      int        // the preview table's scroll offset
}

// noteKey is the form key of the attestation's note; step input keys
// never start with a dot.
const noteKey = ".note"

// open shows step id.
func (scr *stepScreen) open(sh *shell, id string) (tea.Cmd, nav) {
	scr.id = id
	scr.mode = stepView
	scr.values, scr.changes = nil, nil
	scr.waiver = WaiverInfo{}
	scr.planned = false
	sh.errText, sh.notice = "", ""
	scr.layout(sh)
	scr.vp.GotoTop()
	return nil, nav{}
}

// layout sizes the details' viewport and fills it.
func (scr *stepScreen) layout(sh *shell) {
	scr.vp.SetWidth(sh.width)
	scr.vp.SetHeight(max(sh.height-6, 3))
	scr.vp.SetContent(scr.stepDetails(sh))
}

func (scr stepScreen) meta(sh *shell) steps.Meta { return sh.meta(scr.id) }

// can reports which actions the step offers now.
func (scr stepScreen) can(sh *shell) (fix, attest, decide bool) {
	mt := scr.meta(sh)
	o := sh.sess.Result(scr.id).Outcome
	switch o {
	case steps.Compliant, steps.Fixed, steps.Attested, steps.Waived, steps.NotApplicable, steps.Staged:
		return false, false, false
	}
	return mt.Kind == steps.Automatic, mt.Kind == steps.Manual, true
}

// stepDetails is the scrollable text of the step screen.
func (scr stepScreen) stepDetails(sh *shell) string {
	if sh.sess == nil {
		return ""
	}
	s := sh.st
	mt := scr.meta(sh)
	r := sh.sess.Result(scr.id)
	var b strings.Builder
	srs := ""
	if len(mt.SRs) > 0 {
		srs = " · " + strings.Join(mt.SRs, ", ")
	}
	b.WriteString(s.Muted.Render("Guide section "+mt.Section+srs+" · "+string(mt.Kind)) + "\n\n")
	if mt.Why != "" {
		b.WriteString(s.Heading.Render("Why") + "\n" + sh.wrap(mt.Why, 2) + "\n\n")
	}
	finding := func(title string, f *steps.Finding) {
		if f == nil {
			return
		}
		b.WriteString(s.Heading.Render(title) + "\n")
		if f.Observed != "" {
			b.WriteString(sh.wrap("Observed: "+printable.String(f.Observed, true), 2) + "\n")
		}
		if f.Expected != "" {
			b.WriteString(sh.wrap("Expected: "+printable.String(f.Expected, true), 2) + "\n")
		}
		for _, n := range f.Notes {
			b.WriteString(s.Warn.Render(sh.wrap("Note: "+printable.String(n, true), 2)) + "\n")
		}
		b.WriteString("\n")
	}
	finding("Finding", r.Before)
	finding("After the restart", r.After)
	if len(r.Changes) > 0 && (r.Outcome == steps.Staged || r.Outcome == steps.Fixed || r.Outcome == steps.Failed) {
		b.WriteString(s.Heading.Render("Changes") + "\n" + scr.changeLines(sh, r.Changes) + "\n")
	}
	if r.Reason != "" {
		b.WriteString(s.Heading.Render("Reason") + "\n" + sh.wrap(printable.String(r.Reason, true), 2) + "\n\n")
	}
	if r.Outcome == steps.Waived {
		b.WriteString(strings.TrimLeft(sh.waiverLine(r.StepID), " ") + "\n\n")
	}
	if r.Evidence != "" {
		b.WriteString(s.Heading.Render("Evidence") + "\n" + sh.wrap(printable.String(r.Evidence, true), 2) + "\n\n")
	}
	if mt.Kind == steps.Manual && mt.Attest != "" {
		b.WriteString(s.Heading.Render("What you confirm") + "\n" + sh.wrap(mt.Attest, 2) + "\n\n")
	}
	if mt.Caution != "" {
		b.WriteString(s.Warn.Render(s.Heading.Render("Caution")+"\n"+sh.wrap(mt.Caution, 2)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// changeLines renders changes as a setting / now / after table.
func (scr stepScreen) changeLines(sh *shell, cs []steps.Change) string {
	if len(cs) == 0 {
		return sh.st.Muted.Render("  (nothing differs)") + "\n"
	}
	w := max(sh.width-4, 30)
	col := (w - 4) / 3
	cell := func(v string, n int) string {
		v = truncate(v, n)
		return v + strings.Repeat(" ", max(n-visibleWidth(v), 0))
	}
	var b strings.Builder
	b.WriteString("  " + sh.st.Muted.Render(cell("Setting", col)+"  "+cell("Now", col)+"  "+cell("After", col)) + "\n")
	for _, c := range cs {
		set, from, to := printable.String(c.Setting), printable.String(c.From), printable.String(c.To)
		if visibleWidth(set) <= col && visibleWidth(from) <= col && visibleWidth(to) <= col {
			b.WriteString("  " + cell(set, col) + "  " + cell(from, col) + "  " + cell(to, col) + "\n")
			continue
		}
		// Too long for a row: one line each, wrapped, so nothing is cut.
		b.WriteString(sh.wrap(set, 2) + "\n")
		b.WriteString(sh.wrap("now:   "+from, 4) + "\n")
		b.WriteString(sh.wrap("after: "+to, 4) + "\n")
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

func (scr stepScreen) stepHeader(sh *shell) string {
	mt := scr.meta(sh)
	r := sh.sess.Result(scr.id)
	return truncate(sh.st.Title.Render(printable.String(mt.Section)+" "+printable.String(mt.Title))+"  "+sh.st.badge(r.Outcome), sh.width)
}

// View draws the screen.
func (scr stepScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(scr.stepHeader(sh) + "\n\n")
	switch scr.mode {
	case stepView:
		b.WriteString(scr.vp.View() + "\n")
		if st := sh.statusLine(); st != "" {
			b.WriteString(sh.clip(st, 3) + "\n")
		}
		fix, attest, decide := scr.can(sh)
		k := sh.keys
		k.Fix.SetEnabled(fix)
		k.Attest.SetEnabled(attest)
		k.Waive.SetEnabled(decide)
		k.NotApplicable.SetEnabled(decide)
		k.Edit.SetEnabled(fix && scr.values != nil)
		b.WriteString(sh.help(k.Fix, k.Edit, k.Attest, k.Waive, k.NotApplicable, k.NextOpen, hint("↑/↓", "scroll"), k.Back))
	case stepPreview:
		t := sh.timing()
		var tail strings.Builder
		yes := hint("y", "apply")
		if del := deletions(scr.changes); len(del) > 0 {
			tail.WriteString(s.Warn.Render(sh.wrap("This deletes: "+strings.Join(del, ", ")+". "+t.Delete, 0)) + "\n\n")
			yes = hint("y", "apply (you confirm the deletion next)")
		}
		tail.WriteString(sh.wrap(t.Apply, 0) + "\n\n")
		tail.WriteString(sh.armHelp(yes, sh.keys.Edit, hint("esc", "cancel")))
		// The table gives way to the wording and the keys, never the reverse.
		room := max(sh.height-lipgloss.Height(b.String())-lipgloss.Height(tail.String())-2, 2)
		table := strings.Split(strings.TrimRight(scr.changeLines(sh, scr.changes), "\n"), "\n")
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
		room := max(sh.height-12, 2)
		for i, d := range del {
			if i == room-1 && len(del) > room {
				b.WriteString(s.Muted.Render(fmt.Sprintf("  … and %d more", len(del)-i)) + "\n")
				break
			}
			b.WriteString(s.Warn.Render(truncate("  ✗ "+d, sh.width)) + "\n")
		}
		b.WriteString("\n" + s.Warn.Render(sh.wrap(sh.timing().Delete, 0)) + "\n\n")
		b.WriteString(sh.wrap("The rest of the preview is applied with it.", 0) + "\n\n")
		b.WriteString(sh.armHelp(hint("y", "delete and apply"), hint("esc", "back to the preview")))
	case stepBusy:
		b.WriteString(sh.spin.View() + " " + scr.busyWhat + "\n")
	default:
		if sh.errText != "" {
			b.WriteString(s.Bad.Render(sh.wrap(sh.errText, 0)) + "\n\n")
		}
		if scr.mode == stepAttest && scr.meta(sh).Attest != "" {
			b.WriteString(sh.clip(sh.wrap(scr.meta(sh).Attest, 0), 4) + "\n\n")
		}
		b.WriteString(sh.formView(lipgloss.Height(b.String())))
	}
	return b.String()
}

// Update handles a key on the screen.
func (scr *stepScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	stay := nav{}
	switch scr.mode {
	case stepBusy:
		return nil, stay
	case stepDelete:
		if key.Matches(k, sh.keys.Back) {
			scr.mode = stepPreview
			return sh.arm(), stay
		}
		if !sh.armed {
			return nil, stay
		}
		switch {
		case key.Matches(k, sh.keys.Yes):
			return scr.apply(sh), stay
		case key.Matches(k, sh.keys.No):
			scr.mode = stepPreview
			return sh.arm(), stay
		}
		return nil, stay
	case stepPreview:
		switch {
		case key.Matches(k, sh.keys.Up):
			scr.pvOff = max(scr.pvOff-1, 0)
			return nil, stay
		case key.Matches(k, sh.keys.Down):
			scr.pvOff = min(scr.pvOff+1, max(len(scr.changes)*3, 0))
			return nil, stay
		}
		if !sh.armed {
			return nil, stay
		}
		switch {
		case key.Matches(k, sh.keys.Yes):
			if len(deletions(scr.changes)) > 0 {
				// A deletion asks for its own, deliberate yes.
				scr.mode = stepDelete
				return sh.arm(), stay
			}
			return scr.apply(sh), stay
		case key.Matches(k, sh.keys.Edit):
			return scr.openInputs(sh), stay
		case key.Matches(k, sh.keys.Back), key.Matches(k, sh.keys.No):
			return scr.cancelPlan(sh), stay
		}
		return nil, stay
	}
	fix, attest, decide := scr.can(sh)
	switch {
	case key.Matches(k, sh.keys.Back), key.Matches(k, sh.keys.Quit):
		sh.errText, sh.notice = "", ""
		return nil, goTo(scrOverview)
	case fix && key.Matches(k, sh.keys.Fix):
		scr.values = nil
		return scr.openInputs(sh), stay
	case fix && scr.values != nil && key.Matches(k, sh.keys.Edit):
		return scr.openInputs(sh), stay
	case attest && key.Matches(k, sh.keys.Attest):
		return scr.openAttest(sh), stay
	case decide && key.Matches(k, sh.keys.Waive):
		return scr.openReason(sh, steps.Waived), stay
	case decide && key.Matches(k, sh.keys.NotApplicable):
		return scr.openReason(sh, steps.NotApplicable), stay
	case key.Matches(k, sh.keys.NextOpen):
		if id, ok := sh.nextOpen(scr.id); ok {
			return nil, nav{to: scrStep, stepID: id}
		}
		sh.notice = "Every step is decided."
		return nil, stay
	}
	sh.scroll(&scr.vp, k)
	return nil, stay
}

// inputFields builds form fields for a step's inputs, prefilled with
// vals. The inputs in planned take their default from the site plan
// (the plan's value by key): their fields say so, and say it when the
// value differs.
func inputFields(mt steps.Meta, vals steps.Values, planned map[string]string) []fieldSpec {
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
		if pv, ok := planned[in.Key]; ok && !in.Secret {
			f.Planned, f.PlanValue = true, printable.String(pv, in.Multiline)
		}
		fields = append(fields, f)
	}
	return fields
}

// planSource is a session that fills inputs from a site plan: FromPlan
// is what the plan gives for a step (the command's planned engine).
type planSource interface {
	FromPlan(stepID string) steps.Values
}

// fromPlan is, for step id, the inputs whose default comes from the site
// plan, with the plan's values: from the session when it is a
// planSource, else from Config.Planned with the session's defaults.
func fromPlan(sh *shell, id string, defaults steps.Values) map[string]string {
	out := map[string]string{}
	if ps, ok := sh.sess.(planSource); ok {
		for k, v := range ps.FromPlan(id) {
			out[k] = v
		}
		return out
	}
	if sh.cfg.Planned != nil {
		for k, ok := range sh.cfg.Planned(id) {
			if ok {
				out[k] = defaults[k]
			}
		}
	}
	return out
}

// stepFields are the step's input fields with the values to show: the
// technician's last ones, else the defaults.
func (scr stepScreen) stepFields(sh *shell) []fieldSpec {
	defaults := sh.sess.Defaults(scr.id)
	vals := scr.values
	if vals == nil {
		vals = defaults
	}
	return inputFields(scr.meta(sh), vals, fromPlan(sh, scr.id, defaults))
}

func (scr *stepScreen) openInputs(sh *shell) tea.Cmd {
	mt := scr.meta(sh)
	sh.errText, sh.notice = "", ""
	if len(mt.Inputs) == 0 {
		return scr.plan(sh, steps.Values{})
	}
	scr.mode = stepInputs
	sh.openForm(scr.stepFields(sh)...)
	return nil
}

func (scr *stepScreen) openAttest(sh *shell) tea.Cmd {
	sh.errText, sh.notice = "", ""
	scr.mode = stepAttest
	fields := scr.stepFields(sh)
	fields = append(fields, fieldSpec{Key: noteKey, Title: "Note (optional)", Limit: 500, Multiline: true})
	sh.openForm(fields...)
	return nil
}

func (scr *stepScreen) openReason(sh *shell, o steps.Outcome) tea.Cmd {
	sh.errText, sh.notice = "", ""
	scr.mode = stepReason
	scr.reasonKind = o
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
				Placeholder: "J. Smith, OT security", Value: scr.waiver.Approver,
				Help: "Who accepted the risk of skipping this step. Required.", Validate: required("approver's name and role")},
			fieldSpec{Key: "expires", Title: "Waiver holds until (YYYY-MM-DD)", Limit: 10,
				Placeholder: "2027-06-30", Value: scr.waiver.Expires,
				Help:     "The last day the waiver holds; the step is due again after it.",
				Validate: func(s string) error { return validExpiry(s, time.Now()) }})
	}
	sh.openForm(fields...)
	return nil
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

// formDone takes in the answers of the screen's form.
func (scr *stepScreen) formDone(sh *shell, v map[string]string) (tea.Cmd, nav) {
	switch scr.mode {
	case stepReason:
		// Recording a decision writes the journal (fsync): a command.
		_, seq := sh.startOp(applyTimeout)
		scr.mode = stepBusy
		scr.busyWhat = "Recording the decision…"
		sess, id, kind, reason := sh.sess, scr.id, scr.reasonKind, v["reason"]
		scr.waiver = WaiverInfo{Approver: strings.TrimSpace(v["approver"]), Expires: strings.TrimSpace(v["expires"])}
		return tea.Batch(sh.spin.Tick, func() tea.Msg {
			var err error
			if kind == steps.NotApplicable {
				err = sess.NotApplicable(id, reason)
			} else {
				err = sess.Waive(id, reason)
			}
			return opDoneMsg{seq: seq, kind: opDecide, id: id, err: err}
		}), nav{}
	case stepAttest:
		note := v[noteKey]
		delete(v, noteKey)
		scr.values = steps.Values(v)
		ctx, seq := sh.startOp(applyTimeout)
		scr.mode = stepBusy
		scr.busyWhat = "Recording the attestation…"
		sess, id, in := sh.sess, scr.id, steps.Values(v)
		return tea.Batch(sh.spin.Tick, func() tea.Msg {
			return opDoneMsg{seq: seq, kind: opAttest, id: id, err: sess.Attest(ctx, id, in, note)}
		}), nav{}
	default:
		return scr.plan(sh, steps.Values(v)), nav{}
	}
}

// formCancelled takes in esc on the screen's form.
func (scr *stepScreen) formCancelled(sh *shell) tea.Cmd {
	if scr.mode == stepInputs && scr.planned {
		// The inputs were opened from a preview: dismissing them
		// dismisses the preview too.
		return scr.cancelPlan(sh)
	}
	scr.mode = stepView
	scr.layout(sh)
	return nil
}

// plan asks the engine for the preview in a command; nothing is sent.
func (scr *stepScreen) plan(sh *shell, in steps.Values) tea.Cmd {
	scr.values = in
	_, seq := sh.startOp(applyTimeout)
	scr.mode = stepBusy
	scr.busyWhat = "Preparing the preview…"
	sess, id := sh.sess, scr.id
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		cs, err := sess.Plan(id, in)
		return planMsg{seq: seq, id: id, changes: cs, err: err}
	})
}

// onPlanned shows the preview, armed, or the refusal.
func (scr *stepScreen) onPlanned(sh *shell, msg planMsg) (tea.Cmd, nav) {
	if msg.id != scr.id {
		return nil, nav{}
	}
	var refused *steps.RefusedError
	switch err := msg.err; {
	case errors.As(err, &refused):
		scr.mode = stepView
		sh.errText = "Refused, nothing was sent: " + printable.String(refused.Err.Error(), true) +
			"\nPress e to edit the inputs."
		scr.layout(sh)
		return nil, nav{}
	case err != nil:
		scr.mode = stepView
		sh.errText = printable.String(err.Error(), true)
		scr.layout(sh)
		return nil, nav{}
	}
	scr.changes = msg.changes
	scr.planned = true
	scr.mode = stepPreview
	scr.pvOff = 0
	return sh.arm(), nav{}
}

// cancelPlan drops the step's plan in a command (the engine journals
// the cancellation): the dismissed preview never reaches the record.
func (scr *stepScreen) cancelPlan(sh *shell) tea.Cmd {
	_, seq := sh.startOp(applyTimeout)
	scr.mode = stepBusy
	scr.busyWhat = "Dropping the preview…"
	sess, id := sh.sess, scr.id
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opCancel, id: id, err: sess.Cancel(id)}
	})
}

// apply sends the planned change in a tea.Cmd.
func (scr *stepScreen) apply(sh *shell) tea.Cmd {
	scr.planned = false // Apply takes the plan, whatever its outcome
	ctx, seq := sh.startOp(applyTimeout)
	scr.mode = stepBusy
	scr.busyWhat = "Applying the change…"
	sess, id := sh.sess, scr.id
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opApply, id: id, err: sess.Apply(ctx, id)}
	})
}

// onDone takes in the end of the screen's operations.
func (scr *stepScreen) onDone(sh *shell, msg opDoneMsg) (tea.Cmd, nav) {
	scr.mode = stepView
	switch msg.kind {
	case opApply:
		if msg.err != nil {
			sh.errText = "The change failed and is not verified: " + printable.String(msg.err.Error(), true)
			break
		}
		notice := "Change sent for " + sh.stepLabel(msg.id) + ": staged until the restart (r on the overview) verifies it."
		if next, ok := sh.nextOpen(msg.id); ok {
			return nil, nav{to: scrStep, stepID: next, notice: notice}
		}
		sh.notice = notice
	case opCancel:
		scr.planned = false
		if msg.err != nil {
			sh.errText = "Nothing was sent, but the cancelled preview could not be recorded: " + printable.String(msg.err.Error(), true)
		} else {
			sh.notice = "Cancelled; nothing was sent."
		}
	case opDecide:
		if msg.err != nil {
			e := printable.String(msg.err.Error(), true)
			cmd := scr.openReason(sh, scr.reasonKind)
			sh.errText = e
			return cmd, nav{}
		}
		if scr.reasonKind == steps.Waived {
			ws := make(map[string]WaiverInfo, len(sh.waivers)+1)
			for k, w := range sh.waivers {
				ws[k] = w
			}
			ws[msg.id] = scr.waiver
			sh.waivers = ws
		}
		scr.waiver = WaiverInfo{}
		sh.notice = "Recorded as " + strings.ReplaceAll(string(scr.reasonKind), "_", " ") + "."
	case opAttest:
		if msg.err != nil {
			sh.errText = printable.String(msg.err.Error(), true)
		} else {
			sh.notice = "Attested."
		}
	}
	scr.layout(sh)
	return nil, nav{}
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// isOpen reports whether a step still waits for a decision.
func isOpen(o steps.Outcome) bool {
	switch o {
	case steps.Deviation, steps.ManualPending, steps.Pending, steps.Failed, steps.Error:
		return true
	}
	return false
}
