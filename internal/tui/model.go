package tui

import (
	"context"
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

// screen is which screen the wizard shows.
type screen int

const (
	scrWelcome screen = iota
	scrChoose
	scrDiscover
	scrAddress
	scrCreds
	scrConnecting
	scrFingerprint
	scrStop
	scrOverview
	scrStep
	scrRestart
	scrCommit
	scrSummary
	scrAwaiting
)

// Time limits for the wizard's own waiting. Drivers have tighter
// per-request timeouts; these bound a whole operation.
const (
	discoverTimeout = 30 * time.Second
	connectTimeout  = 2 * time.Minute
	applyTimeout    = 2 * time.Minute
	commitTimeout   = 10 * time.Minute
	finishTimeout   = 2 * time.Minute
	// armDelay is how long a yes/no screen that decides something
	// ignores keys after it appears: keys typed for the screen before
	// (typeahead, a paste, a key held down) never answer it.
	armDelay = 300 * time.Millisecond
)

// opKind names a network operation running in a tea.Cmd.
type opKind int

const (
	opApply opKind = iota + 1
	opAttest
	opCommit
	opRecheck
	opPlan
	opDecide
	opCancel
)

// Messages that carry the result of work done in a tea.Cmd. seq ties a
// result to the operation that started it, so a cancelled one is ignored.
type (
	candidatesMsg struct {
		seq  int
		list []Candidate
		err  error
	}
	interfacesMsg struct {
		list []Interface
		err  error
	}
	// armMsg arms the yes/no screen of its generation.
	armMsg  int
	planMsg struct {
		seq     int
		id      string
		changes []steps.Change
		err     error
	}
	connectedMsg struct {
		seq  int
		sess Session
		err  error
	}
	trustedMsg struct {
		seq int
		err error
	}
	opDoneMsg struct {
		seq  int
		kind opKind
		id   string
		err  error
	}
	finishedMsg struct {
		seq int
		res FinishResult
		err error
	}
	// keyStatusMsg carries the signing key found, for the finish form.
	keyStatusMsg struct {
		status *KeyStatus // nil: no SigningKey configured
	}
)

// Model is the wizard, a tea.Model. Create it with New.
type Model struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	hub    *hub
	st     styles
	keys   keyMap

	width, height int
	screen        screen // which screen's state below is shown
	spin          spinner.Model
	vp            viewport.Model

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

	target     Target
	sess       Session
	stopped    bool
	stopErrVal *StoppedError
	finished   bool
	finishRes  FinishResult
	// waivers are the approver and expiry of each step waived in this
	// run, for the record (FinishInfo.Waivers). Replaced, never changed
	// in place: models are values.
	waivers map[string]WaiverInfo

	confirmQuit bool

	// The screens, each with its own state, Update and View.
	welcome welcomeScreen
	devs    deviceList
	login   loginScreen
	trust   trustScreen
	stopScr stopScreen
	ov      overviewScreen
	step    stepScreen
	restart restartScreen
	commit  commitScreen
	sum     summaryScreen
	await   awaitScreen
}

// welcomeScreen is the first screen, with the resume offer.
type welcomeScreen struct{}

// restartScreen asks for a deliberate yes before the device restarts.
type restartScreen struct{}

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

// loginScreen is the address and credentials forms.
type loginScreen struct {
	needNewPassword bool // the device asked for a new password at first login
}

// trustScreen asks to trust an unknown certificate.
type trustScreen struct {
	host, print string
	// details are the certificate's lines (hex and OpenSSH fingerprints,
	// subject, validity, signature, key, warnings), already printable.
	details []string
}

// stopScreen ends the session on a changed certificate or host key.
type stopScreen struct {
	text []string // subject, pinned, seen
}

// overviewScreen lists the steps by group.
type overviewScreen struct {
	cursor int
}

// stepScreen is one step: details, inputs, preview, reason, attestation.
type stepScreen struct {
	id         string
	mode       stepMode
	values     steps.Values
	changes    []steps.Change
	reasonKind steps.Outcome
	waiver     WaiverInfo // the waiver being recorded, kept once Waive succeeds
	busyWhat   string     // what the busy step screen waits for
	planned    bool       // the engine holds a plan of this step that was not applied
	pvOff      int        // the preview table's scroll offset
}

