package tui

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/commission-tool/commission/internal/printable"
)

// unknownFingerprint is a connect error for a certificate not yet pinned.
type unknownFingerprint interface {
	UnknownFingerprint() (hostport, fingerprint string)
}

// certificateDetails is an unknown-fingerprint error that also describes
// the certificate (expiry, signature algorithm, key size, both fingerprint
// forms, and why it is weak).
type certificateDetails interface {
	CertificateLines() []string
}

// View draws the screen.
func (scr welcomeScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("commission") + " " + s.Muted.Render(printable.String(m.cfg.Version)) + "\n\n")
	b.WriteString(m.wrap("This wizard walks the vendor's hardening guide for one device. It checks the device live, "+
		"changes what you decide to change, restarts it once to make the changes effective, verifies them with a "+
		"fresh read, and writes a signed commissioning record.", 0) + "\n\n")
	b.WriteString(m.wrap("Nothing is sent to the device without a preview you confirm.", 0) + "\n\n")
	if r := m.cfg.Resume; r != nil {
		b.WriteString(s.Box.Render(s.Heading.Render("Unfinished session")+"\n"+printable.String(r.Label)+"\n"+
			m.help(m.keys.Resume)+s.Muted.Render(" it, or ")+s.Key.Render("enter")+s.Muted.Render(" to start a new one")) + "\n\n")
	}
	b.WriteString(m.help(hint("enter", "start"), m.keys.Quit))
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *welcomeScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.do(m.quit())
	case m.cfg.Resume != nil && key.Matches(k, m.keys.Resume):
		m.target = m.cfg.Resume.Target
		m.target.ResumePath = m.cfg.Resume.Path
		if m.target.Password != "" {
			return m.do(m.connect())
		}
		return m.do(m.openCreds())
	case key.Matches(k, m.keys.Enter):
		m.screen = scrChoose
		m.devs.cursor = 0
	}
	return nil
}

// chooseItems is the number of rows on the choose screen: every
// candidate plus "type an address".
func (m Model) chooseItems() int { return len(m.devs.candidates) + 1 }

// canDiscover reports whether discovery is offered at all.
func (m Model) canDiscover() bool { return m.cfg.Discover != nil || m.cfg.Candidates != nil }

// discoverSends says what one discovery sends.
func (m Model) discoverSends() string {
	if m.cfg.DiscoverSends != "" {
		return m.cfg.DiscoverSends
	}
	return "one UDP packet to 255.255.255.255:4800 (Moxa discovery)"
}

// View draws the screen.
func (scr deviceList) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Choose the device") + "\n\n")
	switch {
	case scr.loading:
		b.WriteString(m.spin.View() + " Waiting for answers to the discovery…\n\n")
	case scr.err != "":
		b.WriteString(s.Warn.Render(m.wrap("Discovery did not work: "+scr.err, 0)) + "\n\n")
	case m.canDiscover() && !scr.discovered:
		b.WriteString(m.wrap("Nothing has been sent to the network. Type the device's address, or press d to "+
			"look for devices (you choose the interface first).", 0) + "\n\n")
	case !m.canDiscover() && len(scr.candidates) == 0:
		b.WriteString(m.wrap("Discovery is off: type the device's address.", 0) + "\n\n")
	}
	room := max(m.height-9, 3)
	first := 0
	if scr.cursor >= room {
		first = scr.cursor - room + 1
	}
	for i := first; i < m.chooseItems() && i < first+room; i++ {
		var row string
		if i < len(scr.candidates) {
			c := scr.candidates[i]
			row = fmt.Sprintf("%s  %s  %s", printable.String(c.Label), printable.String(c.Address), s.Muted.Render(printable.String(c.Family)))
			if d := printable.String(c.Detail); d != "" {
				row += s.Muted.Render("  " + d)
			}
		} else {
			row = "Type an address…"
		}
		row = truncate(row, m.width-3)
		if i == scr.cursor {
			b.WriteString(s.Selected.Render("> "+row) + "\n")
		} else {
			b.WriteString("  " + row + "\n")
		}
	}
	if st := m.statusLine(); st != "" {
		b.WriteString(m.clip(st, 2) + "\n")
	}
	k := m.keys
	k.Discover.SetEnabled(m.canDiscover() && !scr.loading)
	b.WriteString("\n" + m.help(k.Move, hint("enter", "choose"), k.Discover, k.Back, k.Quit))
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *deviceList) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.do(m.quit())
	case key.Matches(k, m.keys.Back):
		if scr.loading {
			m.cancelOp()
			scr.loading = false
			return nil
		}
		m.screen = scrWelcome
	case key.Matches(k, m.keys.Up):
		scr.cursor = max(scr.cursor-1, 0)
	case key.Matches(k, m.keys.Down):
		scr.cursor = min(scr.cursor+1, m.chooseItems()-1)
	case m.canDiscover() && !scr.loading && key.Matches(k, m.keys.Discover):
		return m.do(m.openDiscover())
	case key.Matches(k, m.keys.Enter):
		if scr.cursor < len(scr.candidates) {
			c := scr.candidates[scr.cursor]
			user := m.target.User
			if c.User != "" {
				user = c.User
			}
			m.target = Target{Family: c.Family, Address: c.Address, User: user}
			return m.do(m.openCreds())
		}
		return m.do(m.openAddress())
	}
	return nil
}

