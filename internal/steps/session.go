package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/secret"
)

// ErrUnknownStep is returned for a step id the catalog does not hold.
var ErrUnknownStep = errors.New("unknown step")

// RefusedError is a guard's refusal of a plan. Nothing was sent.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "refused, nothing was sent: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// StaleError refuses a plan made on an older desired state (another change
// was staged, or the device was read again, since the preview) whose
// preview would now be different. Nothing was sent; preview the step again.
type StaleError struct{ StepID, Title string }

func (e *StaleError) Error() string {
	return "refused, nothing was sent: the preview of \"" + e.Title +
		"\" was made before the last change or read of the device and no longer holds; preview it again"
}

// ErrNotJournaled marks a change that was not sent because an event of the
// session could not be kept (the journal could not be synced): the session
// stops changing the device until the cause is fixed.
var ErrNotJournaled = errors.New("the session journal could not be written, so nothing more is sent to the device")

// planned is a plan waiting for Apply, with what it was made on.
type planned[S any] struct {
	Plan[S]
	gen uint64 // the desired state's generation the plan was made on
	in  Values // the inputs, to make the plan again on a newer state
}

// Session runs one family's catalog against one device. Its methods are
// safe for use from several goroutines, but the network ones are meant to
// be called one at a time (the wizard runs them in tea.Cmds).
type Session[S any] struct {
	cat Catalog[S]
	dev Device[S]
	rep Reporter
	now func() time.Time

	mu      sync.Mutex
	current S      // last state read from the device
	desired S      // current plus every staged change
	gen     uint64 // bumped each time desired changes
	opened  bool
	results map[string]*Result
	plans   map[string]planned[S]
}

// NewSession prepares a session; nothing is sent until Open.
func NewSession[S any](cat Catalog[S], dev Device[S], rep Reporter) *Session[S] {
	if rep == nil {
		rep = Reporters{}
	}
	s := &Session[S]{cat: cat, dev: dev, rep: rep, now: time.Now,
		results: map[string]*Result{}, plans: map[string]planned[S]{}}
	for _, st := range cat.Steps {
		s.results[st.ID] = &Result{Meta: st.Meta, StepID: st.ID, Outcome: Pending}
	}
	return s
}

// Family names the device family.
func (s *Session[S]) Family() string { return s.cat.Family }

// Guide names the guide the catalog follows.
func (s *Session[S]) Guide() string { return s.cat.Guide }

// Steps lists the catalog's steps in guide order.
func (s *Session[S]) Steps() []Meta { return s.cat.Metas() }

// Identity is the device's identity as last read.
func (s *Session[S]) Identity() devices.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opened {
		return devices.Identity{Family: s.cat.Family}
	}
	return s.cat.Identity(s.current)
}

// State returns a copy of the state last read (for drivers' extra views).
func (s *Session[S]) State() S {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cat.Clone(s.current)
}

func (s *Session[S]) step(id string) (Step[S], error) {
	for _, st := range s.cat.Steps {
		if st.ID == id {
			return st, nil
		}
	}
	return Step[S]{}, fmt.Errorf("%w %q", ErrUnknownStep, id)
}

func (s *Session[S]) emit(kind EventKind, id, msg string, r *Result) {
	var cp *Result
	if r != nil {
		c := *r
		cp = &c
	}
	s.rep.Report(Event{Time: s.now().UTC(), Kind: kind, StepID: id, Message: msg, Result: cp})
}

// Open reads the device and checks every step. Steps already decided
// (restored from a journal) keep their outcome unless the device now
// contradicts a compliant or fixed one.
func (s *Session[S]) Open(ctx context.Context) error {
	st, err := s.dev.Read(ctx)
	if err != nil {
		return fmt.Errorf("read device: %w", err)
	}
	s.mu.Lock()
	s.current = st
	s.desired = s.cat.Clone(st)
	s.gen++
	s.opened = true
	id := s.cat.Identity(st)
	s.mu.Unlock()
	s.emit(SessionOpened, "", fmt.Sprintf("%s %s at %s", id.Model, id.Firmware, id.Address), nil)
	for _, step := range s.cat.Steps {
		s.checkOne(step, false)
	}
	return nil
}

