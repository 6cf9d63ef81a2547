package tui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

// sumMode is what the summary screen shows.
type sumMode int

const (
	sumView    sumMode = iota // counts, waivers and failures
	sumForm                   // who, for the record
	sumConfirm                // the answers read back, waiting for a deliberate yes
	sumBusy                   // writing the record
	sumDone                   // where the record went
)

func (m Model) openSummary() (tea.Model, tea.Cmd) {
	m.screen = scrSummary
	m.sum.mode = sumView
	m.errText, m.notice = "", ""
	if m.finished {
		m.sum.mode = sumDone
	}
	m.layout()
	m.vp.GotoTop()
	if m.finished || m.sum.keyKnown || m.sum.keyLooking {
		return m, nil
	}
	sk := m.cfg.SigningKey
	if sk == nil {
		m.sum.keyKnown = true
		return m, nil
	}
	// Looking for the signing key touches the ssh-agent socket and key
	// files: a command, started as soon as the summary shows.
	m.sum.keyLooking = true
	return m, func() tea.Msg {
		ks := sk()
		return keyStatusMsg{status: &ks}
	}
}

func (m Model) summaryContent() string {
	if m.sess == nil {
		return ""
	}
	s := m.st
	rs := m.sess.Results()
	counts := map[steps.Outcome]int{}
	for _, r := range rs {
		counts[r.Outcome]++
	}
	var b strings.Builder
	b.WriteString(truncate(identityLine(m.sess.Identity()), m.width) + "\n\n")
	var parts []string
	for _, o := range outcomeOrder {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s.badge(o), counts[o]))
		}
	}
	b.WriteString(m.wrapParts(parts) + "\n\n")
	if n := counts[steps.Staged]; n > 0 {
		b.WriteString(s.Warn.Render(m.wrap(plural(n, "change is", "changes are")+
			" sent but not verified. Go back and press r to restart and verify first.", 0)) + "\n\n")
	}
	section := func(title string, o ...steps.Outcome) {
		var lines []string
		for _, r := range rs {
			if containsOutcome(o, r.Outcome) {
				l := "  " + s.badge(r.Outcome) + " " + printable.String(r.Meta.Section) + " " + printable.String(r.Meta.Title)
				lines = append(lines, truncate(l, m.width))
				if r.Reason != "" {
					lines = append(lines, m.wrap(printable.String(r.Reason, true), 4))
				}
				if r.Outcome == steps.Waived {
					lines = append(lines, m.waiverLine(r.StepID))
				}
			}
		}
		if len(lines) > 0 {
			b.WriteString(s.Heading.Render(title) + "\n" + strings.Join(lines, "\n") + "\n\n")
		}
	}
	section("Waived", steps.Waived)
	section("Not applicable", steps.NotApplicable)
	section("Failed or not checked", steps.Failed, steps.Error)
	section("Still open", steps.Deviation, steps.ManualPending, steps.Pending)
	return strings.TrimRight(b.String(), "\n")
}

// waiverLine says who approved a waived step and until when.
func (m Model) waiverLine(id string) string {
	w, ok := m.waivers[id]
	if !ok {
		return m.st.Warn.Render(m.wrap("Approver and expiry not given in this run of the wizard.", 4))
	}
	return m.wrap("Approved by "+printable.String(w.Approver)+", until "+printable.String(w.Expires), 4)
}

