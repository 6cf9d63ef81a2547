package tui

import (
	"errors"
	"fmt"
	"net"
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

// welcomeScreen is the first screen, with the resume offer.
type welcomeScreen struct{}

// View draws the screen.
func (scr welcomeScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("commission") + " " + s.Muted.Render(printable.String(sh.cfg.Version)) + "\n\n")
	b.WriteString(sh.wrap("This wizard walks the vendor's hardening guide for one device. It checks the device live, "+
		"changes what you decide to change, restarts it once to make the changes effective, verifies them with a "+
		"fresh read, and writes a signed commissioning record.", 0) + "\n\n")
	b.WriteString(sh.wrap("Nothing is sent to the device without a preview you confirm.", 0) + "\n\n")
	if r := sh.cfg.Resume; r != nil {
		b.WriteString(s.Box.Render(s.Heading.Render("Unfinished session")+"\n"+printable.String(r.Label)+"\n"+
			sh.help(sh.keys.Resume)+s.Muted.Render(" it, or ")+s.Key.Render("enter")+s.Muted.Render(" to start a new one")) + "\n\n")
	}
	b.WriteString(sh.help(hint("enter", "start"), sh.keys.Quit))
	return b.String()
}

// Update handles a key on the screen.
func (scr *welcomeScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	switch {
	case key.Matches(k, sh.keys.Quit):
		return nil, nav{quit: true}
	case sh.cfg.Resume != nil && key.Matches(k, sh.keys.Resume):
		t := sh.cfg.Resume.Target
		t.ResumePath = sh.cfg.Resume.Path
		if t.Password != "" {
			return nil, nav{to: scrConnecting, target: &t}
		}
		return nil, nav{to: scrCreds, target: &t}
	case key.Matches(k, sh.keys.Enter):
		return nil, nav{to: scrChoose, reset: true}
	}
	return nil, nav{}
}

// deviceList is the device list and its discovery screen.
type deviceList struct {
	candidates  []Candidate
	loading     bool // a discovery is waiting for answers
	err         string
	cursor      int
	discovered  bool // a discovery was sent in this session
	ifaces      []Interface
	ifaceErr    string
	ifaceCursor int
	ifaceLoaded bool
}

// open shows the list; reset puts the cursor on the first row.
func (scr *deviceList) open(reset bool) {
	if reset {
		scr.cursor = 0
	}
}

// items is the number of rows on the list: every candidate plus "type
// an address".
func (scr deviceList) items() int { return len(scr.candidates) + 1 }

// canDiscover reports whether discovery is offered at all.
func canDiscover(sh *shell) bool { return sh.cfg.Discover != nil }

// discoverSends says what one discovery sends, in the command's words;
// empty when the command did not say.
func discoverSends(sh *shell) string { return strings.TrimSpace(sh.cfg.DiscoverSends) }

// View draws the screen.
func (scr deviceList) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Choose the device") + "\n\n")
	switch {
	case scr.loading:
		b.WriteString(sh.spin.View() + " Waiting for answers to the discovery…\n\n")
	case scr.err != "":
		b.WriteString(s.Warn.Render(sh.wrap("Discovery did not work: "+scr.err, 0)) + "\n\n")
	case canDiscover(sh) && !scr.discovered:
		b.WriteString(sh.wrap("Nothing has been sent to the network. Type the device's address, or press d to "+
			"look for devices (you choose the interface first).", 0) + "\n\n")
	case !canDiscover(sh) && len(scr.candidates) == 0:
		b.WriteString(sh.wrap("Discovery is off: type the device's address.", 0) + "\n\n")
	}
	room := max(sh.height-9, 3)
	first := 0
	if scr.cursor >= room {
		first = scr.cursor - room + 1
	}
	for i := first; i < scr.items() && i < first+room; i++ {
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
		row = truncate(row, sh.width-3)
		if i == scr.cursor {
			b.WriteString(s.Selected.Render("> "+row) + "\n")
		} else {
			b.WriteString("  " + row + "\n")
		}
	}
	if st := sh.statusLine(); st != "" {
		b.WriteString(sh.clip(st, 2) + "\n")
	}
	k := sh.keys
	k.Discover.SetEnabled(canDiscover(sh) && !scr.loading)
	b.WriteString("\n" + sh.help(k.Move, hint("enter", "choose"), k.Discover, k.Back, k.Quit))
	return b.String()
}

