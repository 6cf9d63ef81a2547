package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/commission-tool/commission/internal/devices"
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
	stepBusy                    // applying or attesting
)

// noteKey is the form key of the attestation's note; step input keys
// never start with a dot.
const noteKey = ".note"

func (m Model) openStep(id string) (tea.Model, tea.Cmd) {
	m.screen = scrStep
	m.stepID = id
	m.stepMode = stepView
	m.values, m.changes = nil, nil
	m.errText, m.notice = "", ""
	m.layout()
	m.vp.GotoTop()
	return m, nil
}

func (m Model) meta() steps.Meta {
	for _, mt := range m.sess.Steps() {
		if mt.ID == m.stepID {
			return mt
		}
	}
	return steps.Meta{ID: m.stepID, Title: m.stepID}
}

// can reports which actions the step offers now.
func (m Model) can() (fix, attest, decide bool) {
	mt := m.meta()
	o := m.sess.Result(m.stepID).Outcome
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
	r := m.sess.Result(m.stepID)
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
			b.WriteString(m.wrap("Observed: "+devices.Printable(f.Observed, true), 2) + "\n")
		}
		if f.Expected != "" {
			b.WriteString(m.wrap("Expected: "+devices.Printable(f.Expected, true), 2) + "\n")
		}
		for _, n := range f.Notes {
			b.WriteString(s.Warn.Render(m.wrap("Note: "+devices.Printable(n, true), 2)) + "\n")
		}
		b.WriteString("\n")
	}
	finding("Finding", r.Before)
	finding("After the restart", r.After)
	if len(r.Changes) > 0 && (r.Outcome == steps.Staged || r.Outcome == steps.Fixed || r.Outcome == steps.Failed) {
		b.WriteString(s.Heading.Render("Changes") + "\n" + m.changeLines(r.Changes) + "\n")
	}
	if r.Reason != "" {
		b.WriteString(s.Heading.Render("Reason") + "\n" + m.wrap(devices.Printable(r.Reason, true), 2) + "\n\n")
	}
	if r.Evidence != "" {
		b.WriteString(s.Heading.Render("Evidence") + "\n" + m.wrap(devices.Printable(r.Evidence, true), 2) + "\n\n")
	}
	if mt.Kind == steps.Manual && mt.Attest != "" {
		b.WriteString(s.Heading.Render("What you confirm") + "\n" + m.wrap(mt.Attest, 2) + "\n\n")
	}
	if mt.Caution != "" {
		b.WriteString(s.Warn.Render(s.Heading.Render("Caution")+"\n"+m.wrap(mt.Caution, 2)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// changeLines renders a plan's preview.
func (m Model) changeLines(cs []steps.Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(m.wrap(devices.Printable(c.Setting)+": "+devices.Printable(c.From)+" → "+devices.Printable(c.To), 2) + "\n")
	}
	return b.String()
}

func (m Model) stepHeader() string {
	mt := m.meta()
	r := m.sess.Result(m.stepID)
	return truncate(m.st.Title.Render(devices.Printable(mt.Section)+" "+devices.Printable(mt.Title))+"  "+m.st.badge(r.Outcome), m.width)
}

func (m Model) viewStep() string {
	s := m.st
	var b strings.Builder
	b.WriteString(m.stepHeader() + "\n\n")
	switch m.stepMode {
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
		k.Edit.SetEnabled(fix && m.values != nil)
		b.WriteString(m.help(k.Fix, k.Edit, k.Attest, k.Waive, k.NotApplicable, hint("↑/↓", "scroll"), k.Back))
	case stepPreview:
		b.WriteString(s.Heading.Render("This will change on the device") + "\n")
		b.WriteString(m.changeLines(m.changes) + "\n")
		b.WriteString(m.wrap("The change is sent now and takes effect at the restart (r on the overview), "+
			"which drops the device's serial links for a moment.", 0) + "\n\n")
		b.WriteString(m.help(hint("y", "apply"), m.keys.Edit,
			hint("esc", "cancel")))
	case stepBusy:
		what := "Applying the change…"
		if m.meta().Kind == steps.Manual {
			what = "Recording the attestation…"
		}
		b.WriteString(m.spin.View() + " " + what + "\n")
	default:
		if m.errText != "" {
			b.WriteString(s.Bad.Render(m.wrap(m.errText, 0)) + "\n\n")
		}
		if m.stepMode == stepAttest && m.meta().Attest != "" {
			b.WriteString(m.wrap(m.meta().Attest, 0) + "\n\n")
		}
		if m.form != nil {
			b.WriteString(m.form.View() + "\n")
		}
		b.WriteString(m.help(hint("enter", "next"), hint("esc", "cancel")))
	}
	return b.String()
}

func (m Model) keyStep(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch m.stepMode {
	case stepBusy:
		return m, nil
	case stepPreview:
		switch {
		case key.Matches(k, m.keys.Yes):
			return m.apply()
		case key.Matches(k, m.keys.Edit):
			return m.openInputs()
		case key.Matches(k, m.keys.Back), key.Matches(k, m.keys.No):
			m.stepMode = stepView
			m.notice = "Cancelled; nothing was sent."
			m.layout()
		}
		return m, nil
	}
	fix, attest, decide := m.can()
	switch {
	case key.Matches(k, m.keys.Back), key.Matches(k, m.keys.Quit):
		m.screen = scrOverview
		m.errText, m.notice = "", ""
		return m, nil
	case fix && key.Matches(k, m.keys.Fix):
		m.values = nil
		return m.openInputs()
	case fix && m.values != nil && key.Matches(k, m.keys.Edit):
		return m.openInputs()
	case attest && key.Matches(k, m.keys.Attest):
		return m.openAttest()
	case decide && key.Matches(k, m.keys.Waive):
		return m.openReason(steps.Waived)
	case decide && key.Matches(k, m.keys.NotApplicable):
		return m.openReason(steps.NotApplicable)
	}
	m.scroll(k)
	return m, nil
}

// inputFields builds form fields for a step's inputs, prefilled with
// vals.
func (m *Model) inputFields(mt steps.Meta, vals steps.Values) []huh.Field {
	var fields []huh.Field
	for _, in := range mt.Inputs {
		in := in
		v := devices.Printable(vals[in.Key], in.Multiline)
		switch {
		case len(in.Options) > 0:
			if !containsString(in.Options, v) {
				v = in.Options[0]
			}
			fields = append(fields, huh.NewSelect[string]().Title(in.Label).Description(in.Help).
				Options(huh.NewOptions(in.Options...)...).Value(m.bind(in.Key, v)))
		case in.Multiline:
			f := huh.NewText().Title(in.Label).Description(in.Help).Lines(4).Value(m.bind(in.Key, v))
			if in.Validate != nil {
				f = f.Validate(in.Validate)
			}
			fields = append(fields, f)
		default:
			f := huh.NewInput().Title(in.Label).Description(in.Help).CharLimit(1024).Value(m.bind(in.Key, v))
			if in.Secret {
				f = f.EchoMode(huh.EchoModePassword)
			}
			if in.Validate != nil {
				f = f.Validate(in.Validate)
			}
			fields = append(fields, f)
		}
	}
	return fields
}

func (m Model) openInputs() (tea.Model, tea.Cmd) {
	mt := m.meta()
	m.errText, m.notice = "", ""
	vals := m.values
	if vals == nil {
		vals = m.sess.Defaults(m.stepID)
	}
	if len(mt.Inputs) == 0 {
		return m.plan(steps.Values{})
	}
	m.formVals = nil
	m.stepMode = stepInputs
	cmd := m.newForm(m.inputFields(mt, vals)...)
	return m, cmd
}

func (m Model) openAttest() (tea.Model, tea.Cmd) {
	mt := m.meta()
	m.errText, m.notice = "", ""
	vals := m.values
	if vals == nil {
		vals = m.sess.Defaults(m.stepID)
	}
	m.formVals = nil
	m.stepMode = stepAttest
	fields := m.inputFields(mt, vals)
	fields = append(fields, huh.NewInput().Title("Note (optional)").CharLimit(500).Value(m.bind(noteKey, "")))
	cmd := m.newForm(fields...)
	return m, cmd
}

func (m Model) openReason(o steps.Outcome) (tea.Model, tea.Cmd) {
	m.errText, m.notice = "", ""
	m.formVals = nil
	m.stepMode = stepReason
	m.reasonKind = o
	title := "Why do you waive this step?"
	if o == steps.NotApplicable {
		title = "Why does this step not apply here?"
	}
	cmd := m.newForm(huh.NewInput().Title(title).
		Description("Required. It goes into the signed record.").CharLimit(500).
		Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("a reason is required")
			}
			return nil
		}).Value(m.bind("reason", "")))
	return m, cmd
}

