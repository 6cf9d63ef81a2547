package steps

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/devices"
)

// toy is a tiny device state for engine tests.
type toy struct {
	Telnet  bool
	Allowed []string
	Me      string
	Secret  string
}

// toyDevice keeps a saved and an effective toy state, like a device that
// applies on restart. It is an engine test double, not a driver.
type toyDevice struct {
	saved, effective toy
	stageErr         error
	commitErr        error
	ignoreTelnet     bool // a device that accepts the change but never applies it
	sent             int
	commits          int
}

func (d *toyDevice) Read(context.Context) (toy, error) { return d.effective, nil }
func (d *toyDevice) Stage(_ context.Context, from, to toy) error {
	if d.stageErr != nil {
		return d.stageErr
	}
	d.sent++
	d.saved = to
	return nil
}
func (d *toyDevice) Commit(_ context.Context, progress func(string)) error {
	if d.commitErr != nil {
		return d.commitErr
	}
	progress("restarting")
	d.commits++
	keep := d.effective.Telnet
	d.effective = d.saved
	if d.ignoreTelnet {
		d.effective.Telnet = keep
	}
	return nil
}

func toyCatalog() Catalog[toy] {
	return Catalog[toy]{
		Family: "toy",
		Steps: []Step[toy]{
			{
				Meta:  Meta{ID: "toy.telnet", Section: "1", Title: "telnet off", Kind: Automatic},
				Check: func(s toy) Finding { return Finding{Applicable: true, Compliant: !s.Telnet, Observed: "telnet"} },
				Plan: func(s toy, _ Values) (Plan[toy], error) {
					return Plan[toy]{Changes: []Change{{Setting: "telnet", From: "on", To: "off"}}, Mutate: func(d *toy) error { d.Telnet = false; return nil }}, nil
				},
			},
			{
				Meta: Meta{ID: "toy.allow", Section: "2", Title: "allow list", Kind: Automatic,
					Inputs: []Input{{Key: "host", Label: "Host"}, {Key: "password", Label: "Password", Secret: true}}},
				Check: func(s toy) Finding { return Finding{Applicable: true, Compliant: len(s.Allowed) > 0} },
				Plan: func(s toy, in Values) (Plan[toy], error) {
					return Plan[toy]{Mutate: func(d *toy) error { d.Allowed = []string{in["host"]}; d.Secret = in["password"]; return nil }}, nil
				},
			},
			{Meta: Meta{ID: "toy.manual", Section: "3", Title: "manual", Kind: Manual}},
		},
		Guards: []Guard[toy]{func(p toy) error {
			for _, a := range p.Allowed {
				if a == p.Me {
					return nil
				}
			}
			if len(p.Allowed) == 0 {
				return nil
			}
			return errors.New("would lock you out")
		}},
		Clone: func(s toy) toy {
			c := s
			c.Allowed = append([]string(nil), s.Allowed...)
			return c
		},
		Identity: func(toy) devices.Identity { return devices.Identity{Family: "toy"} },
	}
}

type events []Event

func (e *events) Report(ev Event) { *e = append(*e, ev) }

func open(t *testing.T, d *toyDevice) (*Session[toy], *events) {
	t.Helper()
	evs := &events{}
	s := NewSession(toyCatalog(), d, evs)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, evs
}

