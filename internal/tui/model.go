package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// screen is which screen the wizard shows.
type screen int

const (
	scrWelcome screen = iota + 1 // the zero screen is "stay" in a nav
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
		seq    int
		sess   Session
		timing *Timing // Config.TimingOf for the session's family; nil: none
		err    error
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
//
// The root only routes: it hands keys, forms and the results of
// commands to the screen they belong to, and turns the nav a screen
// returns into the next screen. Each screen owns its state; what they
// share is the shell.
type Model struct {
	sh     shell
	cancel context.CancelFunc

	screen      screen // which screen's state below is shown
	confirmQuit bool   // the quit question is shown over the screen

	// The screens, each with its own state, Update and View.
	welcome welcomeScreen
	devs    deviceList
	login   loginScreen
	trust   trustScreen
	stopScr stopScreen
	await   awaitScreen
	ov      overviewScreen
	step    stepScreen
	restart restartScreen
	commit  commitScreen
	sum     summaryScreen
}

// New builds the wizard. Call Close after the program has ended.
func New(cfg Config) Model { return newModel(context.Background(), cfg) }

func newModel(ctx context.Context, cfg Config) Model {
	ctx, cancel := context.WithCancel(ctx)
	st := newStyles(cfg.NoColor)
	m := Model{
		sh: shell{
			frame:    frame{st: st, keys: newKeyMap(), width: 80, height: 24},
			services: services{ctx: ctx, cfg: cfg, hub: newHub()},
			spin:     spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(st.Info)),
		},
		cancel: cancel,
		screen: scrWelcome,
		devs:   deviceList{candidates: append([]Candidate(nil), cfg.Known...)},
		step:   stepScreen{vp: newViewport()},
		commit: commitScreen{vp: newViewport()},
		sum:    summaryScreen{vp: newViewport()},
	}
	return m
}

// Close cancels any operation still running and stops the event
// listener. It is safe to call more than once.
func (m Model) Close() {
	m.cancel()
	m.sh.hub.close()
}

// Init starts listening for engine events. It sends nothing to the
// network: discovery runs only when the technician asks for it.
func (m Model) Init() tea.Cmd { return m.sh.hub.listen() }

// stopErr is the error Run returns after the STOP screen.
func (m Model) stopErr() error {
	if m.stopScr.err != nil {
		return m.stopScr.err
	}
	return ErrTrustChanged
}

// Summary reports where the session stands.
func (m Model) Summary() Summary {
	s := Summary{Counts: map[steps.Outcome]int{}, Finished: m.sum.finished, Stopped: m.stopScr.stopped,
		Dir: m.sum.res.Dir, VerifyCommand: m.sum.res.VerifyCommand}
	if m.sh.sess == nil {
		return s
	}
	s.Connected = true
	for _, r := range m.sh.sess.Results() {
		s.Counts[r.Outcome]++
		s.Total++
	}
	s.Staged = s.Counts[steps.Staged]
	return s
}

func (m Model) quit(cmd tea.Cmd) (tea.Model, tea.Cmd) {
	m.sh.cancelOp()
	m.sh.hub.close()
	return m, tea.Batch(cmd, tea.Quit)
}

