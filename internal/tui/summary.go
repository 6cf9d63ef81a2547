package tui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// sumMode is what the summary screen shows.
type sumMode int

const (
	sumView sumMode = iota // counts, waivers and failures
	sumForm                // who, for the record
	sumBusy                // writing the record
	sumDone                // where the record went
)

func (m Model) openSummary() (tea.Model, tea.Cmd) {
	m.screen = scrSummary
	m.sumMode = sumView
	m.errText, m.notice = "", ""
	if m.finished {
		m.sumMode = sumDone
	}
	m.layout()
	m.vp.GotoTop()
	return m, nil
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
				l := "  " + s.badge(r.Outcome) + " " + devices.Printable(r.Meta.Section) + " " + devices.Printable(r.Meta.Title)
				lines = append(lines, truncate(l, m.width))
				if r.Reason != "" {
					lines = append(lines, m.wrap(devices.Printable(r.Reason, true), 4))
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

func (m Model) viewSummary() string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Summary") + "\n\n")
	switch m.sumMode {
	case sumView:
		b.WriteString(m.vp.View() + "\n")
		if st := m.statusLine(); st != "" {
			b.WriteString(m.clip(st, 2) + "\n")
		}
		b.WriteString(m.help(hint("enter", "write the signed record"),
			hint("↑/↓", "scroll"), m.keys.Back, m.keys.Quit))
	case sumForm:
		if m.errText != "" {
			b.WriteString(s.Bad.Render(m.wrap(m.errText, 0)) + "\n\n")
		}
		if m.form != nil {
			b.WriteString(m.form.View() + "\n")
		}
		b.WriteString(m.help(hint("enter", "next"), hint("esc", "back")))
	case sumBusy:
		if m.finishing {
			b.WriteString(m.spin.View() + " Writing and signing the record…\n")
		} else {
			b.WriteString(m.spin.View() + " Looking for your signing key…\n")
		}
	case sumDone:
		b.WriteString(s.OK.Render("The record is written and signed.") + "\n\n")
		b.WriteString("Bundle:\n" + m.wrap(devices.Printable(m.finishRes.Dir), 2) + "\n\n")
		if m.finishRes.VerifyCommand != "" {
			b.WriteString("Verify it with:\n" + m.wrap(devices.Printable(m.finishRes.VerifyCommand), 2) + "\n\n")
		}
		b.WriteString(m.help(m.keys.Quit))
	}
	return b.String()
}

func (m Model) keySummary(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch m.sumMode {
	case sumBusy:
		return m, nil
	case sumDone:
		if key.Matches(k, m.keys.Quit, m.keys.Enter) {
			return m.quit()
		}
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		if m.sess.Pending() > 0 {
			m.confirmQuit = true
			return m, nil
		}
		return m.quit()
	case key.Matches(k, m.keys.Back):
		m.screen = scrOverview
		m.errText, m.notice = "", ""
	case key.Matches(k, m.keys.Enter):
		if m.cfg.Finish == nil {
			m.errText = "this build cannot write records"
			return m, nil
		}
		// Looking for the signing key touches the ssh-agent socket and key
		// files: do it in a command, not here.
		m.sumMode, m.finishing = sumBusy, false
		sk := m.cfg.SigningKey
		return m, tea.Batch(m.spin.Tick, func() tea.Msg {
			if sk == nil {
				return keyStatusMsg{}
			}
			ks := sk()
			return keyStatusMsg{status: &ks}
		})
	default:
		m.scroll(k)
	}
	return m, nil
}

func (m Model) openFinishForm(ks *KeyStatus) (tea.Model, tea.Cmd) {
	m.sumMode = sumForm
	m.formVals = nil
	required := func(what string) func(string) error {
		return func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("enter the " + what)
			}
			return nil
		}
	}
	fields := []huh.Field{
		huh.NewInput().Title("Technician").CharLimit(120).Validate(required("technician's name")).Value(m.bind("technician", "")),
		huh.NewInput().Title("E-mail (your signing identity)").CharLimit(120).Validate(validEmail).Value(m.bind("email", "")),
		huh.NewInput().Title("Company").CharLimit(120).Validate(required("company")).Value(m.bind("company", "")),
		huh.NewInput().Title("Site").CharLimit(120).Validate(required("site")).Value(m.bind("site", "")),
	}
	if ks != nil {
		switch {
		case !ks.Found:
			fields = append(fields, huh.NewSelect[string]().
				Title("No SSH key found to sign the record").
				Description("Create a new Ed25519 key at "+devices.Printable(ks.CreatePath)+"?").
				Options(huh.NewOption("yes, create it", "yes"), huh.NewOption("no", "no")).
				Validate(func(s string) error {
					if s != "yes" {
						return errors.New("the record must be signed: create a key, or load one into ssh-agent and finish again")
					}
					return nil
				}).Value(m.bind("createkey", "yes")))
		case ks.Encrypted:
			fields = append(fields, huh.NewInput().Title("Passphrase of "+devices.Printable(ks.Description)).
				EchoMode(huh.EchoModePassword).Validate(required("key's passphrase")).Value(m.bind("passphrase", "")))
		}
	}
	cmd := m.newForm(fields...)
	return m, cmd
}

func (m Model) finishFormDone(v map[string]string) (tea.Model, tea.Cmd) {
	info := FinishInfo{
		Technician: strings.TrimSpace(v["technician"]),
		Email:      strings.TrimSpace(v["email"]),
		Company:    strings.TrimSpace(v["company"]),
		Site:       strings.TrimSpace(v["site"]),
		Passphrase: v["passphrase"],
		CreateKey:  v["createkey"] == "yes",
	}
	ctx, seq := m.startOp(finishTimeout)
	m.sumMode, m.finishing = sumBusy, true
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
	if msg.err != nil {
		m.sumMode = sumView
		m.errText = "The record was not written: " + devices.Printable(msg.err.Error(), true)
		m.layout()
		return m, nil
	}
	m.finished = true
	m.finishRes = msg.res
	m.sumMode = sumDone
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