// openDiscover shows the discovery screen; the interfaces are listed in
// a command (it asks the operating system).
func (m Model) openDiscover() (tea.Model, tea.Cmd) {
	m.screen = scrDiscover
	m.devs.ifaceCursor = 0
	m.devs.err = ""
	arm := m.arm()
	if m.cfg.Interfaces == nil || m.cfg.Discover == nil {
		m.devs.ifaces, m.devs.ifaceLoaded = nil, true
		return m, arm
	}
	m.devs.ifaceLoaded = false
	list := m.cfg.Interfaces
	return m, tea.Batch(arm, func() tea.Msg {
		ifs, err := list()
		return interfacesMsg{list: ifs, err: err}
	})
}

func (m Model) onInterfaces(msg interfacesMsg) (tea.Model, tea.Cmd) {
	m.devs.ifaceLoaded = true
	m.devs.ifaces = msg.list
	m.devs.ifaceErr = ""
	if msg.err != nil {
		m.devs.ifaceErr = printable.String(msg.err.Error())
	}
	m.devs.ifaceCursor = min(m.devs.ifaceCursor, max(len(m.devs.ifaces)-1, 0))
	return m, nil
}

// chosenInterface is the interface under the cursor, if any.
func (m Model) chosenInterface() (Interface, bool) {
	if m.devs.ifaceCursor < len(m.devs.ifaces) {
		return m.devs.ifaces[m.devs.ifaceCursor], true
	}
	return Interface{}, false
}

// ViewDiscover draws the discovery screen: the interface and what is sent.
func (scr deviceList) ViewDiscover(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Look for devices on the network") + "\n\n")
	pickIface := m.cfg.Interfaces != nil && m.cfg.Discover != nil
	switch {
	case pickIface && !scr.ifaceLoaded:
		b.WriteString(m.spin.View() + " Listing this computer's interfaces…\n")
	case pickIface && scr.ifaceErr != "":
		b.WriteString(s.Bad.Render(m.wrap("The interfaces could not be listed: "+scr.ifaceErr, 0)) + "\n")
	case pickIface && len(scr.ifaces) == 0:
		b.WriteString(s.Warn.Render(m.wrap("No interface with an IPv4 address to send from. Type the address instead.", 0)) + "\n")
	case pickIface:
		b.WriteString("Send from:\n")
		room := max(m.height-12, 2)
		first := max(scr.ifaceCursor-room+1, 0)
		for i := first; i < len(scr.ifaces) && i < first+room; i++ {
			row := truncate(printable.String(scr.ifaces[i].Name)+"  "+printable.String(scr.ifaces[i].Address), m.width-3)
			if i == scr.ifaceCursor {
				b.WriteString(s.Selected.Render("> "+row) + "\n")
			} else {
				b.WriteString("  " + row + "\n")
			}
		}
	}
	b.WriteString("\n")
	from := "the interface the system picks"
	if ifc, ok := m.chosenInterface(); ok {
		from = printable.String(ifc.Name) + " (" + printable.String(ifc.Address) + ")"
	}
	ready := !pickIface || (scr.ifaceLoaded && len(scr.ifaces) > 0)
	if ready {
		b.WriteString(m.wrap("This sends "+m.discoverSends()+" from "+from+". Devices on that network answer; "+
			"some plants alarm on broadcasts, so ask first.", 0) + "\n\n")
		bs := []key.Binding{hint("y", "send it")}
		if pickIface {
			bs = append(bs, m.keys.Move)
		}
		b.WriteString(m.armHelp(append(bs, hint("esc", "do not send"))...))
	} else {
		b.WriteString(m.help(hint("esc", "back")))
	}
	return b.String()
}