// wrapParts joins parts with " · ", breaking lines at the screen width.
func (m Model) wrapParts(parts []string) string {
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case visibleWidth(cur)+3+visibleWidth(p) > m.width:
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

func containsOutcome(os []steps.Outcome, o steps.Outcome) bool {
	for _, x := range os {
		if x == o {
			return true
		}
	}
	return false
}

// View draws the screen.
func (scr summaryScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Summary") + "\n\n")
	switch scr.mode {
	case sumView:
		b.WriteString(m.vp.View() + "\n")
		switch {
		case scr.keyLooking:
			b.WriteString(m.spin.View() + " Looking for your signing key…\n")
		case scr.keyStat != nil && scr.keyStat.Found:
			b.WriteString(truncate(s.Muted.Render("Signing key: "+printable.String(scr.keyStat.Description)), m.width) + "\n")
		case scr.keyStat != nil:
			b.WriteString(truncate(s.Muted.Render("Signing key: none found yet; you can create one"), m.width) + "\n")
		}
		if st := m.statusLine(); st != "" {
			b.WriteString(m.clip(st, 2) + "\n")
		}
		b.WriteString(m.help(hint("enter", "write the signed record"),
			hint("↑/↓", "scroll"), m.keys.Back, m.keys.Quit))
	case sumForm:
		if m.errText != "" {
			b.WriteString(s.Bad.Render(m.wrap(m.errText, 0)) + "\n\n")
		}
		b.WriteString(m.formView(lipgloss.Height(b.String())))
	case sumConfirm:
		b.WriteString(s.Heading.Render("Sign the record as") + "\n")
		row := func(label, v string) {
			b.WriteString(truncate(fmt.Sprintf("  %-11s %s", label, printable.String(v)), m.width) + "\n")
		}
		row("Technician", scr.info.Technician)
		row("Identity", scr.info.Email+" (the e-mail in the signature)")
		row("Company", scr.info.Company)
		row("Site", scr.info.Site)
		accepted := "not given"
		if scr.info.AcceptedBy != "" {
			accepted = scr.info.AcceptedBy
			if scr.info.AcceptedRole != "" {
				accepted += ", " + scr.info.AcceptedRole
			}
		}
		row("Accepted by", accepted)
		if scr.keyStat != nil {
			switch {
			case !scr.keyStat.Found:
				row("Key", "a new Ed25519 key at "+scr.keyStat.CreatePath)
			default:
				row("Key", scr.keyStat.Description)
			}
		}
		if open, total := m.openCount(); open > 0 {
			b.WriteString(s.Warn.Render(truncate(fmt.Sprintf("  %-11s INCOMPLETE: %d of %d steps open", "Status", open, total), m.width)) + "\n")
			reason := printable.String(scr.info.IncompleteReason, true)
			b.WriteString(m.clip(m.wrap("Reason:     "+strings.ReplaceAll(reason, "\n", " / "), 2), 3) + "\n")
		} else {
			row("Status", fmt.Sprintf("commissioned: all %d steps closed", total))
		}
		b.WriteString("\n" + m.clip(m.wrap("Device: "+identityLine(m.sess.Identity()), 0), 2) + "\n\n")
		b.WriteString(m.wrap("The record cannot be changed once it is signed. Check every line.", 0) + "\n\n")
		b.WriteString(m.armHelp(hint("y", "sign and write the record"), hint("e", "edit"), hint("esc", "back")))
	case sumBusy:
		if scr.finishing {
			b.WriteString(m.spin.View() + " Writing and signing the record…\n")
		} else {
			b.WriteString(m.spin.View() + " Looking for your signing key…\n")
		}
	case sumDone:
		b.WriteString(s.OK.Render("The record is written and signed.") + "\n\n")
		b.WriteString("Bundle:\n" + m.wrap(printable.String(m.finishRes.Dir), 2) + "\n\n")
		if m.finishRes.VerifyCommand != "" {
			b.WriteString("Verify it with:\n" + m.wrap(printable.String(m.finishRes.VerifyCommand), 2) + "\n\n")
		}
		b.WriteString(m.help(m.keys.Quit))
	}
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *summaryScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	switch scr.mode {
	case sumBusy:
		return nil
	case sumConfirm:
		if key.Matches(k, m.keys.Back) {
			scr.mode = sumView
			return nil
		}
		if !m.armed {
			return nil
		}
		switch {
		case key.Matches(k, m.keys.Yes):
			return m.do(m.writeRecord())
		case key.Matches(k, m.keys.Edit):
			return m.do(m.openFinishForm())
		case key.Matches(k, m.keys.No):
			scr.mode = sumView
		}
		return nil
	case sumDone:
		if key.Matches(k, m.keys.Quit, m.keys.Enter) {
			return m.do(m.quit())
		}
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		if m.sess.Pending() > 0 {
			m.confirmQuit = true
			return m.arm()
		}
		return m.do(m.quit())
	case key.Matches(k, m.keys.Back):
		m.screen = scrOverview
		m.errText, m.notice = "", ""
	case key.Matches(k, m.keys.Enter):
		if m.cfg.Finish == nil {
			m.errText = "this build cannot write records"
			return nil
		}
		// The form opens at once, so typeahead reaches it, whether the
		// key lookup has answered or not.
		scr.finishing = false
		return m.do(m.openFinishForm())
	default:
		m.scroll(k)
	}
	return nil
}

// openFinishForm asks who signs, who accepts for the plant and, when a
// step is open, for a deliberate yes and the reason to sign anyway; the
// key's field comes with the key.
func (m Model) openFinishForm() (tea.Model, tea.Cmd) {
	m.sum.mode = sumForm
	in := m.sum.info
	fields := []fieldSpec{
		{Key: "technician", Title: "Technician", Limit: 120, Validate: required("technician's name"), Value: in.Technician},
		{Key: "email", Title: "E-mail (your signing identity)", Limit: 120, Validate: validEmail, Value: in.Email},
		{Key: "company", Title: "Company", Limit: 120, Validate: required("company"), Value: in.Company},
		{Key: "site", Title: "Site", Limit: 120, Validate: required("site"), Value: in.Site},
		{Key: "acceptedby", Title: "Accepted for the plant by (optional)", Limit: 120, Value: in.AcceptedBy,
			Help: "The plant's person who accepts the record; they sign the paper copy."},
		{Key: "acceptedrole", Title: "Their role (optional)", Limit: 120, Value: in.AcceptedRole},
	}
	if open, _ := m.openCount(); open > 0 {
		fields = append(fields, m.incompleteFields()...)
	}
	m.sum.keyAsked = m.sum.keyKnown
	if m.sum.keyKnown {
		fields = append(fields, keyFields(m.sum.keyStat)...)
	}
	m.openForm(fields...)
	return m, nil
}

// signOpenYes is the answer that signs a record with open steps.
const signOpenYes = "yes, sign it as incomplete"

// openCount is the number of open steps (outcome not final) and of all
// steps: a record with an open step is incomplete.
func (m Model) openCount() (open, total int) {
	for _, r := range m.sess.Results() {
		total++
		if !r.Outcome.Final() {
			open++
		}
	}
	return open, total
}

// incompleteFields ask for a deliberate yes to sign a record with open
// steps, and the reason the record will carry.
func (m Model) incompleteFields() []fieldSpec {
	open, total := m.openCount()
	return []fieldSpec{
		{Key: "signopen", Title: fmt.Sprintf("%d of %d steps are open: the record will say INCOMPLETE", open, total),
			Help:    "Sign it anyway? Choose yes only if the open steps cannot be closed on this visit.",
			Options: []string{"no", signOpenYes}, Value: "no",
			Validate: func(s string) error {
				if s != signOpenYes {
					return errors.New("close the open steps first (esc, then the overview), or choose yes")
				}
				return nil
			}},
		{Key: "reason", Title: "Why is the record signed with open steps?", Multiline: true, Limit: 2000,
			Help: "Required. It goes into the signed record.", Value: m.sum.info.IncompleteReason,
			Validate: required("reason for signing with open steps")},
	}
}

// openReasonAgain asks for the reason to sign with open steps after
// Finish refused a record without one (Config.ErrNeedsReason), and for
// the key's passphrase again (it is kept for one signing only).
func (m Model) openReasonAgain(err error) (tea.Model, tea.Cmd) {
	m.sum.mode = sumForm
	fields := m.incompleteFields()
	if ks := m.sum.keyStat; ks != nil && ks.Found && ks.Encrypted {
		fields = append(fields, keyFields(ks)...)
	}
	m.sum.keyAsked = true
	m.openForm(fields...)
	m.errText = "The record was not signed: " + printable.String(err.Error(), true) + ". Give the reason."
	return m, nil
}

// onKeyStatus takes in the signing key found. A form already open does
// not change under the technician's fingers: when it was opened before
// the key was known, the key's own form follows it.
func (m Model) onKeyStatus(ks *KeyStatus) (tea.Model, tea.Cmd) {
	m.sum.keyLooking = false
	if m.sum.keyKnown {
		return m, nil
	}
	m.sum.keyStat, m.sum.keyKnown = ks, true
	if m.screen == scrSummary && m.sum.mode == sumBusy && !m.sum.finishing {
		return m.afterFinishForm()
	}
	return m, nil
}

// afterFinishForm asks for the key's field if the form did not, then
// reads the answers back.
func (m Model) afterFinishForm() (tea.Model, tea.Cmd) {
	if !m.sum.keyKnown {
		m.sum.mode, m.sum.finishing = sumBusy, false
		return m, m.spin.Tick
	}
	if fs := keyFields(m.sum.keyStat); len(fs) > 0 && !m.sum.keyAsked {
		m.sum.keyAsked = true
		m.sum.mode = sumForm
		m.openForm(fs...)
		return m, nil
	}
	m.sum.mode = sumConfirm
	return m, m.arm()
}

func required(what string) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("enter the " + what)
		}
		return nil
	}
}

