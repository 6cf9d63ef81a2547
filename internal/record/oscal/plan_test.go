package oscal

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

const planDigest = "1fa20132198d659c636481dc81c707b11e467d9c86cc9f593aa632d96592b6dc"

func TestSitePlanProps(t *testing.T) {
	sch := compileSchema(t)
	r := sampleRecord()
	r.Plan = &record.Plan{Name: "plans/plant-7.toml", SHA256: planDigest}
	r.Steps[0].Inputs = steps.Values{"lifetime": "30", "message": "Authorised access only."}
	r.Steps[0].FromPlan = []string{"lifetime"}
	r.Steps[0].ChangedInField = []string{"message"}
	b, err := AssessmentResults(r, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sch, b); err != nil {
		t.Fatalf("export with a site plan does not validate: %v", err)
	}
	again, _ := AssessmentResults(r, "")
	if !bytes.Equal(b, again) {
		t.Fatal("two exports of the same record differ")
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	props := map[string]string{}
	for _, p := range d.AR.Metadata.Props {
		props[p.Name] = p.Value
	}
	if props["site-plan"] != "plans/plant-7.toml" || props["site-plan-sha256"] != planDigest {
		t.Errorf("metadata props %v, want the plan's name and digest", props)
	}
	obs := d.AR.Results[0].Observations
	var from, changed []string
	for i, o := range obs {
		for _, p := range o.Props {
			switch p.Name {
			case "from-site-plan":
				from = append(from, p.Value)
			case "changed-in-field":
				changed = append(changed, p.Value)
			default:
				continue
			}
			if i != 0 || p.NS != NS {
				t.Errorf("observation %d has plan prop %+v", i, p)
			}
		}
	}
	if len(from) != 1 || from[0] != "lifetime" || len(changed) != 1 || changed[0] != "message" {
		t.Errorf("from-site-plan %v, changed-in-field %v", from, changed)
	}

	plain, _ := AssessmentResults(sampleRecord(), "")
	for _, s := range []string{"site-plan", "from-site-plan", "changed-in-field"} {
		if bytes.Contains(plain, []byte(s)) {
			t.Errorf("a record without a plan exports %s", s)
		}
	}
}
