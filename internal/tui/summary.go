package tui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
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

// summaryScreen is the summary and the signing of the record.
type summaryScreen struct {
	mode       sumMode
	vp         viewport.Model // the summary
	info       FinishInfo     // the form's answers, read back before signing
	keyStat    *KeyStatus
	keyKnown   bool // the signing-key lookup answered
	keyLooking bool // the signing-key lookup runs
	keyAsked   bool // the finish form had the key's field
	finishing  bool // the busy summary is writing the record (not looking up the key)
	finished   bool // the record was written
	res        FinishResult
}

// open shows the summary and starts looking for the signing key.
func (scr *summaryScreen) open(sh *shell) tea.Cmd {
	scr.mode = sumView
	sh.errText, sh.notice = "", ""
	if scr.finished {
		scr.mode = sumDone
	}
	scr.layout(sh)
	scr.vp.GotoTop()
	if scr.finished || scr.keyKnown || scr.keyLooking {
		return nil
	}
	sk := sh.cfg.SigningKey
	if sk == nil {
		scr.keyKnown = true
		return nil
	}
	// Looking for the signing key touches the ssh-agent socket and key
	// files: a command, started as soon as the summary shows.
	scr.keyLooking = true
	return func() tea.Msg {
		ks := sk()
		return keyStatusMsg{status: &ks}
	}
}

// layout sizes the summary's viewport and fills it.
func (scr *summaryScreen) layout(sh *shell) {
	scr.vp.SetWidth(sh.width)
	scr.vp.SetHeight(max(sh.height-7, 3))
	scr.vp.SetContent(scr.summaryContent(sh))
}

