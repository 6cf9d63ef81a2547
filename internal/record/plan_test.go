package record

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// planFile is a site plan's bytes; the record names it by their SHA-256.
var planFile = []byte("schema = \"commission.plan/v1\"\n[values.fake.\"fake.1.telnet\"]\nnote = \"<ok & done>\"\n")

// plannedRecord builds the record of a real session filled from a plan:
// the plan's note for the telnet step was kept, its release for the
// firmware step changed in the field (the technician typed 2.1), and its
// value for a step that asked for nothing is no mark at all.
func plannedRecord(t *testing.T) (Record, []steps.Meta) {
	t.Helper()
	started := time.Now()
	s, err := runSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := metas(fakeCatalog())
	r := Build(Meta{
		Tool: Tool{Name: "commission", Version: "test"}, Mode: ModeWizard,
		Device:  devices.Identity{Family: "fake", Model: "F-1", Address: "127.0.0.1"},
		Guide:   "Fake hardening guide v1",
		Started: started, Finished: time.Now(),
		Plan: &Plan{Name: "plans/site.toml", SHA256: strings.ToUpper(PlanDigest(planFile))},
		PlanValues: map[string]steps.Values{
			"fake.1.telnet":    {"note": "<ok & done>", "admin_password": testPassword},
			"fake.3.firmware":  {"release": "2.0"},
			"fake.4.compliant": {"unused": "x"},
		},
	}, s.Results(), cat)
	return r, cat
}

func TestBuildNamesThePlanAndMarksInputs(t *testing.T) {
	r, cat := plannedRecord(t)
	if r.Plan == nil || r.Plan.Name != "plans/site.toml" || r.Plan.SHA256 != PlanDigest(planFile) {
		t.Fatalf("plan %+v, want the file's name and lower-case digest %s", r.Plan, PlanDigest(planFile))
	}
	byID := map[string]Step{}
	for _, s := range r.Steps {
		byID[s.ID] = s
	}
	if s := byID["fake.1.telnet"]; !slices.Equal(s.FromPlan, []string{"note"}) || len(s.ChangedInField) != 0 {
		t.Errorf("telnet: from plan %v, changed %v; want note from the plan", s.FromPlan, s.ChangedInField)
	}
	if s := byID["fake.3.firmware"]; len(s.FromPlan) != 0 || !slices.Equal(s.ChangedInField, []string{"release"}) {
		t.Errorf("firmware: from plan %v, changed %v; want release changed in the field", s.FromPlan, s.ChangedInField)
	}
	for _, id := range []string{"fake.2.http", "fake.4.compliant"} {
		if s := byID[id]; s.FromPlan != nil || s.ChangedInField != nil {
			t.Errorf("%s has no input, yet marks %v %v", id, s.FromPlan, s.ChangedInField)
		}
	}
	if errs := Check(r, cat); len(errs) != 0 {
		t.Fatalf("Check: %v", errs)
	}

	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"plan": {` + "\n" + `    "name": "plans/site.toml",` + "\n" + `    "sha256": "` + PlanDigest(planFile) + `"`,
		`"from_plan": [` + "\n" + `        "note"`,
		`"changed_in_field": [` + "\n" + `        "release"`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("record.json lacks %s:\n%s", want, b)
		}
	}
	if bytes.Contains(b, []byte(testPassword)) || bytes.Contains(b, []byte(`"2.0"`)) || bytes.Contains(b, []byte("unused")) {
		t.Error("record.json holds a plan value beyond the step's inputs, or a secret")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if _, ok := top["plan"]; !ok {
		t.Fatal("no plan object")
	}
	// Load strictly and marshal again: the same bytes, marks and all.
	p := filepath.Join(t.TempDir(), "record.json")
	if err := WriteFileAtomic(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, _, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := Marshal(back); !bytes.Equal(c, b) {
		t.Fatalf("load + marshal changed the bytes:\n%s", c)
	}

	// Without a plan nothing is marked, whatever PlanValues says, and
	// the record has no plan key.
	s, _ := runSession(nil)
	r2 := Build(Meta{Mode: ModeWizard, Started: time.Now(), Finished: time.Now(),
		PlanValues: map[string]steps.Values{"fake.1.telnet": {"note": "<ok & done>"}}}, s.Results(), cat)
	if r2.Plan != nil || r2.Steps[0].FromPlan != nil {
		t.Errorf("no plan, yet %+v %v", r2.Plan, r2.Steps[0].FromPlan)
	}
	if b2, _ := Marshal(r2); bytes.Contains(b2, []byte(`"plan"`)) || bytes.Contains(b2, []byte("from_plan")) {
		t.Error("a record without a plan writes plan keys")
	}
}

func TestCheckHoldsPlanMarks(t *testing.T) {
	good, cat := plannedRecord(t)
	cases := []struct {
		name string
		edit func(*Record)
		want string
	}{
		{"marks without a plan", func(r *Record) { r.Plan = nil }, "step fake.1.telnet: inputs marked from the site plan"},
		{"mark of no input", func(r *Record) { r.Steps[0].FromPlan = []string{"note", "zzz"} }, `step fake.1.telnet: from_plan names "zzz"`},
		{"marked twice", func(r *Record) { r.Steps[0].ChangedInField = []string{"note"} }, `step fake.1.telnet: input "note" is marked twice`},
		{"unsorted", func(r *Record) {
			r.Steps[0].Inputs = steps.Values{"a": "1", "note": "x"}
			r.Steps[0].FromPlan = []string{"note", "a"}
		}, "step fake.1.telnet: from_plan is not sorted"},
		{"bad digest", func(r *Record) { r.Plan = &Plan{Name: "site.toml", SHA256: "abc"} }, "plan: sha256"},
		{"upper-case digest", func(r *Record) { r.Plan = &Plan{Name: "site.toml", SHA256: strings.ToUpper(PlanDigest(planFile))} }, "plan: sha256"},
		{"no name", func(r *Record) { r.Plan = &Plan{Name: " ", SHA256: PlanDigest(planFile)} }, "plan: no file name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good
			r.Steps = slices.Clone(good.Steps)
			c.edit(&r)
			var msgs []string
			for _, e := range Check(r, cat) {
				msgs = append(msgs, e.Error())
			}
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, c.want) }) {
				t.Errorf("Check = %q, want a message containing %q", msgs, c.want)
			}
		})
	}
}

func TestCheckPlan(t *testing.T) {
	r, _ := plannedRecord(t)
	if err := CheckPlan(r, "site.toml", planFile); err != nil {
		t.Fatalf("the plan the record names: %v", err)
	}
	other := append(slices.Clone(planFile), '\n')
	if err := CheckPlan(r, "site-v2.toml", other); err == nil ||
		!strings.Contains(err.Error(), PlanDigest(other)) || !strings.Contains(err.Error(), "plans/site.toml") {
		t.Fatalf("another plan: %v, want an error naming both digests' files and the other digest", err)
	}
	r.Plan = nil
	if err := CheckPlan(r, "site.toml", planFile); err == nil || !strings.Contains(err.Error(), "names no site plan") {
		t.Fatalf("a record without a plan: %v", err)
	}
}