// Update handles a key on the screen.
func (scr *deviceList) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	switch {
	case key.Matches(k, sh.keys.Quit):
		return nil, nav{quit: true}
	case key.Matches(k, sh.keys.Back):
		if scr.loading {
			sh.cancelOp()
			scr.loading = false
			return nil, nav{}
		}
		return nil, goTo(scrWelcome)
	case key.Matches(k, sh.keys.Up):
		scr.cursor = max(scr.cursor-1, 0)
	case key.Matches(k, sh.keys.Down):
		scr.cursor = min(scr.cursor+1, scr.items()-1)
	case canDiscover(sh) && !scr.loading && key.Matches(k, sh.keys.Discover):
		return nil, goTo(scrDiscover)
	case key.Matches(k, sh.keys.Enter):
		if scr.cursor < len(scr.candidates) {
			c := scr.candidates[scr.cursor]
			// No user proposed: the login keeps the last one typed.
			return nil, nav{to: scrCreds, target: &Target{Family: c.Family, Address: c.Address, User: c.User}}
		}
		return nil, goTo(scrAddress)
	}
	return nil, nav{}
}

// openDiscover shows the discovery screen; the interfaces are listed in
// a command (it asks the operating system).
func (scr *deviceList) openDiscover(sh *shell) tea.Cmd {
	scr.ifaceCursor = 0
	scr.err = ""
	arm := sh.arm()
	if sh.cfg.Interfaces == nil || sh.cfg.Discover == nil {
		scr.ifaces, scr.ifaceLoaded = nil, true
		return arm
	}
	scr.ifaceLoaded = false
	list := sh.cfg.Interfaces
	return tea.Batch(arm, func() tea.Msg {
		ifs, err := list()
		return interfacesMsg{list: ifs, err: err}
	})
}

func (scr *deviceList) onInterfaces(msg interfacesMsg) {
	scr.ifaceLoaded = true
	scr.ifaces = msg.list
	scr.ifaceErr = ""
	if msg.err != nil {
		scr.ifaceErr = printable.String(msg.err.Error())
	}
	scr.ifaceCursor = min(scr.ifaceCursor, max(len(scr.ifaces)-1, 0))
}

// chosenInterface is the interface under the cursor, if any.
func (scr deviceList) chosenInterface() (Interface, bool) {
	if scr.ifaceCursor < len(scr.ifaces) {
		return scr.ifaces[scr.ifaceCursor], true
	}
	return Interface{}, false
}

// ViewDiscover draws the discovery screen: the interface and what is sent.
func (scr deviceList) ViewDiscover(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Look for devices on the network") + "\n\n")
	pickIface := sh.cfg.Interfaces != nil && sh.cfg.Discover != nil
	switch {
	case pickIface && !scr.ifaceLoaded:
		b.WriteString(sh.spin.View() + " Listing this computer's interfaces…\n")
	case pickIface && scr.ifaceErr != "":
		b.WriteString(s.Bad.Render(sh.wrap("The interfaces could not be listed: "+scr.ifaceErr, 0)) + "\n")
	case pickIface && len(scr.ifaces) == 0:
		b.WriteString(s.Warn.Render(sh.wrap("No interface with an IPv4 address to send from. Type the address instead.", 0)) + "\n")
	case pickIface:
		b.WriteString("Send from:\n")
		room := max(sh.height-12, 2)
		first := max(scr.ifaceCursor-room+1, 0)
		for i := first; i < len(scr.ifaces) && i < first+room; i++ {
			row := truncate(printable.String(scr.ifaces[i].Name)+"  "+printable.String(scr.ifaces[i].Address), sh.width-3)
			if i == scr.ifaceCursor {
				b.WriteString(s.Selected.Render("> "+row) + "\n")
			} else {
				b.WriteString("  " + row + "\n")
			}
		}
	}
	b.WriteString("\n")
	from := "the interface the system picks"
	if ifc, ok := scr.chosenInterface(); ok {
		from = printable.String(ifc.Name) + " (" + printable.String(ifc.Address) + ")"
	}
	ready := !pickIface || (scr.ifaceLoaded && len(scr.ifaces) > 0)
	if ready {
		what := "This sends " + printable.String(discoverSends(sh)) + " from " + from + "."
		if discoverSends(sh) == "" {
			what = "This sends a discovery from " + from + "; the command did not say what it sends."
		}
		b.WriteString(sh.wrap(what+" Devices on that network answer; some plants alarm on broadcasts, so ask first.", 0) + "\n\n")
		bs := []key.Binding{hint("y", "send it")}
		if pickIface {
			bs = append(bs, sh.keys.Move)
		}
		b.WriteString(sh.armHelp(append(bs, hint("esc", "do not send"))...))
	} else {
		b.WriteString(sh.help(hint("esc", "back")))
	}
	return b.String()
}