func TestOpenChecksEveryStep(t *testing.T) {
	s, evs := open(t, &toyDevice{effective: toy{Telnet: true, Me: "10.0.0.5"}})
	want := map[string]Outcome{"toy.telnet": Deviation, "toy.allow": Deviation, "toy.manual": ManualPending}
	for id, o := range want {
		if got := s.Result(id).Outcome; got != o {
			t.Errorf("%s: %s, want %s", id, got, o)
		}
	}
	n := 0
	for _, e := range *evs {
		if e.Kind == StepChecked {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d step.checked events, want 3", n)
	}
}

func TestFixedOnlyAfterFreshRead(t *testing.T) {
	d := &toyDevice{effective: toy{Telnet: true}}
	s, _ := open(t, d)
	if _, err := s.Plan("toy.telnet", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(context.Background(), "toy.telnet"); err != nil {
		t.Fatal(err)
	}
	if got := s.Result("toy.telnet").Outcome; got != Staged {
		t.Fatalf("after apply: %s, want staged", got)
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Result("toy.telnet").Outcome; got != Fixed {
		t.Fatalf("after commit: %s, want fixed", got)
	}
	if d.commits != 1 {
		t.Errorf("%d commits, want 1", d.commits)
	}
}

func TestChangeTheDeviceIgnoresIsFailed(t *testing.T) {
	d := &toyDevice{effective: toy{Telnet: true}, ignoreTelnet: true}
	s, _ := open(t, d)
	s.Plan("toy.telnet", nil)
	s.Apply(context.Background(), "toy.telnet")
	s.Commit(context.Background())
	r := s.Result("toy.telnet")
	if r.Outcome != Failed || !strings.Contains(r.Reason, "fresh read") {
		t.Fatalf("got %s %q, want failed (not verified)", r.Outcome, r.Reason)
	}
}

func TestApplyErrorIsFailedNeverFixed(t *testing.T) {
	d := &toyDevice{effective: toy{Telnet: true}, stageErr: errors.New("connection reset")}
	s, evs := open(t, d)
	s.Plan("toy.telnet", nil)
	if err := s.Apply(context.Background(), "toy.telnet"); err == nil {
		t.Fatal("apply succeeded on a dropped connection")
	}
	r := s.Result("toy.telnet")
	if r.Outcome != Failed || !strings.Contains(r.Reason, "not verified") {
		t.Fatalf("got %s %q", r.Outcome, r.Reason)
	}
	if s.Pending() != 0 {
		t.Fatal("a failed step is pending")
	}
	if (*evs)[len(*evs)-1].Kind != StepFailed {
		t.Fatal("no step.failed event")
	}
}

func TestGuardRefusesAndSendsNothing(t *testing.T) {
	d := &toyDevice{effective: toy{Me: "10.0.0.5"}}
	s, _ := open(t, d)
	_, err := s.Plan("toy.allow", Values{"host": "10.0.0.9"})
	var ref *RefusedError
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "lock you out") {
		t.Fatalf("got %v, want a refusal", err)
	}
	if err := s.Apply(context.Background(), "toy.allow"); err == nil {
		t.Fatal("a refused plan was applied")
	}
	if d.sent != 0 {
		t.Fatalf("%d requests sent after a refusal", d.sent)
	}
	if _, err := s.Plan("toy.allow", Values{"host": "10.0.0.5"}); err != nil {
		t.Fatalf("allowed plan refused: %v", err)
	}
}

func TestSecretInputsNeverInResults(t *testing.T) {
	evs := &events{}
	s := NewSession(toyCatalog(), &toyDevice{effective: toy{Me: "h"}}, evs)
	s.Open(context.Background())
	if _, err := s.Plan("toy.allow", Values{"host": "h", "password": "Sup3r-Secret-Pw!"}); err != nil {
		t.Fatal(err)
	}
	s.Apply(context.Background(), "toy.allow")
	for _, e := range *evs {
		if e.Result != nil && strings.Contains(e.Result.Inputs["password"]+e.Result.Reason, "Sup3r") {
			t.Fatal("a secret input reached an event")
		}
	}
	if s.Result("toy.allow").Inputs["host"] != "h" {
		t.Fatal("the public input was lost")
	}
}

func TestWaiveNeedsReason(t *testing.T) {
	s, _ := open(t, &toyDevice{effective: toy{Telnet: true}})
	if err := s.Waive("toy.telnet", "  "); err == nil {
		t.Fatal("waived without a reason")
	}
	if err := s.Waive("toy.telnet", "vendor tool needs telnet until 2027"); err != nil {
		t.Fatal(err)
	}
	if r := s.Result("toy.telnet"); r.Outcome != Waived || r.Reason == "" {
		t.Fatalf("got %+v", r)
	}
}

func TestRestoreKeepsDecisions(t *testing.T) {
	d := &toyDevice{effective: toy{Telnet: true}}
	s := NewSession(toyCatalog(), d, nil)
	s.Restore([]Result{{StepID: "toy.telnet", Outcome: Waived, Reason: "r"}, {StepID: "toy.manual", Outcome: Attested, Evidence: "e"}})
	s.Open(context.Background())
	if o := s.Result("toy.telnet").Outcome; o != Waived {
		t.Errorf("telnet: %s", o)
	}
	if o := s.Result("toy.manual").Outcome; o != Attested {
		t.Errorf("manual: %s", o)
	}
}

func TestCommitFailureFailsStaged(t *testing.T) {
	d := &toyDevice{effective: toy{Telnet: true}, commitErr: errors.New("no answer")}
	s, _ := open(t, d)
	s.Plan("toy.telnet", nil)
	s.Apply(context.Background(), "toy.telnet")
	if err := s.Commit(context.Background()); err == nil {
		t.Fatal("commit succeeded")
	}
	if o := s.Result("toy.telnet").Outcome; o != Failed {
		t.Fatalf("got %s", o)
	}
}

func TestRestoredStagedStepWaitsForCommit(t *testing.T) {
	// The change reached the device's saved settings before a crash.
	d := &toyDevice{effective: toy{Telnet: true}, saved: toy{Telnet: false}}
	s := NewSession(toyCatalog(), d, nil)
	s.Restore([]Result{{StepID: "toy.telnet", Outcome: Staged}})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := s.Result("toy.telnet").Outcome; o != Staged {
		t.Fatalf("restored staged step: %s, want staged", o)
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := s.Result("toy.telnet").Outcome; o != Fixed {
		t.Fatalf("after commit: %s, want fixed", o)
	}
}

// pair is a state where each of two services may go, but not both: a
// guard like "HTTP goes only while HTTPS stays".
type pair struct {
	HTTP, HTTPS bool
	Port        int
}

// pairDevice records every Stage call.
type pairDevice struct {
	state  pair
	staged []pair
	stageH func() // called inside Stage, before it records
}

func (d *pairDevice) Read(context.Context) (pair, error) { return d.state, nil }
func (d *pairDevice) Stage(_ context.Context, _, to pair) error {
	if d.stageH != nil {
		d.stageH()
	}
	d.staged = append(d.staged, to)
	return nil
}
func (d *pairDevice) Commit(context.Context, func(string)) error {
	if n := len(d.staged); n > 0 {
		d.state = d.staged[n-1]
	}
	return nil
}

func portStep(id string, port int) Step[pair] {
	return Step[pair]{
		Meta:  Meta{ID: id, Title: id, Kind: Automatic},
		Check: func(s pair) Finding { return Finding{Applicable: true, Compliant: s.Port == port} },
		Plan: func(s pair, _ Values) (Plan[pair], error) {
			return Plan[pair]{Changes: []Change{{Setting: "port", From: strconv.Itoa(s.Port), To: strconv.Itoa(port)}},
				Mutate: func(d *pair) error { d.Port = port; return nil }}, nil
		},
	}
}

func pairCatalog() Catalog[pair] {
	off := func(id string, set func(*pair)) Step[pair] {
		return Step[pair]{
			Meta:  Meta{ID: id, Title: id, Kind: Automatic},
			Check: func(pair) Finding { return Finding{Applicable: true} },
			Plan: func(pair, Values) (Plan[pair], error) {
				return Plan[pair]{Changes: []Change{{Setting: id, From: "on", To: "off"}},
					Mutate: func(d *pair) error { set(d); return nil }}, nil
			},
		}
	}
	return Catalog[pair]{
		Family: "pair",
		Steps: []Step[pair]{
			off("pair.http", func(d *pair) { d.HTTP = false }),
			off("pair.https", func(d *pair) { d.HTTPS = false }),
			portStep("pair.port-a", 8443),
			portStep("pair.port-b", 9443),
		},
		Guards: []Guard[pair]{func(p pair) error {
			if !p.HTTP && !p.HTTPS {
				return errors.New("the console would be unreachable")
			}
			return nil
		}},
		Clone:    func(s pair) pair { return s },
		Identity: func(pair) devices.Identity { return devices.Identity{Family: "pair"} },
	}
}

// Two plans that each pass the guards, made on the same state, together
// break one: the second Apply runs the guards on the exact state it would
// send, refuses it, and sends nothing.
func TestApplyGuardsTheExactStateSent(t *testing.T) {
	ctx := context.Background()
	d := &pairDevice{state: pair{HTTP: true, HTTPS: true, Port: 443}}
	evs := &events{}
	s := NewSession(pairCatalog(), d, evs)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan("pair.http", nil); err != nil {
		t.Fatalf("http alone refused: %v", err)
	}
	if _, err := s.Plan("pair.https", nil); err != nil {
		t.Fatalf("https alone refused: %v", err)
	}
	if err := s.Apply(ctx, "pair.http"); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(ctx, "pair.https")
	var ref *RefusedError
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("second apply: %v, want the guard's refusal", err)
	}
	if len(d.staged) != 1 || !d.staged[0].HTTPS {
		t.Fatalf("stage calls %+v, want only the first change", d.staged)
	}
	if r := s.Result("pair.https"); r.Outcome == Staged || len(r.Changes) > 0 {
		t.Fatalf("refused step: %+v", r)
	}
	if last := (*evs)[len(*evs)-1]; last.Kind != StepRefused || last.StepID != "pair.https" {
		t.Fatalf("last event %+v, want step.refused", last)
	}
	// The refused plan is gone: a second Apply has nothing to send.
	if err := s.Apply(ctx, "pair.https"); err == nil || len(d.staged) != 1 {
		t.Fatalf("a refused plan was applied: %v, %d stage calls", err, len(d.staged))
	}
}

// A plan made on an older desired state whose preview no longer holds is
// refused, never sent as it was.
func TestStalePlanIsRefused(t *testing.T) {
	ctx := context.Background()
	d := &pairDevice{state: pair{HTTP: true, HTTPS: true, Port: 443}}
	s := NewSession(pairCatalog(), d, nil)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan("pair.port-a", nil); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Plan("pair.port-b", nil)
	if err != nil || cs[0].From != "443" {
		t.Fatalf("plan b: %v %v", cs, err)
	}
	if err := s.Apply(ctx, "pair.port-a"); err != nil {
		t.Fatal(err)
	}
	err = s.Apply(ctx, "pair.port-b") // its preview said 443 → 9443; the device would go 8443 → 9443
	var stale *StaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "preview it again") {
		t.Fatalf("stale apply: %v, want a *StaleError", err)
	}
	if len(d.staged) != 1 {
		t.Fatalf("%d stage calls, want 1", len(d.staged))
	}
	// Made again, it goes.
	if cs, err := s.Plan("pair.port-b", nil); err != nil || cs[0].From != "8443" {
		t.Fatalf("plan b again: %v %v", cs, err)
	}
	if err := s.Apply(ctx, "pair.port-b"); err != nil {
		t.Fatal(err)
	}
	if got := d.staged[len(d.staged)-1]; got.Port != 9443 {
		t.Fatalf("sent %+v", got)
	}
}

// A plan whose preview still holds on a newer state is made again on that
// state: what is sent is the new state plus the change, not the old one.
func TestPlanMadeAgainOnTheNewState(t *testing.T) {
	ctx := context.Background()
	d := &pairDevice{state: pair{HTTP: true, HTTPS: true, Port: 443}}
	s := NewSession(pairCatalog(), d, nil)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan("pair.https", nil); err != nil {
		t.Fatal(err)
	}
	d.state.Port = 8443 // changed by hand, then read again
	if err := s.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, "pair.https"); err != nil {
		t.Fatal(err)
	}
	if got := d.staged[0]; got.HTTPS || got.Port != 8443 {
		t.Fatalf("sent %+v, want https off on the state read last (port 8443)", got)
	}
}