// createYes is the answer that creates a signing key.
const createYes = "yes, create it"

// keyFields are the fields the signing key needs: a yes to create one,
// or the passphrase of an encrypted one.
func keyFields(ks *KeyStatus) []fieldSpec {
	switch {
	case ks == nil:
		return nil
	case !ks.Found:
		return []fieldSpec{{Key: "createkey", Title: "No SSH key found to sign the record",
			Help:    "Create a new Ed25519 key at " + printable.String(ks.CreatePath) + "?",
			Options: []string{createYes, "no"}, Value: createYes,
			Validate: func(s string) error {
				if s != createYes {
					return errors.New("the record must be signed: create a key, or load one into ssh-agent and finish again")
				}
				return nil
			}}}
	case ks.Encrypted:
		return []fieldSpec{{Key: "passphrase", Title: "Passphrase of " + printable.String(ks.Description),
			Secret: true, Validate: required("key's passphrase")}}
	}
	return nil
}

func (m Model) finishFormDone(v map[string]string) (tea.Model, tea.Cmd) {
	if _, ok := v["technician"]; ok {
		m.sum.info.Technician = strings.TrimSpace(v["technician"])
		m.sum.info.Email = strings.TrimSpace(v["email"])
		m.sum.info.Company = strings.TrimSpace(v["company"])
		m.sum.info.Site = strings.TrimSpace(v["site"])
		m.sum.info.AcceptedBy = strings.TrimSpace(v["acceptedby"])
		m.sum.info.AcceptedRole = strings.TrimSpace(v["acceptedrole"])
		m.sum.info.IncompleteReason = ""
	}
	if r, ok := v["reason"]; ok {
		m.sum.info.IncompleteReason = strings.TrimSpace(r)
	}
	if p, ok := v["passphrase"]; ok {
		m.sum.info.Passphrase = p
	}
	if c, ok := v["createkey"]; ok {
		m.sum.info.CreateKey = c == createYes
	}
	return m.afterFinishForm()
}