// UpdateDiscover handles a key on the discovery screen.
func (scr *deviceList) UpdateDiscover(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if key.Matches(k, sh.keys.Back) {
		return nil, goTo(scrChoose)
	}
	pickIface := sh.cfg.Interfaces != nil && sh.cfg.Discover != nil
	// Moving to another interface changes what the screen says: the
	// yes waits for the new sentence to have been on screen.
	move := 0
	switch {
	case key.Matches(k, sh.keys.Up):
		move = -1
	case key.Matches(k, sh.keys.Down):
		move = 1
	}
	if move != 0 {
		c := min(max(scr.ifaceCursor+move, 0), max(len(scr.ifaces)-1, 0))
		if c == scr.ifaceCursor {
			return nil, nav{}
		}
		scr.ifaceCursor = c
		return sh.arm(), nav{}
	}
	if !sh.armed {
		return nil, nav{}
	}
	if key.Matches(k, sh.keys.Yes) {
		if pickIface && (!scr.ifaceLoaded || len(scr.ifaces) == 0) {
			return nil, nav{}
		}
		return scr.discover(sh), goTo(scrChoose)
	}
	return nil, nav{}
}

// discover runs the discovery in a command; the list shows the wait.
func (scr *deviceList) discover(sh *shell) tea.Cmd {
	ifc, _ := scr.chosenInterface()
	ctx, seq := sh.startOp(discoverTimeout)
	sh.busy = false // the list stays usable; loading shows the wait
	scr.loading = true
	scr.discovered = true
	scr.err = ""
	disc := sh.cfg.Discover
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		list, err := disc(ctx, ifc)
		return candidatesMsg{seq: seq, list: list, err: err}
	})
}

func (scr *deviceList) onCandidates(sh *shell, msg candidatesMsg) {
	if msg.seq != sh.opSeq || !scr.loading {
		return
	}
	scr.loading = false
	if sh.opCancel != nil {
		sh.opCancel()
		sh.opCancel = nil
	}
	seen := map[string]bool{}
	for _, c := range scr.candidates {
		seen[c.Family+" "+c.Address] = true
	}
	for _, c := range msg.list {
		if !seen[c.Family+" "+c.Address] {
			scr.candidates = append(scr.candidates, c)
			seen[c.Family+" "+c.Address] = true
		}
	}
	switch {
	case msg.err != nil:
		scr.err = printable.String(msg.err.Error())
	case len(msg.list) == 0:
		sh.notice = "No device answered the discovery."
	}
}