// UpdateDiscover handles a key on the discovery screen.
func (scr *deviceList) UpdateDiscover(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.Back) {
		m.screen = scrChoose
		return nil
	}
	pickIface := m.cfg.Interfaces != nil && m.cfg.Discover != nil
	// Moving to another interface changes what the screen says: the
	// yes waits for the new sentence to have been on screen.
	move := 0
	switch {
	case key.Matches(k, m.keys.Up):
		move = -1
	case key.Matches(k, m.keys.Down):
		move = 1
	}
	if move != 0 {
		c := min(max(scr.ifaceCursor+move, 0), max(len(scr.ifaces)-1, 0))
		if c == scr.ifaceCursor {
			return nil
		}
		scr.ifaceCursor = c
		return m.arm()
	}
	if !m.armed {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Yes):
		if pickIface && (!scr.ifaceLoaded || len(scr.ifaces) == 0) {
			return nil
		}
		return m.do(m.discover())
	}
	return nil
}

// discover runs the discovery in a command and goes back to the list.
func (m Model) discover() (tea.Model, tea.Cmd) {
	ifc, _ := m.chosenInterface()
	ctx, seq := m.startOp(discoverTimeout)
	m.busy = false // the list stays usable; candLoading shows the wait
	m.devs.loading = true
	m.devs.discovered = true
	m.devs.err = ""
	m.screen = scrChoose
	disc, old := m.cfg.Discover, m.cfg.Candidates
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		var list []Candidate
		var err error
		if disc != nil {
			list, err = disc(ctx, ifc)
		} else {
			list, err = old(ctx)
		}
		return candidatesMsg{seq: seq, list: list, err: err}
	})
}

func (m Model) onCandidates(msg candidatesMsg) (tea.Model, tea.Cmd) {
	if msg.seq != m.opSeq || !m.devs.loading {
		return m, nil
	}
	m.devs.loading = false
	if m.opCancel != nil {
		m.opCancel()
		m.opCancel = nil
	}
	seen := map[string]bool{}
	for _, c := range m.devs.candidates {
		seen[c.Family+" "+c.Address] = true
	}
	for _, c := range msg.list {
		if !seen[c.Family+" "+c.Address] {
			m.devs.candidates = append(m.devs.candidates, c)
			seen[c.Family+" "+c.Address] = true
		}
	}
	switch {
	case msg.err != nil:
		m.devs.err = printable.String(msg.err.Error())
	case len(msg.list) == 0:
		m.notice = "No device answered the discovery."
	}
	return m, nil
}

var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// validAddress accepts an IPv4 address or a host name, each with an
// optional port.
func validAddress(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("enter the device's IPv4 address or host name")
	}
	host := s
	if strings.Contains(s, ":") {
		h, port, err := net.SplitHostPort(s)
		if err != nil || port == "" {
			return errors.New("write host:port, for example 192.168.127.254:443")
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return errors.New("the port must be a number")
			}
		}
		host = h
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() == nil {
			return errors.New("use an IPv4 address or a host name")
		}
		return nil
	}
	if len(host) > 253 {
		return errors.New("the host name is too long")
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	allDigits := true
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return errors.New("not an IPv4 address or a host name")
		}
		if strings.Trim(l, "0123456789") != "" {
			allDigits = false
		}
	}
	if allDigits {
		return errors.New("not a valid IPv4 address")
	}
	return nil
}

func (m Model) openAddress() (tea.Model, tea.Cmd) {
	m.screen = scrAddress
	var fields []fieldSpec
	fam := m.target.Family
	if fam == "" && len(m.cfg.Families) > 0 {
		fam = m.cfg.Families[0]
	}
	if len(m.cfg.Families) > 1 {
		fields = append(fields, fieldSpec{Key: "family", Title: "Device family", Options: m.cfg.Families, Value: fam})
	}
	fields = append(fields, fieldSpec{Key: "address", Title: "Address",
		Help:        "HOST[:PORT]: an IPv4 address or host name, optionally with :port",
		Placeholder: "192.168.127.254", Limit: 260, Validate: validAddress, Value: m.target.Address})
	m.openForm(fields...)
	return m, nil
}

func (m Model) addressDone(v map[string]string) (tea.Model, tea.Cmd) {
	fam, addr := v["family"], strings.TrimSpace(v["address"])
	if fam == "" {
		fam = m.target.Family
		if fam == "" && len(m.cfg.Families) > 0 {
			fam = m.cfg.Families[0]
		}
	}
	if fam != m.target.Family || addr != m.target.Address {
		m.target.ResumePath = "" // another device: a new session
	}
	m.target.Family, m.target.Address = fam, addr
	return m.openCreds()
}

