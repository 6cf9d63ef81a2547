// Package tui is the wizard: the screens a technician walks through to
// connect to a device, work through its hardening guide step by step,
// restart and verify, and finish with a signed record.
//
// It knows no simulator and no device driver. It drives an engine session
// through the Session interface, and every call that touches the network
// runs inside a tea.Cmd so the screen never waits on a device.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
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
	// Apply sends; the step becomes Staged or Failed.
	Apply(ctx context.Context, id string) error
	Pending() int
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
	// change on first use (ThingsPro Edge). Memory only.
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
	// Passphrase unlocks an encrypted key file (KeyStatus.Encrypted).
	// It lives in memory only.
	Passphrase string
	// CreateKey is the technician's yes to creating a new signing key
	// (KeyStatus.Found false).
	CreateKey bool
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

// Config wires the wizard to the rest of the tool.
type Config struct {
	// Candidates discovers devices; may be nil.
	Candidates func(ctx context.Context) ([]Candidate, error)
	// Families the tool supports, for typed addresses.
	Families []string
	// Connect opens a session; rep receives the engine's events.
	Connect func(ctx context.Context, t Target, rep steps.Reporter) (Session, error)
	// Trust pins a TLS fingerprint the technician confirmed.
	Trust func(hostport, fingerprint string) error
	// Finish writes the signed record.
	Finish func(ctx context.Context, s Session, f FinishInfo) (FinishResult, error)
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
	Stopped       bool // the device's certificate changed; the session stopped
}

// String is a one-line summary for the terminal.
func (s Summary) String() string {
	switch {
	case s.Stopped:
		return "stopped: the device's certificate changed"
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

// ErrFingerprintChanged is returned by Run when the session stopped
// because the device presented a certificate other than the pinned one.
var ErrFingerprintChanged = errors.New("the device's certificate fingerprint changed")

// Run runs the wizard, drawing on out and reading keys from in, until the
// technician quits or ctx ends.
func Run(ctx context.Context, cfg Config, in io.Reader, out io.Writer) (Summary, error) {
	m := newModel(ctx, cfg)
	defer m.Close()
	opts := []tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out), tea.WithContext(ctx)}
	if cfg.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
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
		return sum, ErrFingerprintChanged
	}
	return sum, nil
}