func (m Model) stepFormDone(v map[string]string) (tea.Model, tea.Cmd) {
	switch m.stepMode {
	case stepReason:
		var err error
		if m.reasonKind == steps.NotApplicable {
			err = m.sess.NotApplicable(m.stepID, v["reason"])
		} else {
			err = m.sess.Waive(m.stepID, v["reason"])
		}
		if err != nil {
			next, cmd := m.openReason(m.reasonKind)
			nm := next.(Model)
			nm.errText = devices.Printable(err.Error(), true)
			return nm, cmd
		}
		m.stepMode = stepView
		m.notice = "Recorded as " + strings.ReplaceAll(string(m.reasonKind), "_", " ") + "."
		m.layout()
		return m, nil
	case stepAttest:
		note := v[noteKey]
		delete(v, noteKey)
		m.values = steps.Values(v)
		ctx, seq := m.startOp(applyTimeout)
		m.stepMode = stepBusy
		sess, id, in := m.sess, m.stepID, steps.Values(v)
		return m, tea.Batch(m.spin.Tick, func() tea.Msg {
			return opDoneMsg{seq: seq, kind: opAttest, id: id, err: sess.Attest(ctx, id, in, note)}
		})
	default:
		return m.plan(steps.Values(v))
	}
}

// plan asks the engine for the preview; nothing is sent.
func (m Model) plan(in steps.Values) (tea.Model, tea.Cmd) {
	m.values = in
	cs, err := m.sess.Plan(m.stepID, in)
	var refused *steps.RefusedError
	switch {
	case errors.As(err, &refused):
		m.stepMode = stepView
		m.errText = "Refused, nothing was sent: " + devices.Printable(refused.Err.Error(), true) +
			"\nPress e to edit the inputs."
		m.layout()
		return m, nil
	case err != nil:
		m.stepMode = stepView
		m.errText = devices.Printable(err.Error(), true)
		m.layout()
		return m, nil
	}
	m.changes = cs
	m.stepMode = stepPreview
	return m, nil
}

