package steps

import "time"

// EventKind names what happened in a session.
type EventKind string

// Event kinds, in the order a session usually emits them.
const (
	SessionOpened  EventKind = "session.opened"
	StepChecked    EventKind = "step.checked"
	StepPlanned    EventKind = "step.planned"
	StepRefused    EventKind = "step.refused" // a guard refused the plan
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

// Reporter receives a session's events. Report must not block for long;
// a reporter that writes to disk syncs before it returns.
type Reporter interface {
	Report(Event)
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

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f.
func (f ReporterFunc) Report(e Event) { f(e) }
