package steps

import (
	"context"
	"errors"
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
