package pdf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// plannedRecord is sampleRecord filled from a site plan: one step kept
// the plan's value, one had it changed in the field.
func plannedRecord() record.Record {
	r := sampleRecord(12)
	r.Plan = &record.Plan{Name: "plans/plant-7.toml", SHA256: digestOf("the plan's bytes")}
	r.Steps[1].Inputs = steps.Values{"server": "192.168.127.10", "port": "514"}
	r.Steps[1].FromPlan = []string{"server"}
	r.Steps[1].ChangedInField = []string{"port"}
	r.Steps[5].Inputs = steps.Values{"release": "2.1"}
	r.Steps[5].ChangedInField = []string{"release"}
	return r
}

func TestSitePlanIsPrinted(t *testing.T) {
	r := plannedRecord()
	txt := strings.Join(pages(t, r), " ")
	dg := r.Plan.SHA256
	for _, want := range []string{"Site plan", "plans/plant-7.toml", "from the site plan: server", "changed in the field: port", "changed in the field: release"} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	// The digest may wrap; its hex must be there whole once spaces are gone.
	if !strings.Contains(strings.ReplaceAll(txt, " ", ""), dg) {
		t.Errorf("PDF text lacks the plan's digest %s", dg)
	}
	if strings.Count(txt, "from the site plan") != 1 || strings.Count(txt, "changed in the field") != 2 {
		t.Errorf("marks printed on other steps too:\n%s", txt)
	}

	plain := strings.Join(pages(t, sampleRecord(12)), " ")
	if strings.Contains(plain, "Site plan") || strings.Contains(plain, "from the site plan") {
		t.Error("a record without a plan prints one")
	}
}

func TestSitePlanRenderIsDeterministic(t *testing.T) {
	r := plannedRecord()
	dg := digestOf("record")
	a, err := Render(r, dg, A4)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(r, dg, A4)
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same planned record differ")
	}
	for name, edit := range map[string]func(*record.Record){
		"no marks":     func(r *record.Record) { r.Steps[1].FromPlan, r.Steps[1].ChangedInField = nil, nil },
		"other digest": func(r *record.Record) { r.Plan = &record.Plan{Name: r.Plan.Name, SHA256: digestOf("another plan")} },
	} {
		r2 := plannedRecord()
		edit(&r2)
		c, err := Render(r2, dg, A4)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: the same PDF", name)
		}
	}
}
