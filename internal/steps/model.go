// Package steps is the domain core: the step model, the session engine
// that runs check → plan → guard → apply → verify, and the events it
// reports. It knows no UI, no simulator and no wire protocol: a family's
// driver satisfies Device, and a family's catalog supplies the steps.
package steps

import (
	"context"
	"time"

	"github.com/commission-tool/commission/internal/devices"
)

// Kind says whether the tool can check and change a step on the device.
type Kind string

// Step kinds.
const (
	Automatic Kind = "automatic" // checked and changed live on the device
	Manual    Kind = "manual"    // attested by the technician, with evidence where possible
)

// Outcome is where a step stands.
type Outcome string

// Outcomes. Only a fresh read of the device after an apply makes a step Fixed.
const (
	Pending       Outcome = "pending"        // not looked at yet
	Compliant     Outcome = "compliant"      // the device already meets the guide
	Deviation     Outcome = "deviation"      // checked: does not meet the guide; nothing changed
	Staged        Outcome = "staged"         // change sent, waiting for the device to restart and be read again
	Fixed         Outcome = "fixed"          // changed, and a fresh read confirmed it
	Waived        Outcome = "waived"         // skipped on purpose, with a reason
	NotApplicable Outcome = "not_applicable" // does not apply here, with a reason
	Attested      Outcome = "attested"       // manual step the technician confirmed
	ManualPending Outcome = "manual"         // manual step, not attested (headless audit)
	Failed        Outcome = "failed"         // a change was tried and is not verified
	Error         Outcome = "error"          // could not be checked
)

// Final reports whether the outcome closes the step for the wizard.
func (o Outcome) Final() bool {
	switch o {
	case Compliant, Fixed, Waived, NotApplicable, Attested:
		return true
	}
	return false
}

// NeedsReason reports whether a record must carry a reason for the outcome.
func (o Outcome) NeedsReason() bool {
	switch o {
	case Waived, NotApplicable, Failed, Error:
		return true
	}
	return false
}

// Meta is what describes a step, independent of the device family.
type Meta struct {
	ID      string   `json:"id"`    // e.g. "nport.3.1.telnet"
	Section string   `json:"guide"` // guide section, e.g. "3.1"
	Group   string   `json:"group"` // wizard section: accounts, services, allowlist, tls, logging, firmware
	Title   string   `json:"title"`
	Why     string   `json:"why"` // in our words
	SRs     []string `json:"srs"` // IEC 62443-3-3 system requirements, primary first
	Kind    Kind     `json:"kind"`
	Inputs  []Input  `json:"inputs,omitempty"`
	Attest  string   `json:"attest,omitempty"`  // for manual steps: what the technician confirms
	Caution string   `json:"caution,omitempty"` // the trade-off the technician should weigh
}

// Input is one value a step asks the technician for.
type Input struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Help      string `json:"help,omitempty"`
	Secret    bool   `json:"secret,omitempty"` // never journaled or recorded
	Multiline bool   `json:"multiline,omitempty"`
	// Options, when set, restricts the value to one of these.
	Options []string `json:"options,omitempty"`
	// Validate checks one value; its error tells the technician what to do.
	Validate func(string) error `json:"-"`
}

// Values are the technician's answers, keyed by Input.Key.
type Values map[string]string

// Finding is what a check saw.
type Finding struct {
	Compliant  bool     `json:"compliant"`
	Applicable bool     `json:"applicable"` // false: the step does not apply (Reason says why)
	Reason     string   `json:"reason,omitempty"`
	Observed   string   `json:"observed"`
	Expected   string   `json:"expected"`
	Notes      []string `json:"notes,omitempty"` // advisories and remarks always shown
}

// Change is one line of a plan's preview.
type Change struct {
	Setting string `json:"setting"`
	From    string `json:"from"`
	To      string `json:"to"`
	// Deletes marks a change that removes something from the device (an
	// account, a rule, a certificate): the wizard asks for a deliberate
	// yes worded for a deletion. The catalog sets it; nothing guesses it
	// from the wording.
	Deletes bool `json:"deletes,omitempty"`
}

// Plan is what a step will change: a preview, and the edit of the
// desired state that the driver will turn into device requests.
type Plan[S any] struct {
	Changes []Change
	Mutate  func(desired *S) error
}

// Step is one guide recommendation for a family whose state is S.
type Step[S any] struct {
	Meta
	// Check looks at the state. Required for automatic steps; optional for
	// manual ones (it then supplies evidence as Observed).
	Check func(S) Finding
	// Defaults proposes input values from the state. Optional.
	Defaults func(S) Values
	// Plan turns inputs into a change. Nil for steps the tool cannot change.
	Plan func(current S, in Values) (Plan[S], error)
	// Evidence, for manual steps, computes evidence from the inputs (a
	// file's hash, say). Its error refuses the attestation.
	Evidence func(ctx context.Context, in Values) (string, error)
}

// Guard refuses a planned state that would lock the technician out.
type Guard[S any] func(planned S) error

// Device is what the engine needs from a family driver. Every method does
// network I/O, honours ctx and has its own timeouts.
type Device[S any] interface {
	// Read reads every setting the guide cares about, plus what the
	// outside probes observe, into one state.
	Read(ctx context.Context) (S, error)
	// Stage sends the requests that take the device from one state to
	// the other, without making them effective if the device needs a
	// restart for that.
	Stage(ctx context.Context, from, to S) error
	// Commit makes staged changes effective (Save/Restart on an NPort),
	// waits until the device answers again and logs in with the proven
	// credentials. progress receives human-readable status lines.
	Commit(ctx context.Context, progress func(string)) error
}

// Catalog is a family's guide as steps.
type Catalog[S any] struct {
	Family   string // "nport"
	Guide    string // the guide's title and version
	Steps    []Step[S]
	Guards   []Guard[S]
	Clone    func(S) S
	Identity func(S) devices.Identity
}

// Result is where one step stands, with its evidence.
type Result struct {
	Meta     Meta      `json:"-"`
	StepID   string    `json:"id"`
	Outcome  Outcome   `json:"outcome"`
	Before   *Finding  `json:"before,omitempty"`
	After    *Finding  `json:"after,omitempty"`
	Changes  []Change  `json:"changes,omitempty"`
	Reason   string    `json:"reason,omitempty"`   // waiver, not-applicable or failure reason
	Evidence string    `json:"evidence,omitempty"` // attestation evidence
	Inputs   Values    `json:"inputs,omitempty"`   // non-secret inputs only
	At       time.Time `json:"at"`
}

// Metas lists the catalog's steps without their functions, in guide order.
func (c Catalog[S]) Metas() []Meta {
	out := make([]Meta, len(c.Steps))
	for i, st := range c.Steps {
		out[i] = st.Meta
	}
	return out
}