// writeRecord signs and writes the record in a command.
func (m Model) writeRecord() (tea.Model, tea.Cmd) {
	info := m.sum.info
	m.sum.info.Passphrase = "" // kept only for this one use
	if open, _ := m.openCount(); open == 0 {
		info.IncompleteReason = "" // the steps were closed since it was given
	}
	info.Waivers = nil
	for _, r := range m.sess.Results() {
		if w, ok := m.waivers[r.StepID]; ok && r.Outcome == steps.Waived {
			if info.Waivers == nil {
				info.Waivers = map[string]WaiverInfo{}
			}
			info.Waivers[r.StepID] = w
		}
	}
	ctx, seq := m.startOp(finishTimeout)
	m.sum.mode, m.sum.finishing = sumBusy, true
	fin, sess := m.cfg.Finish, m.sess
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		res, err := fin(ctx, sess, info)
		return finishedMsg{seq: seq, res: res, err: err}
	})
}

func (m Model) onFinished(msg finishedMsg) (tea.Model, tea.Cmd) {
	if !m.endOp(msg.seq) {
		return m, nil
	}
	if need := m.cfg.ErrNeedsReason; need != nil && errors.Is(msg.err, need) {
		return m.openReasonAgain(msg.err)
	}
	if msg.err != nil {
		m.sum.mode = sumView
		m.errText = "The record was not written: " + printable.String(msg.err.Error(), true)
		m.layout()
		return m, nil
	}
	m.finished = true
	m.finishRes = msg.res
	m.sum.mode = sumDone
	return m, nil
}

// validEmail accepts one word with an @, as allowed_signers needs.
func validEmail(s string) error {
	s = strings.TrimSpace(s)
	at := strings.Index(s, "@")
	if at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t,\"'") {
		return errors.New("enter an e-mail address such as ada@vendor.example: it names you in the signature")
	}
	return nil
}
