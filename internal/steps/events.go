package steps

import (
	"errors"
	"time"
)

// EventKind names what happened in a session.
type EventKind string

// Event kinds, in the order a session usually emits them.
const (
	SessionOpened  EventKind = "session.opened"
	StepChecked    EventKind = "step.checked"
	StepPlanned    EventKind = "step.planned"   // a preview was made; its changes are not in the event
	StepCancelled  EventKind = "step.cancelled" // the preview was dropped; nothing was sent
	StepRefused    EventKind = "step.refused"   // a guard refused the plan, or it went stale
	StepSending    EventKind = "step.sending"   // written ahead: the change is about to be sent
	StepStaged     EventKind = "step.staged"
	StepFailed     EventKind = "step.failed"
	StepDecided    EventKind = "step.decided" // waived, not applicable, attested
	DeviceProgress EventKind = "device.progress"
	StepVerified   EventKind = "step.verified"
	SessionClosed  EventKind = "session.closed"
)

// Event is one thing that happened. The wizard, the JSON audit output and
// the journal all read the same events.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    EventKind `json:"kind"`
	StepID  string    `json:"step,omitempty"`
	Message string    `json:"message,omitempty"`
	Result  *Result   `json:"result,omitempty"`
}

// Reporter receives a session's events. A reporter that writes to disk
// syncs before it returns. The engine never calls Report while it holds
// its own lock, so Report may block (to apply back-pressure rather than
// drop an event) and may call the session's methods; it should not block
// for long, since the session waits for it.
type Reporter interface {
	Report(Event)
}

// ErrReporter is a Reporter that can fail to keep an event (a journal
// whose file cannot be synced). Err returns its first failure. The engine
// checks it before every change to the device (Stage, Commit) and sends
// nothing once it is set.
type ErrReporter interface {
	Reporter
	Err() error
}

// Reporters fans events out to several reporters in order.
type Reporters []Reporter

// Report sends e to every reporter.
func (rs Reporters) Report(e Event) {
	for _, r := range rs {
		if r != nil {
			r.Report(e)
		}
	}
}

// Err joins the failures of the reporters that can fail (ErrReporter).
func (rs Reporters) Err() error {
	var errs []error
	for _, r := range rs {
		if er, ok := r.(ErrReporter); ok {
			if err := er.Err(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f.
func (f ReporterFunc) Report(e Event) { f(e) }