func (m Model) openCreds() (tea.Model, tea.Cmd) {
	m.screen = scrCreds
	user := m.target.User
	if user == "" {
		user = "admin"
	}
	fields := []fieldSpec{
		{Key: "user", Title: "User", Limit: 64, Value: user, Validate: func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("enter the user name")
			}
			return nil
		}},
		{Key: "password", Title: "Password", Limit: 128, Secret: true},
	}
	if m.login.needNewPassword {
		fields = append(fields,
			fieldSpec{Key: "newpassword", Title: "New password (the device asks for one at first login)", Limit: 128, Secret: true,
				Validate: func(s string) error {
					if s == "" {
						return errors.New("enter the new password the device will keep")
					}
					return nil
				}},
			fieldSpec{Key: "newconfirm", Title: "Confirm new password", Limit: 128, Secret: true,
				Same: "newpassword", SameErr: "the two new passwords differ"})
	}
	m.openForm(fields...)
	return m, nil
}

func (m Model) credsDone(v map[string]string) (tea.Model, tea.Cmd) {
	m.target.User = strings.TrimSpace(v["user"])
	m.target.Password = v["password"]
	m.target.NewPassword = v["newpassword"]
	return m.connect()
}

// passwordChangeRequired is a connect error from a device that wants a
// new password at first login.
type passwordChangeRequired interface {
	PasswordChangeRequired() bool
}

// View draws the screen.
func (scr loginScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	switch m.screen {
	case scrAddress:
		b.WriteString(s.Title.Render("Type the device's address") + "\n\n")
	case scrCreds:
		b.WriteString(s.Title.Render("Log in to "+printable.String(m.target.Address)) + " " +
			s.Muted.Render(printable.String(m.target.Family)) + "\n\n")
	}
	if m.errText != "" {
		b.WriteString(s.Bad.Render(m.wrap(m.errText, 0)) + "\n\n")
	}
	b.WriteString(m.formView(lipgloss.Height(b.String())))
	return b.String()
}

// connect opens the session in a tea.Cmd.
func (m Model) connect() (tea.Model, tea.Cmd) {
	m.screen = scrConnecting
	if m.cfg.Connect == nil {
		m.busy = false
		m.errText = "this build cannot connect to devices"
		m.screen = scrCreds
		return m.openCredsKeepErr()
	}
	ctx, seq := m.startOp(connectTimeout)
	conn, t, rep := m.cfg.Connect, m.target, m.hub
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		s, err := conn(ctx, t, rep)
		return connectedMsg{seq: seq, sess: s, err: err}
	})
}

// openCredsKeepErr reopens the credentials form without clearing the
// error that sent the technician back.
func (m Model) openCredsKeepErr() (tea.Model, tea.Cmd) {
	e := m.errText
	next, cmd := m.openCreds()
	nm := next.(Model)
	nm.errText = e
	return nm, cmd
}

// ViewConnecting draws the wait for the connection.
func (scr loginScreen) ViewConnecting(m Model) string {
	return m.st.Title.Render("Connecting") + "\n\n" +
		m.spin.View() + " Connecting to " + printable.String(m.target.Address) + " and reading its settings…\n\n" +
		m.help(hint("esc", "cancel"))
}

// UpdateConnecting lets esc cancel the connection.
func (scr *loginScreen) UpdateConnecting(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.Back) {
		m.cancelOp()
		return m.do(m.openCreds())
	}
	return nil
}

func (m Model) onConnected(msg connectedMsg) (tea.Model, tea.Cmd) {
	if !m.endOp(msg.seq) {
		return m, nil
	}
	var unk unknownFingerprint
	var chg TrustChangedError
	switch err := msg.err; {
	case err == nil && msg.sess == nil:
		m.errText = "the connection gave no session"
		return m.openCredsKeepErr()
	case err == nil:
		m.sess = msg.sess
		m.target.Password, m.target.NewPassword, m.login.needNewPassword = "", "", false
		m.screen = scrOverview
		m.ov.cursor = 0
		if ids := m.sess.AwaitingRestart(); len(ids) > 0 {
			// Changes sent before an interruption: said before anything else.
			m.await.ids = ids
			m.screen = scrAwaiting
			return m, m.arm()
		}
		return m, nil
	case errors.As(err, &chg):
		return m.stop(err, chg), nil
	case errors.As(err, &unk):
		host, fp := unk.UnknownFingerprint()
		m.trust.host, m.trust.print = printable.String(host), printable.String(fp)
		m.trust.details = nil
		var cd certificateDetails
		if errors.As(err, &cd) {
			for _, l := range cd.CertificateLines() {
				m.trust.details = append(m.trust.details, printable.String(l))
			}
		}
		m.screen = scrFingerprint
		return m, m.arm()
	default:
		var pc passwordChangeRequired
		if errors.As(err, &pc) && pc.PasswordChangeRequired() {
			m.login.needNewPassword = true
		}
		m.errText = printable.String(err.Error(), true)
		return m.openCredsKeepErr()
	}
}

