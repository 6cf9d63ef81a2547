// Package tui is the wizard: the screens a technician walks through to
// connect to a device, work through its hardening guide step by step,
// restart and verify, and finish with a signed record.
//
// It knows no simulator and no device driver. It drives an engine session
// through the Session interface, and every call that touches the network
// or the disk (connect, plan, apply, waive, attest, restart, the signing
// key, the record) runs inside a tea.Cmd so the screen never waits.
//
// Each screen is a type with its own state, Update and View (welcome,
// device list with discovery, login, trust, STOP, changes awaiting their
// restart, overview, step, restart, commit, summary with signing). A
// screen never sees the root Model: it gets a shell (shell.go) with the
// frame it draws in (styles, keys, size), the services it acts through
// (the Config's hooks, the session, the event hub) and the one running
// operation and yes/no arming, and it returns a nav when the next screen
// is another one. The root Model only routes: keys, forms and results to
// the screen they belong to, navs to the next screen. One style sheet
// (styles.go), one keymap (keys.go), one form component (form.go).
//
// The wizard names no device family: what differs per family (the
// confirm screens' wording, what discovery sends) comes from the Config.
//
// What the record needs is asked for where it arises: a waiver's reason,
// approver and expiry when the step is waived; before signing, the
// plant's acceptance and, when a step is open, a deliberate yes and the
// reason to sign anyway (FinishInfo). A dismissed preview is cancelled
// in the engine, so only what was sent reaches the record, and a resumed
// session first says which changes still await their restart.
//
// Two rules keep typeahead honest. A form moves its focus inside the
// Update that handles the Enter, never in a command, so keys queued
// behind it (a paste, a password manager, a scanner) reach the field they
// were typed for. A yes/no screen that decides something (trust, apply,
// delete, restart, discovery, signing, quitting with staged changes)
// ignores keys until it has been on screen for armDelay, so keys typed for
// the screen before never answer it.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// Session is what the wizard needs from an engine session.
// *steps.Session[S] satisfies it.
type Session interface {
	Family() string
	Guide() string
	Steps() []steps.Meta
	Identity() devices.Identity
	Result(id string) steps.Result
	Results() []steps.Result
	Defaults(id string) steps.Values
	Validate(id string, in steps.Values) error
	// Plan sends nothing; a guard's refusal is a *steps.RefusedError.
	Plan(id string, in steps.Values) ([]steps.Change, error)
	// Cancel drops the step's plan when the technician dismisses its
	// preview: nothing of it reaches the record. It may journal, so the
	// wizard calls it in a command.
	Cancel(id string) error
	// Apply sends; the step becomes Staged or Failed.
	Apply(ctx context.Context, id string) error
	Pending() int
	// AwaitingRestart lists the steps whose change was sent and waits for
	// the restart; right after a resumed session's connect these are the
	// changes sent before the interruption.
	AwaitingRestart() []string
	// Commit restarts once, reads again and verifies staged steps.
	Commit(ctx context.Context) error
	Recheck(ctx context.Context) error
	Waive(id, reason string) error
	NotApplicable(id, reason string) error
	Attest(ctx context.Context, id string, in steps.Values, note string) error
}

// Candidate is a device found on the network.
type Candidate struct {
	Family  string
	Label   string
	Address string
	Detail  string
	User    string // the login to propose, if known
}

// Target is the device the technician chose and the credentials to use.
type Target struct {
	Family   string
	Address  string
	User     string
	Password string // never shown, logged or stored by the wizard
	// NewPassword is set at login when the device forces a password
	// change on first use (a passwordChangeRequired connect error).
	// Memory only.
	NewPassword string
	// ResumePath, when set, is the journal of the unfinished session the
	// technician chose to resume (copied from ResumeOffer.Path).
	ResumePath string
}

// ResumeOffer is an unfinished session the technician may resume.
type ResumeOffer struct {
	Label  string
	Target Target
	Path   string // the unfinished session's journal; becomes Target.ResumePath
}

// FinishInfo is who commissioned the device, for the record.
type FinishInfo struct {
	Technician string
	Email      string // the signing identity in allowed_signers
	Company    string
	Site       string
	// AcceptedBy and AcceptedRole name the plant's person who accepts
	// the record (the record's acceptance block). Both are optional;
	// empty AcceptedBy: no acceptance block.
	AcceptedBy   string
	AcceptedRole string
	// IncompleteReason is why the technician signs a record with open
	// steps (a step whose outcome is not Final). The wizard asks for it,
	// and for a deliberate yes, whenever a step is open; empty when none
	// is.
	IncompleteReason string
	// Waivers holds, per waived step id, who approved the waiver and
	// until when it holds, as the technician gave them when waiving. A
	// step waived before a resume, in an earlier run of the wizard, has
	// no entry.
	Waivers map[string]WaiverInfo
	// Passphrase unlocks an encrypted key file (KeyStatus.Encrypted).
	// It lives in memory only.
	Passphrase string
	// CreateKey is the technician's yes to creating a new signing key
	// (KeyStatus.Found false).
	CreateKey bool
}