// commitScreen is the restart and the verification after it.
type commitScreen struct {
	log  []string
	ids  []string
	done bool
}

// summaryScreen is the summary and the signing of the record.
type summaryScreen struct {
	mode       sumMode
	info       FinishInfo // the form's answers, read back before signing
	keyStat    *KeyStatus
	keyKnown   bool // the signing-key lookup answered
	keyLooking bool // the signing-key lookup runs
	keyAsked   bool // the finish form had the key's field
	finishing  bool // the busy summary is writing the record (not looking up the key)
}

// New builds the wizard. Call Close after the program has ended.
func New(cfg Config) Model { return newModel(context.Background(), cfg) }

func newModel(ctx context.Context, cfg Config) Model {
	ctx, cancel := context.WithCancel(ctx)
	st := newStyles(cfg.NoColor)
	m := Model{
		cfg: cfg, ctx: ctx, cancel: cancel, hub: newHub(), st: st, keys: newKeyMap(),
		width: 80, height: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(st.Info)),
		vp:   viewport.New(viewport.WithWidth(78), viewport.WithHeight(10)),
		devs: deviceList{candidates: append([]Candidate(nil), cfg.Known...)},
	}
	return m
}

// Close cancels any operation still running and stops the event
// listener. It is safe to call more than once.
func (m Model) Close() {
	m.cancel()
	m.hub.close()
}

// Init starts listening for engine events. It sends nothing to the
// network: discovery runs only when the technician asks for it.
func (m Model) Init() tea.Cmd { return m.hub.listen() }

// arm starts a yes/no screen: keys are ignored until armDelay has passed.
func (m *Model) arm() tea.Cmd {
	m.armGen++
	m.armed = false
	g := m.armGen
	return tea.Tick(armDelay, func(time.Time) tea.Msg { return armMsg(g) })
}

// armHelp is the help line of a yes/no screen: the keys once armed.
func (m Model) armHelp(bs ...key.Binding) string {
	if !m.armed {
		return m.st.Muted.Render("Read the screen; keys typed before it appeared are ignored.")
	}
	return m.help(bs...)
}

// stopErr is the error Run returns after the STOP screen.
func (m Model) stopErr() error {
	if m.stopErrVal != nil {
		return m.stopErrVal
	}
	return ErrTrustChanged
}

// Summary reports where the session stands.
func (m Model) Summary() Summary {
	s := Summary{Counts: map[steps.Outcome]int{}, Finished: m.finished, Stopped: m.stopped,
		Dir: m.finishRes.Dir, VerifyCommand: m.finishRes.VerifyCommand}
	if m.sess == nil {
		return s
	}
	s.Connected = true
	for _, r := range m.sess.Results() {
		s.Counts[r.Outcome]++
		s.Total++
	}
	s.Staged = s.Counts[steps.Staged]
	return s
}

// startOp marks the wizard busy with a new operation and returns its
// context and sequence number.
func (m *Model) startOp(timeout time.Duration) (context.Context, int) {
	if m.opCancel != nil {
		m.opCancel()
	}
	ctx, cancel := context.WithTimeout(m.ctx, timeout)
	m.opSeq++
	m.opCancel = cancel
	m.busy = true
	m.opStart = time.Now()
	m.errText, m.notice = "", ""
	return ctx, m.opSeq
}

// endOp reports whether msg belongs to the running operation and, if
// so, marks the wizard idle.
func (m *Model) endOp(seq int) bool {
	if seq != m.opSeq || !m.busy {
		return false
	}
	m.busy = false
	if m.opCancel != nil {
		m.opCancel()
		m.opCancel = nil
	}
	return true
}

// cancelOp abandons the running operation.
func (m *Model) cancelOp() {
	if m.opCancel != nil {
		m.opCancel()
		m.opCancel = nil
	}
	m.opSeq++
	m.busy = false
}