// route turns a screen's nav into the next screen.
func (m Model) route(cmd tea.Cmd, n nav) (tea.Model, tea.Cmd) {
	sh := &m.sh
	switch {
	case n.quit:
		return m.quit(cmd)
	case n.askQuit:
		m.confirmQuit = true
		return m, tea.Batch(cmd, sh.arm())
	case n.stop != nil:
		m.stopScr.open(sh, n.err, n.stop)
		m.login.forget()
		m.screen, m.confirmQuit = scrStop, false
		return m, cmd
	case n.to == 0:
		return m, cmd
	}
	m.screen = n.to
	var open tea.Cmd
	var more nav
	switch n.to {
	case scrChoose:
		m.devs.open(n.reset)
	case scrDiscover:
		open = m.devs.openDiscover(sh)
	case scrAddress:
		m.login.openAddress(sh)
	case scrCreds:
		if n.target != nil {
			m.login.setTarget(*n.target)
		}
		m.login.openCreds(sh)
	case scrConnecting:
		if n.target != nil {
			m.login.setTarget(*n.target)
		}
		open, more = m.login.connect(sh)
	case scrFingerprint:
		open = m.trust.open(sh, n.err)
	case scrAwaiting:
		open = m.await.open(sh)
	case scrOverview:
		m.ov.open(n.reset)
	case scrStep:
		open, more = m.step.open(sh, n.stepID)
	case scrRestart:
		open = m.restart.open(sh)
	case scrCommit:
		open = m.commit.start(sh)
	case scrSummary:
		open = m.sum.open(sh)
	}
	if n.notice != "" {
		sh.notice = n.notice
	}
	m.layout()
	return m.route(tea.Batch(cmd, open), more)
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	sh := &m.sh
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		sh.width, sh.height = max(msg.Width, 40), max(msg.Height, 12)
		m.layout()
		if sh.form != nil {
			sh.form.setWidth(sh.width - 2)
		}
		return m, nil
	case armMsg:
		if int(msg) == sh.armGen {
			sh.armed = true
		}
		return m, nil
	case eventsMsg:
		if m.commit.onEvents(msg) && m.screen == scrCommit {
			m.layout()
		}
		return m, sh.hub.listen()
	case spinner.TickMsg:
		if !sh.busy && !m.devs.loading {
			return m, nil
		}
		var cmd tea.Cmd
		sh.spin, cmd = sh.spin.Update(msg)
		return m, cmd
	case candidatesMsg:
		m.devs.onCandidates(sh, msg)
		return m, nil
	case interfacesMsg:
		m.devs.onInterfaces(msg)
		return m, nil
	case planMsg:
		if !sh.endOp(msg.seq) || m.screen != scrStep {
			return m, nil
		}
		return m.route(m.step.onPlanned(sh, msg))
	case connectedMsg:
		if !sh.endOp(msg.seq) {
			return m, nil
		}
		return m.route(m.login.onConnected(sh, msg))
	case trustedMsg:
		if !sh.endOp(msg.seq) {
			return m, nil
		}
		return m.route(m.trust.onTrusted(sh, msg))
	case opDoneMsg:
		if !sh.endOp(msg.seq) {
			return m, nil
		}
		// A changed certificate or host key met during the session (the
		// restart's new login, an SSH check) stops it like one met at login.
		if n, ok := stopNav(msg.err); ok {
			return m.route(nil, n)
		}
		switch msg.kind {
		case opCommit:
			m.commit.onDone(sh, msg)
		case opRecheck:
			m.ov.onRecheck(sh, msg)
		default:
			return m.route(m.step.onDone(sh, msg))
		}
		return m, nil
	case finishedMsg:
		if !sh.endOp(msg.seq) {
			return m, nil
		}
		return m.route(m.sum.onFinished(sh, msg))
	case keyStatusMsg:
		return m.route(m.sum.onKeyStatus(sh, msg.status, m.screen == scrSummary))
	case tea.KeyPressMsg:
		if key.Matches(msg, sh.keys.ForceQuit) {
			return m.quit(nil)
		}
		if m.confirmQuit {
			if !sh.armed {
				return m, nil
			}
			switch {
			case key.Matches(msg, sh.keys.Yes):
				return m.quit(nil)
			case key.Matches(msg, sh.keys.No):
				m.confirmQuit = false
			}
			return m, nil
		}
	}
	if sh.form != nil {
		return m.updateForm(msg)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	var cmd tea.Cmd
	var n nav
	switch m.screen {
	case scrWelcome:
		cmd, n = m.welcome.Update(sh, k)
	case scrChoose:
		cmd, n = m.devs.Update(sh, k)
	case scrDiscover:
		cmd, n = m.devs.UpdateDiscover(sh, k)
	case scrConnecting:
		cmd, n = m.login.UpdateConnecting(sh, k)
	case scrFingerprint:
		cmd, n = m.trust.Update(sh, k)
	case scrStop:
		cmd, n = m.stopScr.Update(sh, k)
	case scrAwaiting:
		cmd, n = m.await.Update(sh, k)
	case scrOverview:
		cmd, n = m.ov.Update(sh, k)
	case scrStep:
		cmd, n = m.step.Update(sh, k)
	case scrRestart:
		cmd, n = m.restart.Update(sh, k)
	case scrCommit:
		cmd, n = m.commit.Update(sh, k)
	case scrSummary:
		cmd, n = m.sum.Update(sh, k)
	}
	return m.route(cmd, n)
}

// updateForm hands msg to the screen's form and routes its outcome to
// the screen.
func (m Model) updateForm(msg tea.Msg) (tea.Model, tea.Cmd) {
	sh := &m.sh
	f := sh.form
	cmd := f.Update(msg)
	var next tea.Cmd
	var n nav
	switch f.state {
	case formDone:
		sh.form = nil
		v := f.values()
		switch m.screen {
		case scrAddress:
			next, n = m.login.addressDone(sh, v)
		case scrCreds:
			next, n = m.login.credsDone(sh, v)
		case scrStep:
			next, n = m.step.formDone(sh, v)
		case scrSummary:
			next = m.sum.formDone(sh, v)
		}
	case formCancelled:
		sh.form = nil
		switch m.screen {
		case scrAddress:
			n = goTo(scrChoose)
		case scrCreds:
			n = goTo(scrAddress)
		case scrStep:
			next = m.step.formCancelled(sh)
		case scrSummary:
			m.sum.mode = sumView
		}
	}
	return m.route(tea.Batch(cmd, next), n)
}

// View draws the current screen.
func (m Model) View() tea.View {
	sh := &m.sh
	var body string
	switch m.screen {
	case scrWelcome:
		body = m.welcome.View(sh)
	case scrChoose:
		body = m.devs.View(sh)
	case scrDiscover:
		body = m.devs.ViewDiscover(sh)
	case scrAddress, scrCreds:
		body = m.login.View(sh, m.screen == scrCreds)
	case scrConnecting:
		body = m.login.ViewConnecting(sh)
	case scrFingerprint:
		body = m.trust.View(sh)
	case scrStop:
		body = m.stopScr.View(sh)
	case scrAwaiting:
		body = m.await.View(sh)
	case scrOverview:
		body = m.ov.View(sh)
	case scrStep:
		body = m.step.View(sh)
	case scrRestart:
		body = m.restart.View(sh)
	case scrCommit:
		body = m.commit.View(sh)
	case scrSummary:
		body = m.sum.View(sh)
	}
	if m.confirmQuit {
		n := 0
		if sh.sess != nil {
			n = sh.sess.Pending()
		}
		q := plural(n, "change is", "changes are") + " sent but not verified until a restart."
		if sh.armed {
			q += " Quit anyway? y/n"
		}
		body = sh.clip(body, sh.height-2) + "\n" + sh.st.Warn.Render(q)
	}
	v := tea.NewView(sh.clip(body, sh.height))
	v.AltScreen = true
	v.WindowTitle = "commission"
	return v
}

// layout sizes the current screen's viewport.
func (m *Model) layout() {
	switch m.screen {
	case scrStep:
		m.step.layout(&m.sh)
	case scrCommit:
		m.commit.layout(&m.sh)
	case scrSummary:
		m.sum.layout(&m.sh)
	}
}