// WaiverInfo is who approved a waiver and the last day it holds.
type WaiverInfo struct {
	Approver string // name and role, e.g. "J. Smith, OT security"
	Expires  string // YYYY-MM-DD, not before the day it was given
}

// FinishResult is where the record bundle went and how to verify it.
type FinishResult struct {
	Dir           string
	VerifyCommand string
}

// KeyStatus describes the key that will sign the record.
type KeyStatus struct {
	Description string // e.g. "ssh-agent: ED25519 SHA256:…" or "~/.ssh/id_ed25519"
	Found       bool   // false: no key; the wizard offers to create one at CreatePath
	Encrypted   bool   // a key file that needs its passphrase
	CreatePath  string
}

// Interface is a local network interface discovery may send from.
type Interface struct {
	Name    string // e.g. "eth0"
	Address string // its IPv4 address, e.g. "192.168.127.10"
}

// Timing is what a family's changes do to the running device, in the
// technician's words. The confirm screens show it before anything is
// sent or restarted.
type Timing struct {
	// Apply says when an applied change takes effect and what it
	// interrupts, e.g. "The gateway applies the change at once; open
	// sessions to the changed service drop."
	Apply string
	// Restart says what the restart interrupts and for how long, e.g.
	// "The device saves and restarts: its serial links drop for about 30 s."
	Restart string
	// Delete says what deleting a setting does, e.g. "The rule is removed
	// at once; traffic it allowed is refused."
	Delete string
}

// Config wires the wizard to the rest of the tool.
type Config struct {
	// Known lists devices the wizard shows at start without sending
	// anything (the demo's simulators, say).
	Known []Candidate
	// Discover looks for devices when the technician asks for it on the
	// device list, from the interface they chose. Nil turns discovery off
	// (--no-discover): the key is not offered and nothing is ever sent.
	Discover func(ctx context.Context, from Interface) ([]Candidate, error)
	// Interfaces lists the interfaces Discover may send from; may be nil
	// (the system picks the interface).
	Interfaces func() ([]Interface, error)
	// DiscoverSends says what one discovery sends, in the command's
	// words, for the screen that asks the technician's leave. Empty: the
	// screen says the command did not say what is sent.
	DiscoverSends string
	// Families the tool supports, for typed addresses.
	Families []string
	// TimingOf gives a family's wording for the apply, delete and restart
	// confirm screens; nil, or a family without wording, gets neutral
	// wording. The wizard asks it for the connected family only, in the command
	// that opens the session, so no family's wording is read before the
	// first frame or on the screen's path. It may be slow; it must not
	// send anything.
	TimingOf func(family string) Timing
	// Connect opens a session; rep receives the engine's events.
	Connect func(ctx context.Context, t Target, rep steps.Reporter) (Session, error)
	// Trust pins a TLS fingerprint the technician confirmed.
	Trust func(hostport, fingerprint string) error
	// Finish writes the signed record.
	Finish func(ctx context.Context, s Session, f FinishInfo) (FinishResult, error)
	// ErrNeedsReason is the error Finish returns (matched with errors.Is)
	// when the record has open steps and no reason to sign it with them
	// (the command passes record.ErrIncompleteNoReason). The wizard then
	// asks for the reason again instead of reporting a failure. Nil: every
	// Finish error is a failure.
	ErrNeedsReason error
	// Planned, when set, tells which inputs of a step take their default
	// (Session.Defaults) from the site plan: keys of steps.Input, true
	// when planned. The step's form marks those fields "from the site
	// plan", and "changed in the field" once the value differs from the
	// default. It is called in Update, so it must not do I/O (the plan is
	// read before the wizard starts).
	//
	// A session that has the method FromPlan(stepID string) steps.Values
	// (the plan's values for the step) needs no Planned: the wizard asks
	// the session, and compares with the plan's own values.
	Planned func(stepID string) map[string]bool
	// SigningKey says which key will sign the record; may be nil. It
	// looks only at local files and the ssh-agent socket.
	SigningKey func() KeyStatus
	// Resume, when set, is offered on the welcome screen.
	Resume  *ResumeOffer
	Version string
	// NoColor draws without colours (NO_COLOR).
	NoColor bool
}