// do lets a screen's Update take a transition of the root: it keeps the
// root the transition returns and hands on its command.
func (m *Model) do(next tea.Model, cmd tea.Cmd) tea.Cmd {
	*m = next.(Model)
	return cmd
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.cancelOp()
	m.hub.close()
	return m, tea.Quit
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 40), max(msg.Height, 12)
		m.layout()
		if m.form != nil {
			m.form.setWidth(m.width - 2)
		}
		return m, nil
	case armMsg:
		if int(msg) == m.armGen {
			m.armed = true
		}
		return m, nil
	case eventsMsg:
		m.onEvents(msg)
		return m, m.hub.listen()
	case spinner.TickMsg:
		if !m.busy && !m.devs.loading {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case candidatesMsg:
		return m.onCandidates(msg)
	case interfacesMsg:
		return m.onInterfaces(msg)
	case planMsg:
		return m.onPlanned(msg)
	case connectedMsg:
		return m.onConnected(msg)
	case trustedMsg:
		return m.onTrusted(msg)
	case opDoneMsg:
		return m.onOpDone(msg)
	case finishedMsg:
		return m.onFinished(msg)
	case keyStatusMsg:
		return m.onKeyStatus(msg.status)
	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.ForceQuit) {
			return m.quit()
		}
		if m.confirmQuit {
			if !m.armed {
				return m, nil
			}
			switch {
			case key.Matches(msg, m.keys.Yes):
				return m.quit()
			case key.Matches(msg, m.keys.No):
				m.confirmQuit = false
			}
			return m, nil
		}
	}
	if m.form != nil {
		return m.updateForm(msg)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	// The root only routes: each screen handles its own keys.
	var cmd tea.Cmd
	switch m.screen {
	case scrWelcome:
		cmd = m.welcome.Update(&m, k)
	case scrChoose:
		cmd = m.devs.Update(&m, k)
	case scrDiscover:
		cmd = m.devs.UpdateDiscover(&m, k)
	case scrConnecting:
		cmd = m.login.UpdateConnecting(&m, k)
	case scrFingerprint:
		cmd = m.trust.Update(&m, k)
	case scrStop:
		cmd = m.stopScr.Update(&m, k)
	case scrOverview:
		cmd = m.ov.Update(&m, k)
	case scrStep:
		cmd = m.step.Update(&m, k)
	case scrRestart:
		cmd = m.restart.Update(&m, k)
	case scrCommit:
		cmd = m.commit.Update(&m, k)
	case scrSummary:
		cmd = m.sum.Update(&m, k)
	case scrAwaiting:
		cmd = m.await.Update(&m, k)
	}
	return m, cmd
}

// updateForm hands msg to the screen's form and routes its outcome.
func (m Model) updateForm(msg tea.Msg) (tea.Model, tea.Cmd) {
	f := m.form
	cmd := f.Update(msg)
	switch f.state {
	case formDone:
		m.form = nil
		next, cmd2 := m.formDone(f.values())
		return next, tea.Batch(cmd, cmd2)
	case formCancelled:
		m.form = nil
		return m.formCancelled()
	}
	return m, cmd
}

// formDone routes a completed form to its screen.
func (m Model) formDone(vals map[string]string) (tea.Model, tea.Cmd) {
	switch m.screen {
	case scrAddress:
		return m.addressDone(vals)
	case scrCreds:
		return m.credsDone(vals)
	case scrStep:
		return m.stepFormDone(vals)
	case scrSummary:
		return m.finishFormDone(vals)
	}
	return m, nil
}

// formCancelled routes esc on a form to its screen.
func (m Model) formCancelled() (tea.Model, tea.Cmd) {
	switch m.screen {
	case scrAddress:
		m.screen = scrChoose
	case scrCreds:
		return m.openAddress()
	case scrStep:
		if m.step.mode == stepInputs && m.step.planned {
			// The inputs were opened from a preview: dismissing them
			// dismisses the preview too.
			return m.cancelPlan()
		}
		m.step.mode = stepView
		m.layout()
	case scrSummary:
		m.sum.mode = sumView
	}
	return m, nil
}

