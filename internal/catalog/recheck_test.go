package catalog

import (
	"context"
	"strings"
	"testing"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/steps"
)

// TestRecheckAgreesWithTheSession_Simulator: the checks run on a
// session's observations give the findings the session recorded, and the
// observations carry no secret, even with new passwords staged.
func TestRecheckAgreesWithTheSession_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	s, _ := session(t, d, "admin", "moxa")
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	id := "nport.3.2.default-admin"
	if _, err := s.Plan(id, hardenInputs[id]); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Observations()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{adminPw, `"moxa"`} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the observations hold a secret (%s)", secret)
		}
	}
	found, err := Recheck(NPort(), raw)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range s.Results() {
		f := r.After
		if f == nil {
			f = r.Before
		}
		if r.Meta.Kind != steps.Automatic || f == nil {
			continue
		}
		got, ok := found[r.StepID]
		if !ok || got.Compliant != f.Compliant || got.Applicable != f.Applicable || got.Observed != f.Observed {
			t.Errorf("%s: recorded %+v, recomputed %+v", r.StepID, *f, got)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d steps compared", n)
	}
	if _, err := Recheck(NPort(), []byte(`{"console":{"telnet":false},"injected":1}`)); err == nil {
		t.Fatal("observations with an unknown field were accepted")
	}
	if _, err := Recheck(NPort(), []byte(`[]`)); err == nil {
		t.Fatal("observations that are not a state were accepted")
	}
}