// apply sends the planned change in a tea.Cmd.
func (m Model) apply() (tea.Model, tea.Cmd) {
	ctx, seq := m.startOp(applyTimeout)
	m.stepMode = stepBusy
	sess, id := m.sess, m.stepID
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		return opDoneMsg{seq: seq, kind: opApply, id: id, err: sess.Apply(ctx, id)}
	})
}

func (m Model) onOpDone(msg opDoneMsg) (tea.Model, tea.Cmd) {
	if !m.endOp(msg.seq) {
		return m, nil
	}
	switch msg.kind {
	case opApply:
		m.stepMode = stepView
		if msg.err != nil {
			m.errText = "The change failed and is not verified: " + devices.Printable(msg.err.Error(), true)
		} else {
			m.notice = "Change sent: staged until the restart (r on the overview) verifies it."
		}
		m.layout()
	case opAttest:
		m.stepMode = stepView
		if msg.err != nil {
			m.errText = devices.Printable(msg.err.Error(), true)
		} else {
			m.notice = "Attested."
		}
		m.layout()
	case opCommit:
		m.commitDone = true
		if msg.err != nil {
			m.errText = devices.Printable(msg.err.Error(), true)
		}
		m.layout()
	case opRecheck:
		if msg.err != nil {
			m.errText = devices.Printable(msg.err.Error(), true)
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