// A cancelled or superseded plan never reaches a Result or an event.
func TestCancelledAndSupersededPlansNeverReachChanges(t *testing.T) {
	ctx := context.Background()
	evs := &events{}
	d := &toyDevice{effective: toy{Telnet: true, Me: "10.0.0.5"}}
	s := NewSession(toyCatalog(), d, evs)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Plan("toy.telnet", nil); err != nil || len(cs) != 1 {
		t.Fatalf("plan: %v %v", cs, err)
	}
	if err := s.Cancel("toy.telnet"); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, "toy.telnet"); err == nil {
		t.Fatal("a cancelled plan was applied")
	}
	if err := s.Waive("toy.telnet", "the vendor tool needs telnet"); err != nil {
		t.Fatal(err)
	}
	// superseded: the first preview names a host that is never sent
	if _, err := s.Plan("toy.allow", Values{"host": "10.0.0.5", "password": "x"}); err != nil {
		t.Fatal(err)
	}
	s.cat.Steps[1].Plan = func(_ toy, in Values) (Plan[toy], error) {
		return Plan[toy]{Changes: []Change{{Setting: "allow", To: in["host"]}},
			Mutate: func(d *toy) error { d.Allowed = []string{in["host"], "10.0.0.5"}; return nil }}, nil
	}
	if _, err := s.Plan("toy.allow", Values{"host": "10.0.0.77"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, "toy.allow"); err != nil {
		t.Fatal(err)
	}
	if r := s.Result("toy.telnet"); len(r.Changes) > 0 || r.Outcome != Waived {
		t.Fatalf("cancelled step: %+v", r)
	}
	if r := s.Result("toy.allow"); len(r.Changes) != 1 || r.Changes[0].To != "10.0.0.77" || r.Inputs["host"] != "10.0.0.77" {
		t.Fatalf("applied step: %+v", r)
	}
	sawCancel := false
	for _, e := range *evs {
		sawCancel = sawCancel || e.Kind == StepCancelled
		if e.Result == nil {
			continue
		}
		if e.Result.StepID == "toy.telnet" && len(e.Result.Changes) > 0 {
			t.Fatalf("%s event carries the cancelled change: %+v", e.Kind, e.Result)
		}
		if e.Kind == StepPlanned && len(e.Result.Changes) > 0 {
			t.Fatalf("a preview reached an event: %+v", e.Result)
		}
		if e.Result.Inputs["host"] == "10.0.0.5" {
			t.Fatalf("%s event carries the superseded input", e.Kind)
		}
	}
	if !sawCancel {
		t.Fatal("no step.cancelled event")
	}
}

