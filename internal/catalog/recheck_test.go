package catalog

import (
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/steps"
)

// toyState is a family's state for the Recheck tests; each family's own
// catalog tests recheck real sessions (catalog/nport, thingspro, kepware).
type toyState struct {
	Telnet bool `json:"telnet"`
}

func toyCatalog() steps.Catalog[toyState] {
	return steps.Catalog[toyState]{Family: "toy", Steps: []steps.Step[toyState]{
		{Meta: steps.Meta{ID: "toy.1.telnet", Kind: steps.Automatic},
			Check: func(s toyState) steps.Finding {
				return steps.Finding{Applicable: true, Compliant: !s.Telnet, Observed: OnOff(s.Telnet)}
			}},
		{Meta: steps.Meta{ID: "toy.2.manual", Kind: steps.Manual}},
	}}
}

// TestRecheckRunsTheChecksOnObservations: every step with a check gets
// its finding from the observations, and malformed ones are refused.
func TestRecheckRunsTheChecksOnObservations(t *testing.T) {
	for _, c := range []struct {
		raw       string
		compliant bool
	}{{`{"telnet":true}`, false}, {`{"telnet":false}`, true}} {
		found, err := Recheck(toyCatalog(), []byte(c.raw))
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := found["toy.1.telnet"]; !ok || f.Compliant != c.compliant {
			t.Errorf("%s: %+v", c.raw, found)
		}
		if _, ok := found["toy.2.manual"]; ok {
			t.Error("a step without a check got a finding")
		}
	}
	for _, bad := range []string{`{"telnet":false,"injected":1}`, `[]`, `{"telnet":"no"}`, `{"telnet":false` + strings.Repeat(" ", maxObservations) + `}`} {
		if _, err := Recheck(toyCatalog(), []byte(bad)); err == nil {
			t.Errorf("observations %.40q were accepted", bad)
		}
	}
}