// View draws the screen.
func (scr trustScreen) View(m Model) string {
	s := m.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Confirm the device's certificate") + "\n\n")
	b.WriteString(m.wrap("This is the first time this tool talks to "+scr.host+" over TLS. "+
		"Compare this fingerprint with the one the device shows (on its web console or label). "+
		"Trust it only if they match.", 0) + "\n\n")
	if len(scr.details) == 0 {
		b.WriteString("  SHA-256 fingerprint:\n")
		b.WriteString(s.Heading.Render(m.wrap(scr.print, 2)) + "\n\n")
	} else {
		for _, l := range scr.details {
			st := s.Heading
			if strings.HasPrefix(l, "Warning:") {
				st = s.Bad
			}
			b.WriteString(st.Render(m.wrap(l, 2)) + "\n")
		}
		b.WriteString("\n")
	}
	if m.errText != "" {
		b.WriteString(s.Bad.Render(m.wrap(m.errText, 0)) + "\n\n")
	}
	if m.busy {
		b.WriteString(m.spin.View() + " Pinning the fingerprint…\n\n")
	}
	b.WriteString(m.armHelp(hint("y", "they match: trust and connect"),
		hint("n", "they differ: go back")))
	return b.String()
}

// Update handles a key on the screen; transitions go through the root.
func (scr *trustScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if m.busy || !m.armed {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Yes):
		if m.cfg.Trust == nil {
			m.errText = "this build cannot pin certificates"
			return nil
		}
		_, seq := m.startOp(connectTimeout)
		trust, host, fp := m.cfg.Trust, scr.host, scr.print
		return tea.Batch(m.spin.Tick, func() tea.Msg {
			return trustedMsg{seq: seq, err: trust(host, fp)}
		})
	case key.Matches(k, m.keys.No):
		scr.host, scr.print = "", ""
		return m.do(m.openCreds())
	}
	return nil
}

func (m Model) onTrusted(msg trustedMsg) (tea.Model, tea.Cmd) {
	if !m.endOp(msg.seq) {
		return m, nil
	}
	if msg.err != nil {
		m.errText = "the fingerprint could not be pinned: " + printable.String(msg.err.Error())
		return m, nil
	}
	m.trust.host, m.trust.print = "", ""
	return m.connect()
}

// Update ends the session on q, enter or esc: there is no way back.
func (scr *stopScreen) Update(m *Model, k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.Quit, m.keys.Enter, m.keys.Back) {
		return m.do(m.quit())
	}
	return nil
}

// View draws the screen.
func (scr stopScreen) View(m Model) string {
	s := m.st
	host, pinned, seen := "", "", ""
	if len(scr.text) == 3 {
		host, pinned, seen = scr.text[0], scr.text[1], scr.text[2]
	}
	w := max(m.width-6, 30)
	body := "STOP: the device's certificate or host key has changed\n\n" +
		lipglossWrap("The device at "+host+" presented a different certificate or SSH host key than the one pinned on an earlier visit. "+
			"Someone may be between you and the device, or the device was reset or replaced. "+
			"The session stops here; nothing was sent.", w) + "\n\n" +
		"Pinned: " + lipglossWrap(pinned, w-8) + "\n" +
		"Seen:   " + lipglossWrap(seen, w-8) + "\n\n" +
		lipglossWrap("Check the device with your site's security contact. This session cannot continue; "+
			"the wizard ends with the exit code for a changed identity.", w)
	return s.Stop.Render(body) + "\n\n" + m.help(hint("q", "end the session"))
}

// stop shows the STOP screen for a changed certificate or host key and
// ends the session: no form, no retry; quitting returns a StoppedError.
func (m Model) stop(err error, chg TrustChangedError) Model {
	subject, pinned, seen := chg.TrustChanged()
	m.stopped = true
	m.screen = scrStop
	m.form = nil
	m.confirmQuit = false
	m.target.Password, m.target.NewPassword = "", ""
	m.stopScr.text = []string{printable.String(subject), printable.String(pinned), printable.String(seen)}
	m.stopErrVal = &StoppedError{Subject: m.stopScr.text[0], Pinned: m.stopScr.text[1], Seen: m.stopScr.text[2], Cause: err}
	return m
}
