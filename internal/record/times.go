package record

import (
	"errors"
	"fmt"
	"time"
)

// CheckTimes reports where r's times contradict each other: the session
// finished before it started, or a time the record holds (a step's, the
// restart's, the observations') lies before Started or after Finished.
// Each message names what the time belongs to and both times. Times are
// compared exactly as r holds them, with no tolerance: equal times are in
// order, and a loaded record (whose times are whole seconds as Marshal
// writes them) is judged on exactly what record.json says.
//
// Check includes these; bundle.Write applies them again to the record it
// is about to sign, since the observations and the restart time may be
// added after Check ran.
func CheckTimes(r Record) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.Started.IsZero() {
		errs = append(errs, errors.New("start time is missing"))
	}
	if r.Finished.Before(r.Started) {
		add("finished (%s) before started (%s)", exact(r.Finished), exact(r.Started))
	}
	// within reports the time of what, unless zero, out of the session.
	within := func(what string, t time.Time) {
		switch {
		case t.IsZero():
		case t.Before(r.Started):
			add("%s %s before started (%s)", what, exact(t), exact(r.Started))
		case t.After(r.Finished):
			add("%s %s after finished (%s)", what, exact(t), exact(r.Finished))
		}
	}
	for _, s := range r.Steps {
		within("step "+s.ID+": time", s.At)
	}
	within("restart: time", r.Restarted)
	if o := r.Observations; o != nil {
		within("observations: taken at", o.At)
	}
	return errs
}

// exact is a time as the record holds it, to the nanosecond if it has
// any: a message must not show two times as equal that are not.
func exact(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