func (scr summaryScreen) summaryContent(sh *shell) string {
	if sh.sess == nil {
		return ""
	}
	s := sh.st
	rs := sh.sess.Results()
	counts := map[steps.Outcome]int{}
	for _, r := range rs {
		counts[r.Outcome]++
	}
	var b strings.Builder
	b.WriteString(truncate(identityLine(sh.sess.Identity()), sh.width) + "\n\n")
	var parts []string
	for _, o := range outcomeOrder {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s.badge(o), counts[o]))
		}
	}
	b.WriteString(sh.wrapParts(parts) + "\n\n")
	if n := counts[steps.Staged]; n > 0 {
		b.WriteString(s.Warn.Render(sh.wrap(plural(n, "change is", "changes are")+
			" sent but not verified. Go back and press r to restart and verify first.", 0)) + "\n\n")
	}
	section := func(title string, o ...steps.Outcome) {
		var lines []string
		for _, r := range rs {
			if containsOutcome(o, r.Outcome) {
				l := "  " + s.badge(r.Outcome) + " " + printable.String(r.Meta.Section) + " " + printable.String(r.Meta.Title)
				lines = append(lines, truncate(l, sh.width))
				if r.Reason != "" {
					lines = append(lines, sh.wrap(printable.String(r.Reason, true), 4))
				}
				if r.Outcome == steps.Waived {
					lines = append(lines, sh.waiverLine(r.StepID))
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

func containsOutcome(os []steps.Outcome, o steps.Outcome) bool {
	for _, x := range os {
		if x == o {
			return true
		}
	}
	return false
}

// View draws the screen.
func (scr summaryScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Summary") + "\n\n")
	switch scr.mode {
	case sumView:
		b.WriteString(scr.vp.View() + "\n")
		switch {
		case scr.keyLooking:
			b.WriteString(sh.spin.View() + " Looking for your signing key…\n")
		case scr.keyStat != nil && scr.keyStat.Found:
			b.WriteString(truncate(s.Muted.Render("Signing key: "+printable.String(scr.keyStat.Description)), sh.width) + "\n")
		case scr.keyStat != nil:
			b.WriteString(truncate(s.Muted.Render("Signing key: none found yet; you can create one"), sh.width) + "\n")
		}
		if st := sh.statusLine(); st != "" {
			b.WriteString(sh.clip(st, 2) + "\n")
		}
		b.WriteString(sh.help(hint("enter", "write the signed record"),
			hint("↑/↓", "scroll"), sh.keys.Back, sh.keys.Quit))
	case sumForm:
		if sh.errText != "" {
			b.WriteString(s.Bad.Render(sh.wrap(sh.errText, 0)) + "\n\n")
		}
		b.WriteString(sh.formView(lipgloss.Height(b.String())))
	case sumConfirm:
		b.WriteString(s.Heading.Render("Sign the record as") + "\n")
		row := func(label, v string) {
			b.WriteString(truncate(fmt.Sprintf("  %-11s %s", label, printable.String(v)), sh.width) + "\n")
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
		if open, total := scr.openCount(sh); open > 0 {
			b.WriteString(s.Warn.Render(truncate(fmt.Sprintf("  %-11s INCOMPLETE: %d of %d steps open", "Status", open, total), sh.width)) + "\n")
			reason := printable.String(scr.info.IncompleteReason, true)
			b.WriteString(sh.clip(sh.wrap("Reason:     "+strings.ReplaceAll(reason, "\n", " / "), 2), 3) + "\n")
		} else {
			row("Status", fmt.Sprintf("commissioned: all %d steps closed", total))
		}
		b.WriteString("\n" + sh.clip(sh.wrap("Device: "+identityLine(sh.sess.Identity()), 0), 2) + "\n\n")
		b.WriteString(sh.wrap("The record cannot be changed once it is signed. Check every line.", 0) + "\n\n")
		b.WriteString(sh.armHelp(hint("y", "sign and write the record"), hint("e", "edit"), hint("esc", "back")))
	case sumBusy:
		if scr.finishing {
			b.WriteString(sh.spin.View() + " Writing and signing the record…\n")
		} else {
			b.WriteString(sh.spin.View() + " Looking for your signing key…\n")
		}
	case sumDone:
		b.WriteString(s.OK.Render("The record is written and signed.") + "\n\n")
		b.WriteString("Bundle:\n" + sh.wrap(printable.String(scr.res.Dir), 2) + "\n\n")
		if scr.res.VerifyCommand != "" {
			b.WriteString("Verify it with:\n" + sh.wrap(printable.String(scr.res.VerifyCommand), 2) + "\n\n")
		}
		b.WriteString(sh.help(sh.keys.Quit))
	}
	return b.String()
}

// Update handles a key on the screen.
func (scr *summaryScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	stay := nav{}
	switch scr.mode {
	case sumBusy:
		return nil, stay
	case sumConfirm:
		if key.Matches(k, sh.keys.Back) {
			scr.mode = sumView
			return nil, stay
		}
		if !sh.armed {
			return nil, stay
		}
		switch {
		case key.Matches(k, sh.keys.Yes):
			return scr.writeRecord(sh), stay
		case key.Matches(k, sh.keys.Edit):
			scr.openFinishForm(sh)
		case key.Matches(k, sh.keys.No):
			scr.mode = sumView
		}
		return nil, stay
	case sumDone:
		if key.Matches(k, sh.keys.Quit, sh.keys.Enter) {
			return nil, nav{quit: true}
		}
		return nil, stay
	}
	switch {
	case key.Matches(k, sh.keys.Quit):
		if sh.sess.Pending() > 0 {
			return nil, nav{askQuit: true}
		}
		return nil, nav{quit: true}
	case key.Matches(k, sh.keys.Back):
		sh.errText, sh.notice = "", ""
		return nil, goTo(scrOverview)
	case key.Matches(k, sh.keys.Enter):
		if sh.cfg.Finish == nil {
			sh.errText = "this build cannot write records"
			return nil, stay
		}
		// The form opens at once, so typeahead reaches it, whether the
		// key lookup has answered or not.
		scr.finishing = false
		scr.openFinishForm(sh)
	default:
		sh.scroll(&scr.vp, k)
	}
	return nil, stay
}

// openFinishForm asks who signs, who accepts for the plant and, when a
// step is open, for a deliberate yes and the reason to sign anyway; the
// key's field comes with the key.
func (scr *summaryScreen) openFinishForm(sh *shell) {
	scr.mode = sumForm
	in := scr.info
	fields := []fieldSpec{
		{Key: "technician", Title: "Technician", Limit: 120, Validate: required("technician's name"), Value: in.Technician},
		{Key: "email", Title: "E-mail (your signing identity)", Limit: 120, Validate: validEmail, Value: in.Email},
		{Key: "company", Title: "Company", Limit: 120, Validate: required("company"), Value: in.Company},
		{Key: "site", Title: "Site", Limit: 120, Validate: required("site"), Value: in.Site},
		{Key: "acceptedby", Title: "Accepted for the plant by (optional)", Limit: 120, Value: in.AcceptedBy,
			Help: "The plant's person who accepts the record; they sign the paper copy."},
		{Key: "acceptedrole", Title: "Their role (optional)", Limit: 120, Value: in.AcceptedRole},
	}
	if open, _ := scr.openCount(sh); open > 0 {
		fields = append(fields, scr.incompleteFields(sh)...)
	}
	scr.keyAsked = scr.keyKnown
	if scr.keyKnown {
		fields = append(fields, keyFields(scr.keyStat)...)
	}
	sh.openForm(fields...)
}

// signOpenYes is the answer that signs a record with open steps.
const signOpenYes = "yes, sign it as incomplete"

// openCount is the number of open steps (outcome not final) and of all
// steps: a record with an open step is incomplete.
func (scr summaryScreen) openCount(sh *shell) (open, total int) {
	for _, r := range sh.sess.Results() {
		total++
		if !r.Outcome.Final() {
			open++
		}
	}
	return open, total
}

// incompleteFields ask for a deliberate yes to sign a record with open
// steps, and the reason the record will carry.
func (scr summaryScreen) incompleteFields(sh *shell) []fieldSpec {
	open, total := scr.openCount(sh)
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
			Help: "Required. It goes into the signed record.", Value: scr.info.IncompleteReason,
			Validate: required("reason for signing with open steps")},
	}
}

// openReasonAgain asks for the reason to sign with open steps after
// Finish refused a record without one (Config.ErrNeedsReason), and for
// the key's passphrase again (it is kept for one signing only).
func (scr *summaryScreen) openReasonAgain(sh *shell, err error) {
	scr.mode = sumForm
	fields := scr.incompleteFields(sh)
	if ks := scr.keyStat; ks != nil && ks.Found && ks.Encrypted {
		fields = append(fields, keyFields(ks)...)
	}
	scr.keyAsked = true
	sh.openForm(fields...)
	sh.errText = "The record was not signed: " + printable.String(err.Error(), true) + ". Give the reason."
}

// onKeyStatus takes in the signing key found. A form already open does
// not change under the technician's fingers: when it was opened before
// the key was known, the key's own form follows it. shown says whether
// the summary is the current screen.
func (scr *summaryScreen) onKeyStatus(sh *shell, ks *KeyStatus, shown bool) (tea.Cmd, nav) {
	scr.keyLooking = false
	if scr.keyKnown {
		return nil, nav{}
	}
	scr.keyStat, scr.keyKnown = ks, true
	if shown && scr.mode == sumBusy && !scr.finishing {
		return scr.afterFinishForm(sh), nav{}
	}
	return nil, nav{}
}

// afterFinishForm asks for the key's field if the form did not, then
// reads the answers back.
func (scr *summaryScreen) afterFinishForm(sh *shell) tea.Cmd {
	if !scr.keyKnown {
		scr.mode, scr.finishing = sumBusy, false
		return sh.spin.Tick
	}
	if fs := keyFields(scr.keyStat); len(fs) > 0 && !scr.keyAsked {
		scr.keyAsked = true
		scr.mode = sumForm
		sh.openForm(fs...)
		return nil
	}
	scr.mode = sumConfirm
	return sh.arm()
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

func (scr *summaryScreen) formDone(sh *shell, v map[string]string) tea.Cmd {
	if _, ok := v["technician"]; ok {
		scr.info.Technician = strings.TrimSpace(v["technician"])
		scr.info.Email = strings.TrimSpace(v["email"])
		scr.info.Company = strings.TrimSpace(v["company"])
		scr.info.Site = strings.TrimSpace(v["site"])
		scr.info.AcceptedBy = strings.TrimSpace(v["acceptedby"])
		scr.info.AcceptedRole = strings.TrimSpace(v["acceptedrole"])
		scr.info.IncompleteReason = ""
	}
	if r, ok := v["reason"]; ok {
		scr.info.IncompleteReason = strings.TrimSpace(r)
	}
	if p, ok := v["passphrase"]; ok {
		scr.info.Passphrase = p
	}
	if c, ok := v["createkey"]; ok {
		scr.info.CreateKey = c == createYes
	}
	return scr.afterFinishForm(sh)
}

// writeRecord signs and writes the record in a command.
func (scr *summaryScreen) writeRecord(sh *shell) tea.Cmd {
	info := scr.info
	scr.info.Passphrase = "" // kept only for this one use
	if open, _ := scr.openCount(sh); open == 0 {
		info.IncompleteReason = "" // the steps were closed since it was given
	}
	info.Waivers = nil
	for _, r := range sh.sess.Results() {
		if w, ok := sh.waivers[r.StepID]; ok && r.Outcome == steps.Waived {
			if info.Waivers == nil {
				info.Waivers = map[string]WaiverInfo{}
			}
			info.Waivers[r.StepID] = w
		}
	}
	ctx, seq := sh.startOp(finishTimeout)
	scr.mode, scr.finishing = sumBusy, true
	fin, sess := sh.cfg.Finish, sh.sess
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		res, err := fin(ctx, sess, info)
		return finishedMsg{seq: seq, res: res, err: err}
	})
}

func (scr *summaryScreen) onFinished(sh *shell, msg finishedMsg) (tea.Cmd, nav) {
	if need := sh.cfg.ErrNeedsReason; need != nil && errors.Is(msg.err, need) {
		scr.openReasonAgain(sh, msg.err)
		return nil, nav{}
	}
	if msg.err != nil {
		scr.mode = sumView
		sh.errText = "The record was not written: " + printable.String(msg.err.Error(), true)
		scr.layout(sh)
		return nil, nav{}
	}
	scr.finished = true
	scr.res = msg.res
	scr.mode = sumDone
	return nil, nav{}
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