// checkOne evaluates one step against the current state. verify marks a
// re-check after a commit.
func (s *Session[S]) checkOne(step Step[S], verify bool) {
	s.mu.Lock()
	r := s.results[step.ID]
	var f *Finding
	msg := ""
	if step.Check != nil {
		ff := step.Check(s.current)
		f = &ff
	}
	r.At = s.now().UTC()
	switch {
	case verify:
		r.After = f
		if f != nil && f.Compliant {
			r.Outcome, r.Reason = Fixed, ""
		} else {
			r.Outcome = Failed
			r.Reason = "the change was sent, but a fresh read of the device does not show it"
		}
	case r.Outcome == Staged:
		// Restored from a journal: the change was sent before the session
		// was interrupted. A read now proves nothing (an NPort's console
		// shows saved, not effective, values): only Commit and the fresh
		// read after it in this session can make it Fixed.
		msg = "the change was sent before the session was interrupted and still awaits the restart"
	case r.Outcome == Waived || r.Outcome == NotApplicable || r.Outcome == Attested:
		// decided earlier (restored); keep, but refresh the evidence
		if r.Before == nil {
			r.Before = f
		}
	case step.Kind == Manual:
		r.Before = f
		r.Outcome = ManualPending
	case f == nil:
		r.Outcome, r.Reason = Error, "the step has no check"
	case !f.Applicable:
		r.Before = f
		r.Outcome, r.Reason = NotApplicable, f.Reason
	case f.Compliant:
		if r.Outcome != Fixed {
			r.Outcome = Compliant
			r.Before = f
		} else {
			r.After = f
		}
	default:
		r.Before = f
		r.Outcome = Deviation
	}
	cp := *r
	s.mu.Unlock()
	kind := StepChecked
	if verify {
		kind = StepVerified
	}
	s.emit(kind, step.ID, msg, &cp)
}

// Result returns where a step stands.
func (s *Session[S]) Result(id string) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.results[id]; ok {
		return *r
	}
	return Result{StepID: id, Outcome: Error, Reason: "unknown step"}
}

// Results returns every step's result in guide order.
func (s *Session[S]) Results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Result, 0, len(s.cat.Steps))
	for _, st := range s.cat.Steps {
		out = append(out, *s.results[st.ID])
	}
	return out
}

// Restore sets results decided in an earlier run (from the journal).
// Call it before Open.
func (s *Session[S]) Restore(rs []Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		if cur, ok := s.results[r.StepID]; ok {
			meta := cur.Meta
			*cur = r
			cur.Meta = meta
		}
	}
}

