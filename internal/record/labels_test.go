package record

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/steps"
)

// TestInputLabelsRoundTrip: Build gives each recorded input the label the
// catalog asked for it with, record.json keeps them, and Load reads them
// back unchanged; Check accepts the record.
func TestInputLabelsRoundTrip(t *testing.T) {
	r, cat := sessionRecord(t)
	want := map[string]map[string]string{
		"fake.1.telnet":   {"note": "Note"}, // admin_password is secret: neither value nor label
		"fake.3.firmware": {"release": "Release notes seen"},
	}
	for _, s := range r.Steps {
		if !maps.Equal(s.InputLabels, want[s.ID]) {
			t.Errorf("step %s: labels %v, want %v", s.ID, s.InputLabels, want[s.ID])
		}
	}
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\"input_labels\": {\n        \"release\": \"Release notes seen\"\n      }")) {
		t.Errorf("record.json lacks the firmware step's labels:\n%s", b)
	}
	p := filepath.Join(t.TempDir(), "record.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, data, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range back.Steps {
		if !maps.Equal(s.InputLabels, r.Steps[i].InputLabels) {
			t.Errorf("step %s: loaded labels %v, built %v", s.ID, s.InputLabels, r.Steps[i].InputLabels)
		}
	}
	if again, _ := Marshal(back); !bytes.Equal(again, data) {
		t.Error("a loaded record with labels marshals to other bytes")
	}
	if errs := Check(back, cat); len(errs) != 0 {
		t.Errorf("Check: %v", errs)
	}
	if got := InputLabel(back.Steps[2], "release"); got != "Release notes seen" {
		t.Errorf("InputLabel = %q", got)
	}
	if got := InputLabel(Step{Inputs: steps.Values{"owner": "x"}}, "owner"); got != "owner" {
		t.Errorf("InputLabel without labels = %q, want the key", got)
	}
}

// TestSecretMarkedInputNeverRecorded: an input the step marks Secret, even
// under a name that does not look secret, reaches neither the record's
// inputs nor its labels, even from a result that still holds it (the
// engine drops it first; Build holds any result to the same rule).
func TestSecretMarkedInputNeverRecorded(t *testing.T) {
	const pin = "4711-0815-door"
	m := steps.Meta{ID: "x.1.cabinet", Title: "Cabinet is locked", Kind: steps.Manual, Attest: "the cabinet is locked",
		Inputs: []steps.Input{{Key: "owner", Label: "Person responsible for the device"}, {Key: "pin", Label: "Door code", Secret: true}}}
	res := steps.Result{Meta: m, StepID: m.ID, Outcome: steps.Attested, Evidence: "technician: locked", At: t0,
		Inputs: steps.Values{"owner": "J. Smith", "pin": pin}}
	r := Build(Meta{ID: "0123456789abcdef0123456789abcdef", Mode: ModeWizard, Started: t0, Finished: t0}, []steps.Result{res}, []steps.Meta{m})
	st := r.Steps[0]
	if _, ok := st.Inputs["pin"]; ok || st.Inputs["owner"] != "J. Smith" {
		t.Errorf("inputs %v, want owner only", st.Inputs)
	}
	if !maps.Equal(st.InputLabels, map[string]string{"owner": "Person responsible for the device"}) {
		t.Errorf("labels %v, want the owner's only", st.InputLabels)
	}
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{pin, "Door code", `"pin"`} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("record.json holds %q", s)
		}
	}
}

// TestCheckHoldsInputLabels: a label names an input of its step and says
// something, and a v2 record (which still checks) has none.
func TestCheckHoldsInputLabels(t *testing.T) {
	good, cat := sessionRecord(t)
	edit := func(f func(*Record)) []error {
		r := good
		r.Steps = make([]Step, len(good.Steps))
		for i, s := range good.Steps {
			s.InputLabels = maps.Clone(s.InputLabels)
			r.Steps[i] = s
		}
		f(&r)
		return Check(r, cat)
	}
	for _, c := range []struct {
		name string
		edit func(*Record)
		want string // "" for no error
	}{
		{"v3 with labels", func(*Record) {}, ""},
		{"v2 without labels", func(r *Record) {
			r.Schema = SchemaV2
			for i := range r.Steps {
				r.Steps[i].InputLabels = nil
			}
		}, ""},
		{"v2 with labels", func(r *Record) { r.Schema = SchemaV2 }, "step fake.1.telnet: input labels in a commission.record/v2 record"},
		{"label of no input", func(r *Record) { r.Steps[2].InputLabels["owner"] = "Owner" }, `step fake.3.firmware: input_labels names "owner"`},
		{"blank label", func(r *Record) { r.Steps[2].InputLabels["release"] = " " }, `step fake.3.firmware: input "release" has a blank label`},
		{"unknown schema", func(r *Record) { r.Schema = "commission.record/v4" }, "schema is"},
	} {
		errs := edit(c.edit)
		switch {
		case c.want == "" && len(errs) != 0:
			t.Errorf("%s: %v", c.name, errs)
		case c.want != "" && !strings.Contains(fmt.Sprint(errs), c.want):
			t.Errorf("%s: %v, want an error with %q", c.name, errs, c.want)
		}
	}
}