// consoleDevice is a device whose Read shows the saved settings (as an
// NPort's console does), not the ones it runs on until the restart.
type consoleDevice struct{ toyDevice }

func (d *consoleDevice) Read(context.Context) (toy, error) { return d.saved, nil }

// After a crash, a change that reached the saved settings reads as done;
// it stays staged, is listed as awaiting the restart, and only Commit and
// the fresh read after it make it fixed.
func TestResumedStagedIsNotFixedByARead(t *testing.T) {
	ctx := context.Background()
	d := &consoleDevice{toyDevice{effective: toy{Telnet: true}, saved: toy{Telnet: false}}}
	s := NewSession(toyCatalog(), d, nil)
	s.Restore([]Result{{StepID: "toy.telnet", Outcome: Staged, Changes: []Change{{Setting: "telnet", From: "on", To: "off"}}}})
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if o := s.Result("toy.telnet").Outcome; o != Staged {
		t.Fatalf("after resume: %s, want staged", o)
	}
	if got := s.AwaitingRestart(); len(got) != 1 || got[0] != "toy.telnet" {
		t.Fatalf("awaiting restart: %v", got)
	}
	if err := s.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	if o := s.Result("toy.telnet").Outcome; o != Staged {
		t.Fatalf("after a re-read: %s, want staged", o)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if d.commits != 1 || s.Result("toy.telnet").Outcome != Fixed || len(s.AwaitingRestart()) != 0 {
		t.Fatalf("after commit: %d commits, %s, awaiting %v", d.commits, s.Result("toy.telnet").Outcome, s.AwaitingRestart())
	}
}

// failing is a reporter that stops keeping events once failAt of them
// have been reported.
type failing struct {
	events
	failAt int
	err    error
}

func (f *failing) Report(e Event) {
	if len(f.events) >= f.failAt && f.err == nil {
		f.err = errors.New("sync: no space left on device")
	}
	f.events.Report(e)
}
func (f *failing) Err() error { return f.err }

// When an event cannot be kept, nothing more is sent to the device.
func TestJournalFailureStopsChanges(t *testing.T) {
	ctx := context.Background()
	d := &toyDevice{effective: toy{Telnet: true}}
	rep := &failing{failAt: 1 << 30}
	s := NewSession(toyCatalog(), d, Reporters{ReporterFunc(func(Event) {}), rep})
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan("toy.telnet", nil); err != nil {
		t.Fatal(err)
	}
	rep.failAt = len(rep.events) // the next event (the write-ahead one) fails
	err := s.Apply(ctx, "toy.telnet")
	if !errors.Is(err, ErrNotJournaled) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("apply: %v, want ErrNotJournaled with the cause", err)
	}
	if d.sent != 0 {
		t.Fatalf("%d stage calls after the journal failed", d.sent)
	}
	if s.Result("toy.telnet").Outcome == Fixed {
		t.Fatal("fixed")
	}
	// Commit is refused too (here with a change staged before the failure).
	d2 := &toyDevice{effective: toy{Telnet: true}}
	rep2 := &failing{failAt: 1 << 30}
	s2 := NewSession(toyCatalog(), d2, rep2)
	s2.Open(ctx)
	s2.Plan("toy.telnet", nil)
	if err := s2.Apply(ctx, "toy.telnet"); err != nil {
		t.Fatal(err)
	}
	rep2.failAt = 0
	s2.Waive("toy.manual", "failing event")
	if err := s2.Commit(ctx); !errors.Is(err, ErrNotJournaled) || d2.commits != 0 {
		t.Fatalf("commit: %v with %d commits, want ErrNotJournaled and none", err, d2.commits)
	}
}