// openForm shows a form with the wizard's styles and width.
func (m *Model) openForm(fields ...fieldSpec) {
	m.form = newForm(m.st, m.width-2, fields...)
}

// formView draws the form in the lines left below used.
func (m Model) formView(used int) string {
	if m.form == nil {
		return ""
	}
	return m.form.View(max(m.height-used, 6))
}

// onEvents takes in the engine's events.
func (m *Model) onEvents(evs eventsMsg) {
	for _, e := range evs {
		if e.Kind == steps.DeviceProgress && e.Message != "" {
			m.commit.log = append(m.commit.log, printable.String(e.Message))
			if len(m.commit.log) > 200 {
				m.commit.log = m.commit.log[len(m.commit.log)-200:]
			}
		}
	}
	if m.screen == scrCommit {
		m.layout()
	}
}

// View draws the current screen.
func (m Model) View() tea.View {
	var body string
	switch m.screen {
	case scrWelcome:
		body = m.welcome.View(m)
	case scrChoose:
		body = m.devs.View(m)
	case scrDiscover:
		body = m.devs.ViewDiscover(m)
	case scrAddress, scrCreds:
		body = m.login.View(m)
	case scrConnecting:
		body = m.login.ViewConnecting(m)
	case scrFingerprint:
		body = m.trust.View(m)
	case scrStop:
		body = m.stopScr.View(m)
	case scrOverview:
		body = m.ov.View(m)
	case scrStep:
		body = m.step.View(m)
	case scrRestart:
		body = m.restart.View(m)
	case scrCommit:
		body = m.commit.View(m)
	case scrSummary:
		body = m.sum.View(m)
	case scrAwaiting:
		body = m.await.View(m)
	}
	if m.confirmQuit {
		q := m.st.Warn.Render(m.quitQuestion())
		if !m.armed {
			q = m.st.Warn.Render(plural(m.sess.Pending(), "change is", "changes are") + " sent but not verified until a restart.")
		}
		body = m.clip(body, m.height-2) + "\n" + q
	}
	v := tea.NewView(m.clip(body, m.height))
	v.AltScreen = true
	v.WindowTitle = "commission"
	return v
}

func (m Model) quitQuestion() string {
	n := 0
	if m.sess != nil {
		n = m.sess.Pending()
	}
	return plural(n, "change is", "changes are") + " sent but not verified until a restart. Quit anyway? y/n"
}

// clip keeps at most n lines.
func (m Model) clip(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// layout sizes the viewport for the current screen.
func (m *Model) layout() {
	m.vp.SetWidth(m.width)
	switch m.screen {
	case scrStep:
		m.vp.SetHeight(max(m.height-6, 3))
		m.vp.SetContent(m.stepDetails())
	case scrCommit:
		m.vp.SetHeight(max(m.height-6, 3))
		m.vp.SetContent(m.commitContent())
		m.vp.GotoBottom()
	case scrSummary:
		m.vp.SetHeight(max(m.height-7, 3))
		m.vp.SetContent(m.summaryContent())
	}
}

// scroll moves the viewport for the scrolling keys; it reports whether
// the key was one of them.
func (m *Model) scroll(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, m.keys.Up):
		m.vp.ScrollUp(1)
	case key.Matches(k, m.keys.Down):
		m.vp.ScrollDown(1)
	case key.Matches(k, m.keys.PageUp):
		m.vp.PageUp()
	case key.Matches(k, m.keys.PageDown):
		m.vp.PageDown()
	default:
		return false
	}
	return true
}

// wrap breaks text to the screen width, indented by indent spaces.
func (m Model) wrap(text string, indent int) string {
	w := max(m.width-indent-1, 20)
	pad := strings.Repeat(" ", indent)
	lines := strings.Split(lipglossWrap(text, w), "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// errorLine renders the current error or notice, if any.
func (m Model) statusLine() string {
	switch {
	case m.errText != "":
		return m.st.Bad.Render(m.wrap(m.errText, 0))
	case m.notice != "":
		return m.st.OK.Render(m.wrap(m.notice, 0))
	}
	return ""
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