// isHostLabel reports whether l is one label of a host name: 1 to 63
// ASCII letters, digits and hyphens, starting and ending with a letter or
// a digit. (Written out rather than a regexp compiled when the program
// starts, before the wizard's first frame.)
func isHostLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

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
		if !isHostLabel(l) {
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

// loginScreen is the address and credentials forms, and the connection.
// It owns the target: the device chosen and the credentials typed.
type loginScreen struct {
	target          Target
	needNewPassword bool // the device asked for a new password at first login
}

// setTarget takes the device to log in to; without a user it keeps the
// last one.
func (scr *loginScreen) setTarget(t Target) {
	if t.User == "" {
		t.User = scr.target.User
	}
	scr.target = t
}

// forget drops the passwords typed.
func (scr *loginScreen) forget() {
	scr.target.Password, scr.target.NewPassword = "", ""
}

func (scr *loginScreen) openAddress(sh *shell) {
	var fields []fieldSpec
	fam := scr.target.Family
	if fam == "" && len(sh.cfg.Families) > 0 {
		fam = sh.cfg.Families[0]
	}
	if len(sh.cfg.Families) > 1 {
		fields = append(fields, fieldSpec{Key: "family", Title: "Device family", Options: sh.cfg.Families, Value: fam})
	}
	fields = append(fields, fieldSpec{Key: "address", Title: "Address",
		Help:        "HOST[:PORT]: an IPv4 address or host name, optionally with :port",
		Placeholder: "192.168.127.254", Limit: 260, Validate: validAddress, Value: scr.target.Address})
	sh.openForm(fields...)
}

func (scr *loginScreen) addressDone(sh *shell, v map[string]string) (tea.Cmd, nav) {
	fam, addr := v["family"], strings.TrimSpace(v["address"])
	if fam == "" {
		fam = scr.target.Family
		if fam == "" && len(sh.cfg.Families) > 0 {
			fam = sh.cfg.Families[0]
		}
	}
	if fam != scr.target.Family || addr != scr.target.Address {
		scr.target.ResumePath = "" // another device: a new session
	}
	scr.target.Family, scr.target.Address = fam, addr
	return nil, goTo(scrCreds)
}

func (scr *loginScreen) openCreds(sh *shell) {
	user := scr.target.User
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
	if scr.needNewPassword {
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
	sh.openForm(fields...)
}

func (scr *loginScreen) credsDone(_ *shell, v map[string]string) (tea.Cmd, nav) {
	scr.target.User = strings.TrimSpace(v["user"])
	scr.target.Password = v["password"]
	scr.target.NewPassword = v["newpassword"]
	return nil, goTo(scrConnecting)
}

// passwordChangeRequired is a connect error from a device that wants a
// new password at first login.
type passwordChangeRequired interface {
	PasswordChangeRequired() bool
}

// View draws the address or (creds) the credentials form.
func (scr loginScreen) View(sh *shell, creds bool) string {
	s := sh.st
	var b strings.Builder
	if creds {
		b.WriteString(s.Title.Render("Log in to "+printable.String(scr.target.Address)) + " " +
			s.Muted.Render(printable.String(scr.target.Family)) + "\n\n")
	} else {
		b.WriteString(s.Title.Render("Type the device's address") + "\n\n")
	}
	if sh.errText != "" {
		b.WriteString(s.Bad.Render(sh.wrap(sh.errText, 0)) + "\n\n")
	}
	b.WriteString(sh.formView(lipgloss.Height(b.String())))
	return b.String()
}

// connect opens the session in a tea.Cmd.
func (scr *loginScreen) connect(sh *shell) (tea.Cmd, nav) {
	if sh.cfg.Connect == nil {
		sh.busy = false
		sh.errText = "this build cannot connect to devices"
		return nil, goTo(scrCreds)
	}
	ctx, seq := sh.startOp(connectTimeout)
	conn, t, rep, timingOf := sh.cfg.Connect, scr.target, sh.hub, sh.cfg.TimingOf
	return tea.Batch(sh.spin.Tick, func() tea.Msg {
		s, err := conn(ctx, t, rep)
		msg := connectedMsg{seq: seq, sess: s, err: err}
		if err == nil && s != nil && timingOf != nil {
			tm := timingOf(s.Family())
			msg.timing = &tm
		}
		return msg
	}), nav{}
}

// ViewConnecting draws the wait for the connection.
func (scr loginScreen) ViewConnecting(sh *shell) string {
	return sh.st.Title.Render("Connecting") + "\n\n" +
		sh.spin.View() + " Connecting to " + printable.String(scr.target.Address) + " and reading its settings…\n\n" +
		sh.help(hint("esc", "cancel"))
}

// UpdateConnecting lets esc cancel the connection.
func (scr *loginScreen) UpdateConnecting(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if key.Matches(k, sh.keys.Back) {
		sh.cancelOp()
		return nil, goTo(scrCreds)
	}
	return nil, nav{}
}

func (scr *loginScreen) onConnected(sh *shell, msg connectedMsg) (tea.Cmd, nav) {
	var unk unknownFingerprint
	var chg TrustChangedError
	switch err := msg.err; {
	case err == nil && msg.sess == nil:
		sh.errText = "the connection gave no session"
		return nil, goTo(scrCreds)
	case err == nil:
		sh.sess, sh.famTiming = msg.sess, msg.timing
		scr.forget()
		scr.needNewPassword = false
		if len(sh.sess.AwaitingRestart()) > 0 {
			// Changes sent before an interruption: said before anything else.
			return nil, goTo(scrAwaiting)
		}
		return nil, nav{to: scrOverview, reset: true}
	case errors.As(err, &chg):
		return nil, nav{stop: chg, err: err}
	case errors.As(err, &unk):
		return nil, nav{to: scrFingerprint, err: err}
	default:
		var pc passwordChangeRequired
		if errors.As(err, &pc) && pc.PasswordChangeRequired() {
			scr.needNewPassword = true
		}
		sh.errText = printable.String(err.Error(), true)
		return nil, goTo(scrCreds)
	}
}

// trustScreen asks to trust an unknown certificate.
type trustScreen struct {
	host, print string
	// details are the certificate's lines (hex and OpenSSH fingerprints,
	// subject, validity, signature, key, warnings), already printable.
	details []string
}

// open shows the certificate of the unknown-fingerprint error err.
func (scr *trustScreen) open(sh *shell, err error) tea.Cmd {
	var unk unknownFingerprint
	*scr = trustScreen{}
	if errors.As(err, &unk) {
		host, fp := unk.UnknownFingerprint()
		scr.host, scr.print = printable.String(host), printable.String(fp)
	}
	var cd certificateDetails
	if errors.As(err, &cd) {
		for _, l := range cd.CertificateLines() {
			scr.details = append(scr.details, printable.String(l))
		}
	}
	return sh.arm()
}

// View draws the screen.
func (scr trustScreen) View(sh *shell) string {
	s := sh.st
	var b strings.Builder
	b.WriteString(s.Title.Render("Confirm the device's certificate") + "\n\n")
	b.WriteString(sh.wrap("This is the first time this tool talks to "+scr.host+" over TLS. "+
		"Compare this fingerprint with the one the device shows (on its web console or label). "+
		"Trust it only if they match.", 0) + "\n\n")
	if len(scr.details) == 0 {
		b.WriteString("  SHA-256 fingerprint:\n")
		b.WriteString(s.Heading.Render(sh.wrap(scr.print, 2)) + "\n\n")
	} else {
		for _, l := range scr.details {
			st := s.Heading
			if strings.HasPrefix(l, "Warning:") {
				st = s.Bad
			}
			b.WriteString(st.Render(sh.wrap(l, 2)) + "\n")
		}
		b.WriteString("\n")
	}
	if sh.errText != "" {
		b.WriteString(s.Bad.Render(sh.wrap(sh.errText, 0)) + "\n\n")
	}
	if sh.busy {
		b.WriteString(sh.spin.View() + " Pinning the fingerprint…\n\n")
	}
	b.WriteString(sh.armHelp(hint("y", "they match: trust and connect"),
		hint("n", "they differ: go back")))
	return b.String()
}

// Update handles a key on the screen.
func (scr *trustScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if sh.busy || !sh.armed {
		return nil, nav{}
	}
	switch {
	case key.Matches(k, sh.keys.Yes):
		if sh.cfg.Trust == nil {
			sh.errText = "this build cannot pin certificates"
			return nil, nav{}
		}
		_, seq := sh.startOp(connectTimeout)
		trust, host, fp := sh.cfg.Trust, scr.host, scr.print
		return tea.Batch(sh.spin.Tick, func() tea.Msg {
			return trustedMsg{seq: seq, err: trust(host, fp)}
		}), nav{}
	case key.Matches(k, sh.keys.No):
		scr.host, scr.print = "", ""
		return nil, goTo(scrCreds)
	}
	return nil, nav{}
}

func (scr *trustScreen) onTrusted(sh *shell, msg trustedMsg) (tea.Cmd, nav) {
	if msg.err != nil {
		sh.errText = "the fingerprint could not be pinned: " + printable.String(msg.err.Error())
		return nil, nav{}
	}
	scr.host, scr.print = "", ""
	return nil, goTo(scrConnecting)
}

// stopScreen ends the session on a changed certificate or host key.
type stopScreen struct {
	text    []string // subject, pinned, seen
	stopped bool
	err     *StoppedError
}

// Update ends the session on q, enter or esc: there is no way back.
func (scr *stopScreen) Update(sh *shell, k tea.KeyPressMsg) (tea.Cmd, nav) {
	if key.Matches(k, sh.keys.Quit, sh.keys.Enter, sh.keys.Back) {
		return nil, nav{quit: true}
	}
	return nil, nav{}
}

// View draws the screen.
func (scr stopScreen) View(sh *shell) string {
	s := sh.st
	host, pinned, seen := "", "", ""
	if len(scr.text) == 3 {
		host, pinned, seen = scr.text[0], scr.text[1], scr.text[2]
	}
	w := max(sh.width-6, 30)
	body := "STOP: the device's certificate or host key has changed\n\n" +
		lipglossWrap("The device at "+host+" presented a different certificate or SSH host key than the one pinned on an earlier visit. "+
			"Someone may be between you and the device, or the device was reset or replaced. "+
			"The session stops here; nothing was sent.", w) + "\n\n" +
		"Pinned: " + lipglossWrap(pinned, w-8) + "\n" +
		"Seen:   " + lipglossWrap(seen, w-8) + "\n\n" +
		lipglossWrap("Check the device with your site's security contact. This session cannot continue; "+
			"the wizard ends with the exit code for a changed identity.", w)
	return s.Stop.Render(body) + "\n\n" + sh.help(hint("q", "end the session"))
}

// open shows the STOP screen for a changed certificate or host key and
// ends the session: no form, no retry; quitting returns a StoppedError.
func (scr *stopScreen) open(sh *shell, err error, chg TrustChangedError) {
	subject, pinned, seen := chg.TrustChanged()
	scr.stopped = true
	sh.form = nil
	scr.text = []string{printable.String(subject), printable.String(pinned), printable.String(seen)}
	scr.err = &StoppedError{Subject: scr.text[0], Pinned: scr.text[1], Seen: scr.text[2], Cause: err}
}