// Apply journals the change before it sends it, so a crash during the
// send resumes as staged (awaiting the restart), never as checked.
func TestApplyWritesAhead(t *testing.T) {
	ctx := context.Background()
	evs := &events{}
	d := &pairDevice{state: pair{HTTP: true, HTTPS: true}}
	var atStage []Event
	d.stageH = func() { atStage = append([]Event(nil), *evs...) }
	s := NewSession(pairCatalog(), d, evs)
	s.Open(ctx)
	s.Plan("pair.http", nil)
	if err := s.Apply(ctx, "pair.http"); err != nil {
		t.Fatal(err)
	}
	last := atStage[len(atStage)-1]
	if last.Kind != StepSending || last.Result == nil || last.Result.Outcome != Staged || len(last.Result.Changes) != 1 {
		t.Fatalf("last event before Stage: %+v, want step.sending with the change", last)
	}
}

// The engine never reports while it holds its lock: a reporter may block
// or call back into the session.
func TestReportNeverUnderLock(t *testing.T) {
	ctx := context.Background()
	var s *Session[toy]
	n := 0
	rep := ReporterFunc(func(e Event) {
		n++
		if !s.mu.TryLock() {
			t.Fatalf("%s reported under the session's lock", e.Kind)
		}
		s.mu.Unlock()
	})
	d := &toyDevice{effective: toy{Telnet: true, Me: "h"}}
	s = NewSession(toyCatalog(), d, rep)
	s.Open(ctx)
	s.Plan("toy.allow", Values{"host": "nobody"}) // refused
	s.Plan("toy.telnet", nil)
	s.Cancel("toy.telnet")
	s.Plan("toy.telnet", nil)
	s.Apply(ctx, "toy.telnet")
	s.Commit(ctx)
	s.Recheck(ctx)
	s.Waive("toy.allow", "r")
	s.Close()
	if n < 10 {
		t.Fatalf("only %d events", n)
	}
}

// BenchmarkPlanApply measures a preview and its Apply, with the guards run
// at both, the write-ahead event and the Stage call of a fake device.
func BenchmarkPlanApply(b *testing.B) {
	ctx := context.Background()
	d := &pairDevice{state: pair{HTTP: true, HTTPS: true, Port: 443}}
	s := NewSession(pairCatalog(), d, ReporterFunc(func(Event) {}))
	if err := s.Open(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Plan("pair.port-a", nil); err != nil {
			b.Fatal(err)
		}
		if err := s.Apply(ctx, "pair.port-a"); err != nil {
			b.Fatal(err)
		}
		d.staged = d.staged[:0]
	}
}