// Defaults proposes input values for a step.
func (s *Session[S]) Defaults(id string) Values {
	step, err := s.step(id)
	if err != nil || step.Defaults == nil {
		return Values{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return step.Defaults(s.desired)
}

// Validate checks the inputs of a step, one message per bad value.
func (s *Session[S]) Validate(id string, in Values) error {
	step, err := s.step(id)
	if err != nil {
		return err
	}
	return validate(step.Meta, in)
}

func validate(m Meta, in Values) error {
	var errs []error
	for _, inp := range m.Inputs {
		v := in[inp.Key]
		if len(inp.Options) > 0 && v != "" && !contains(inp.Options, v) {
			errs = append(errs, fmt.Errorf("%s: choose one of %s", inp.Label, strings.Join(inp.Options, ", ")))
			continue
		}
		if inp.Validate != nil {
			if err := inp.Validate(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", inp.Label, err))
			}
		}
	}
	return errors.Join(errs...)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Plan validates the inputs, builds the step's change on top of every
// change already staged, and runs the family's guards on the planned
// state. Nothing is sent. A guard's refusal is a *RefusedError.
//
// The plan is only a preview: it does not reach the step's Result (nor
// any event's) until Apply has sent it. A later Plan of the same step
// supersedes it; Cancel drops it.
func (s *Session[S]) Plan(id string, in Values) ([]Change, error) {
	step, err := s.step(id)
	if err != nil {
		return nil, err
	}
	if step.Plan == nil {
		return nil, fmt.Errorf("%s: the tool cannot change this on the device; fix it by hand and check again, or waive it", step.Title)
	}
	if err := validate(step.Meta, in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if !s.opened {
		s.mu.Unlock()
		return nil, errors.New("the device has not been read yet")
	}
	delete(s.plans, id) // a new preview supersedes the last one, even if it fails
	p, _, err := s.makeLocked(step, in)
	if err != nil {
		var ref *RefusedError
		cp := *s.results[id]
		s.mu.Unlock()
		if errors.As(err, &ref) {
			s.emit(StepRefused, id, ref.Err.Error(), &cp)
		}
		return nil, err
	}
	s.plans[id] = planned[S]{Plan: p, gen: s.gen, in: copyValues(in)}
	cp := *s.results[id]
	s.mu.Unlock()
	s.emit(StepPlanned, id, "", &cp)
	return p.Changes, nil
}

// makeLocked makes the step's plan on the current desired state and
// returns it with the exact state it would send, after running every guard
// on that state. s.mu is held.
func (s *Session[S]) makeLocked(step Step[S], in Values) (Plan[S], S, error) {
	p, err := step.Plan(s.cat.Clone(s.desired), in)
	if err != nil {
		var zero S
		return Plan[S]{}, zero, err
	}
	to, err := s.guardedLocked(p)
	if err != nil {
		return Plan[S]{}, to, err
	}
	return p, to, nil
}

// guardedLocked applies p to a copy of the desired state and runs every
// guard on the result, the exact state that would be sent. s.mu is held.
func (s *Session[S]) guardedLocked(p Plan[S]) (S, error) {
	to := s.cat.Clone(s.desired)
	if p.Mutate != nil {
		if err := p.Mutate(&to); err != nil {
			return to, err
		}
	}
	for _, g := range s.cat.Guards {
		if err := g(to); err != nil {
			return to, &RefusedError{Err: err}
		}
	}
	return to, nil
}

func copyValues(in Values) Values {
	out := make(Values, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// Cancel drops the step's plan, if any: nothing was sent and nothing of it
// reaches the step's result.
func (s *Session[S]) Cancel(id string) error {
	if _, err := s.step(id); err != nil {
		return err
	}
	s.mu.Lock()
	_, had := s.plans[id]
	delete(s.plans, id)
	cp := *s.results[id]
	s.mu.Unlock()
	if had {
		s.emit(StepCancelled, id, "the preview was cancelled; nothing was sent", &cp)
	}
	return nil
}

// public drops secret inputs: those the step marks Secret and those whose
// name the one list of internal/secret calls secret.
func public(m Meta, in Values) Values {
	out := Values{}
	for _, inp := range m.Inputs {
		if v, ok := in[inp.Key]; ok && !inp.Secret && !secret.Name(inp.Key) {
			out[inp.Key] = v
		}
	}
	return out
}

// Apply sends the step's last plan to the device. On success the step is
// Staged until Commit verifies it; on any error it is Failed, not
// verified, and never Fixed.
//
// The guards run again on the exact state Apply sends: the current
// desired state with this plan's change. A plan made on an older desired
// state is made again on the current one; if its preview would differ,
// Apply refuses it (*StaleError) and sends nothing. If an event of the
// session could not be journaled, Apply sends nothing (ErrNotJournaled).
func (s *Session[S]) Apply(ctx context.Context, id string) error {
	step, err := s.step(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	pl, ok := s.plans[id]
	delete(s.plans, id) // a plan is sent at most once
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("step %s has no plan to apply", id)
	}
	var p Plan[S]
	var to S
	if pl.gen == s.gen {
		// the state the preview was made on: send exactly that plan
		p = pl.Plan
		to, err = s.guardedLocked(p)
	} else {
		p, to, err = s.makeLocked(step, pl.in)
		if err == nil && !sameChanges(p.Changes, pl.Changes) {
			err = &StaleError{StepID: id, Title: step.Title}
		}
	}
	if err != nil {
		cp := *s.results[id]
		s.mu.Unlock()
		var ref *RefusedError
		var stale *StaleError
		switch {
		case errors.As(err, &ref):
			s.emit(StepRefused, id, ref.Err.Error(), &cp)
		case errors.As(err, &stale):
			s.emit(StepRefused, id, stale.Error(), &cp)
		}
		return err
	}
	from := s.cat.Clone(s.desired)
	gen := s.gen
	r := s.results[id]
	sending := *r
	sending.Outcome, sending.Reason, sending.At = Staged, "", s.now().UTC()
	sending.Changes, sending.Inputs = p.Changes, public(step.Meta, pl.in)
	s.mu.Unlock()

	// Write ahead: should the session die while the device is being
	// changed, the journal already says the change may have been sent,
	// so a resume waits for the restart instead of trusting a read.
	s.emit(StepSending, id, "", &sending)
	if err := s.reportErr(); err != nil {
		return fmt.Errorf("apply %s: %w: %w", id, ErrNotJournaled, err)
	}
	err = s.dev.Stage(ctx, from, to)
	s.mu.Lock()
	r.At = s.now().UTC()
	r.Changes, r.Inputs = sending.Changes, sending.Inputs
	if err != nil {
		r.Outcome = Failed
		r.Reason = "failed, not verified: " + err.Error()
		cp := *r
		s.mu.Unlock()
		s.emit(StepFailed, id, err.Error(), &cp)
		return fmt.Errorf("apply %s: %w", id, err)
	}
	if s.gen == gen {
		s.desired = to
	} else if p.Mutate != nil {
		// the device was read again while this was sent: keep the change
		_ = p.Mutate(&s.desired)
	}
	s.gen++
	r.Outcome, r.Reason = Staged, ""
	cp := *r
	s.mu.Unlock()
	s.emit(StepStaged, id, "", &cp)
	return nil
}

func sameChanges(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reportErr returns the reporter's failure to keep an event, if it can
// fail (ErrReporter).
func (s *Session[S]) reportErr() error {
	if er, ok := s.rep.(ErrReporter); ok {
		return er.Err()
	}
	return nil
}

// AwaitingRestart lists, in guide order, the steps whose change was sent
// and still waits for Commit (the restart) and the fresh read after it.
// Right after a resumed session's Open these are the changes sent before
// the interruption: tell the technician before anything else.
func (s *Session[S]) AwaitingRestart() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, st := range s.cat.Steps {
		if s.results[st.ID].Outcome == Staged {
			out = append(out, st.ID)
		}
	}
	return out
}

// Pending reports how many steps wait for Commit.
func (s *Session[S]) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.results {
		if r.Outcome == Staged {
			n++
		}
	}
	return n
}

// Commit makes every staged change effective, reads the device again and
// verifies each staged step against that fresh read.
func (s *Session[S]) Commit(ctx context.Context) error {
	if s.Pending() == 0 {
		return nil
	}
	if err := s.reportErr(); err != nil {
		return fmt.Errorf("commit: %w: %w", ErrNotJournaled, err)
	}
	progress := func(msg string) { s.emit(DeviceProgress, "", msg, nil) }
	if err := s.dev.Commit(ctx, progress); err != nil {
		s.failStaged("the device did not come back after the restart: " + err.Error())
		return fmt.Errorf("commit: %w", err)
	}
	st, err := s.dev.Read(ctx)
	if err != nil {
		s.failStaged("the device could not be read after the restart: " + err.Error())
		return fmt.Errorf("read after commit: %w", err)
	}
	s.mu.Lock()
	s.current = st
	s.desired = s.cat.Clone(st)
	s.gen++
	var staged []Step[S]
	for _, step := range s.cat.Steps {
		if s.results[step.ID].Outcome == Staged {
			staged = append(staged, step)
		}
	}
	s.mu.Unlock()
	for _, step := range staged {
		s.checkOne(step, true)
	}
	return nil
}

func (s *Session[S]) failStaged(reason string) {
	s.mu.Lock()
	var evs []Result
	for _, r := range s.results {
		if r.Outcome == Staged {
			r.Outcome, r.Reason, r.At = Failed, "failed, not verified: "+reason, s.now().UTC()
			evs = append(evs, *r)
		}
	}
	s.mu.Unlock()
	for i := range evs {
		s.emit(StepFailed, evs[i].StepID, reason, &evs[i])
	}
}

// Recheck reads the device again and re-checks every step that is not
// decided by the technician (after a manual fix, say).
func (s *Session[S]) Recheck(ctx context.Context) error {
	st, err := s.dev.Read(ctx)
	if err != nil {
		return fmt.Errorf("read device: %w", err)
	}
	s.mu.Lock()
	s.current = st
	s.desired = s.cat.Clone(st)
	s.gen++
	s.mu.Unlock()
	for _, step := range s.cat.Steps {
		if o := s.Result(step.ID).Outcome; o == Staged {
			continue
		}
		s.checkOne(step, false)
	}
	return nil
}

// Waive skips a step on purpose. The reason is required.
func (s *Session[S]) Waive(id, reason string) error {
	return s.decide(id, Waived, reason, "")
}

// NotApplicable marks a step as not applying here. The reason is required.
func (s *Session[S]) NotApplicable(id, reason string) error {
	return s.decide(id, NotApplicable, reason, "")
}

// Attest records the technician's confirmation of a manual step, with the
// evidence the step computes from the inputs (if any).
func (s *Session[S]) Attest(ctx context.Context, id string, in Values, note string) error {
	step, err := s.step(id)
	if err != nil {
		return err
	}
	if step.Kind != Manual {
		return fmt.Errorf("%s is checked on the device; it cannot be attested", step.Title)
	}
	if err := validate(step.Meta, in); err != nil {
		return err
	}
	ev := ""
	if step.Evidence != nil {
		if ev, err = step.Evidence(ctx, in); err != nil {
			return err
		}
	}
	if note = strings.TrimSpace(note); note != "" {
		if ev != "" {
			ev += "; "
		}
		ev += "technician: " + note
	}
	if ev == "" {
		// The technician's confirmation of the step's statement is the
		// evidence of last resort; the record names what was confirmed.
		ev = "the technician confirmed: " + step.Attest
	}
	s.mu.Lock()
	s.results[id].Inputs = public(step.Meta, in)
	s.mu.Unlock()
	return s.decide(id, Attested, "", ev)
}

func (s *Session[S]) decide(id string, o Outcome, reason, evidence string) error {
	if _, err := s.step(id); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if o.NeedsReason() && reason == "" {
		return fmt.Errorf("a reason is required to mark a step %s", strings.ReplaceAll(string(o), "_", " "))
	}
	s.mu.Lock()
	r := s.results[id]
	if r.Outcome == Staged {
		s.mu.Unlock()
		return fmt.Errorf("step %s has a change waiting for the restart; restart first", id)
	}
	r.Outcome, r.Reason, r.Evidence, r.At = o, reason, evidence, s.now().UTC()
	cp := *r
	s.mu.Unlock()
	s.emit(StepDecided, id, "", &cp)
	return nil
}

// Close emits the closing event.
func (s *Session[S]) Close() { s.emit(SessionClosed, "", "", nil) }