// Summary is what the wizard reports when it ends.
type Summary struct {
	Connected     bool
	Total         int                   // steps in the guide
	Counts        map[steps.Outcome]int // steps per outcome
	Staged        int                   // changes sent but not verified
	Finished      bool                  // the record was written
	Dir           string
	VerifyCommand string
	Stopped       bool // the device's certificate or host key changed; the session stopped
}

// String is a one-line summary for the terminal.
func (s Summary) String() string {
	switch {
	case s.Stopped:
		return "stopped: the device's certificate or host key changed"
	case !s.Connected:
		return "no device was commissioned"
	}
	var parts []string
	for _, o := range outcomeOrder {
		if n := s.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(o), "_", " ")))
		}
	}
	out := fmt.Sprintf("%d steps: %s", s.Total, strings.Join(parts, ", "))
	if s.Finished {
		out += "; record written to " + s.Dir
	} else {
		out += "; no record written"
	}
	return out
}

// TrustChangedError is a connect error for a device whose identity
// differs from the one pinned on an earlier visit: a changed TLS
// certificate (transport.FingerprintChangedError) or a changed SSH host
// key (sshconn). Subject names what changed (host:port), pinned and seen
// are the two fingerprints. The wizard shows the STOP screen for it and
// ends the session.
type TrustChangedError interface {
	error
	TrustChanged() (subject, pinned, seen string)
}

// ErrTrustChanged matches (errors.Is) the error Run returns when the
// session stopped on a changed certificate or host key.
var ErrTrustChanged = errors.New("the device's certificate or host key changed")

// ErrFingerprintChanged is the former name of ErrTrustChanged.
var ErrFingerprintChanged = ErrTrustChanged

// StoppedError is what Run returns when the STOP screen ended the
// session. It matches ErrTrustChanged and unwraps to the connect error
// that caused it.
type StoppedError struct {
	Subject, Pinned, Seen string
	Cause                 error
}

func (e *StoppedError) Error() string {
	return "stopped: " + e.Subject + " presented " + e.Seen + ", pinned " + e.Pinned
}

// Unwrap returns ErrTrustChanged and the cause.
func (e *StoppedError) Unwrap() []error { return []error{ErrTrustChanged, e.Cause} }

// Run runs the wizard, drawing on out and reading keys from in, until the
// technician quits or ctx ends.
func Run(ctx context.Context, cfg Config, in io.Reader, out io.Writer) (Summary, error) {
	m := newModel(ctx, cfg)
	defer m.Close()
	// The terminal is detected once, on the output the wizard draws on:
	// left to itself the program would detect again (under tmux each
	// detection runs a tmux subprocess before the first frame).
	profile := colorprofile.Ascii
	if !cfg.NoColor {
		profile = detectProfile(out)
	}
	// The program writes what is queued, the first frame too, on each
	// tick of its frame clock: at the most frames a second a key's echo
	// and the first frame wait half as long as at the default 60.
	opts := []tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out), tea.WithContext(ctx), tea.WithColorProfile(profile),
		tea.WithFPS(maxFPS)}
	final, err := tea.NewProgram(m, opts...).Run()
	fm, ok := final.(Model)
	if !ok {
		fm = m
	}
	sum := fm.Summary()
	if err != nil {
		return sum, fmt.Errorf("wizard: %w", err)
	}
	if sum.Stopped {
		return sum, fm.stopErr()
	}
	return sum, nil
}

// maxFPS is the most frames a second the program draws (bubbletea's
// ceiling; its default is 60).
const maxFPS = 120

// detectProfile is the colour profile of out. lipgloss detected stdout's
// when the program started (its Writer); when out is the same open file
// as stdout (the wizard draws on stderr, and both are the terminal) a
// second detection would give the same answer, since it depends only on
// whether the output is a terminal and on the environment, so that one is
// used: detecting again reads terminfo again and, under tmux, runs
// `tmux info` again, before the first frame.
func detectProfile(out io.Writer) colorprofile.Profile {
	if w := lipgloss.Writer; w != nil && w.Forward == io.Writer(os.Stdout) && sameFile(out, os.Stdout) {
		return w.Profile
	}
	return colorprofile.Detect(out, os.Environ())
}

// sameFile reports whether out is an *os.File open on the same file as f.
func sameFile(out io.Writer, f *os.File) bool {
	o, ok := out.(*os.File)
	if !ok || o == nil || f == nil {
		return false
	}
	a, err := o.Stat()
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}
