package oscal

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// schemaFile is NIST's OSCAL 1.1.3 complete JSON schema, as shipped in
// github.com/defenseunicorns/go-oscal v0.7.0 (src/internal/schemas).
const schemaFile = "testdata/oscal_complete_schema-1-1-3.json"

func sampleRecord() record.Record {
	t0 := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	return record.Record{
		Schema: record.Schema, ID: "5f1c0a9e2b7d4c31", Mode: "wizard",
		Tool:       record.Tool{Name: "commission", Version: "test"},
		Device:     devices.Identity{Family: "nport", Model: "NPort 5150A", Firmware: "1.6", MAC: "00:90:E8:12:34:56", Address: "127.0.0.1"},
		Guide:      "Moxa NPort 5000 Series Hardening Guide v1.0",
		Technician: record.Technician{Name: "Ada Tech", Company: "Vendor", Email: "ada@vendor.example"},
		Site:       "Plant 7, line 2",
		Started:    t0, Finished: t0.Add(40 * time.Minute),
		Steps: []record.Step{
			{ID: "nport.2.1.password", Guide: "2.1", Title: "Change the default password", Kind: steps.Automatic,
				SRs: []string{"SR 1.5", "SR 1.1"}, Outcome: steps.Fixed,
				Before:  &steps.Finding{Applicable: true, Observed: "default password accepted", Expected: "default refused"},
				After:   &steps.Finding{Compliant: true, Applicable: true, Observed: "default refused", Expected: "default refused"},
				Changes: []steps.Change{{Setting: "admin password", From: "(default)", To: "(new, not recorded)"}}, At: t0.Add(5 * time.Minute)},
			{ID: "nport.3.1.telnet", Guide: "3.1", Title: "Disable Telnet", Kind: steps.Automatic,
				SRs: []string{"SR 7.7"}, Outcome: steps.Waived, Reason: "needed by the\nlegacy HMI until Q3", At: t0.Add(10 * time.Minute)},
			{ID: "nport.4.2.allowlist", Guide: "4.2", Title: "Allow list", Kind: steps.Automatic,
				SRs: []string{"SR 5.2 RE 1"}, Outcome: steps.Deviation, At: t0.Add(11 * time.Minute)},
			{ID: "nport.9.1.backup", Guide: "9.1", Title: "Keep a configuration backup", Kind: steps.Manual,
				SRs: []string{"SR 7.3"}, Outcome: steps.Attested, Evidence: "sha256:abcd", At: t0.Add(30 * time.Minute)},
		},
		Summary: map[string]int{"fixed": 1, "waived": 1, "deviation": 1, "attested": 1},
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("oscal-complete.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("oscal-complete.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

func TestValidatesAgainstOSCALSchema(t *testing.T) {
	sch := compileSchema(t)
	r := sampleRecord()
	const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	b, err := AssessmentResults(r, digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sch, b); err != nil {
		t.Fatalf("export does not validate: %v", err)
	}
	for _, want := range []string{`"oscal-version": "1.1.3"`, `"control-id": "sr-1.5"`, `"control-id": "sr-5.2_re-1"`, digest,
		`"state": "not-satisfied"`, `"target-id": "nport.3.1.telnet"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("export lacks %s", want)
		}
	}
	again, _ := AssessmentResults(r, digest)
	if !bytes.Equal(b, again) {
		t.Error("two exports of the same record differ")
	}

	// A record with hostile strings and no steps still validates.
	r2 := sampleRecord()
	r2.Steps = nil
	r2.Technician = record.Technician{Name: "  \x1b[31m ", Email: "not an email"}
	r2.Device.Model = "\n"
	b2, err := AssessmentResults(r2, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sch, b2); err != nil {
		t.Fatalf("edge-case export does not validate: %v", err)
	}

	// The validator is not a rubber stamp: dropping import-ap must fail.
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["assessment-results"], "import-ap")
	broken, _ := json.Marshal(m)
	if err := validate(t, sch, broken); err == nil {
		t.Fatal("a document without import-ap validated")
	}
}

func TestControlID(t *testing.T) {
	for in, want := range map[string]string{
		"SR 1.5": "sr-1.5", "sr1.11": "sr-1.11", "1.7": "sr-1.7", "SR 5.2 RE 1": "sr-5.2_re-1",
		"SR 2.1 RE(2)": "sr-2.1_re-2", "EDR 3.10": "edr-3.10", "3rd party": "_3rd-party", "": "_",
	} {
		if got := ControlID(in); got != want {
			t.Errorf("ControlID(%q) = %q, want %q", in, got, want)
		}
		if !tokenRe().MatchString(ControlID(in)) {
			t.Errorf("ControlID(%q) is not a token", in)
		}
	}
}

func TestUUIDsAreValidAndDistinct(t *testing.T) {
	b, err := AssessmentResults(sampleRecord(), "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range strings.Split(string(b), "\"uuid\": \"")[1:] {
		u := f[:36]
		if seen[u] {
			t.Errorf("uuid %s used twice", u)
		}
		seen[u] = true
		if u[14] != '5' {
			t.Errorf("uuid %s is not version 5", u)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("found only %d uuids", len(seen))
	}
}

func TestRejectsEmptyRecord(t *testing.T) {
	if _, err := AssessmentResults(record.Record{}, ""); err == nil {
		t.Fatal("a record without id was exported")
	}
}

// The technician's party carries an e-mail address only when it looks
// like one.
func TestTechnicianEmail(t *testing.T) {
	for email, want := range map[string]bool{"ada@vendor.example": true, " ada@vendor.example ": true,
		"not an email": false, "a@b@": false, "@vendor.example": false, "ada @vendor.example": false} {
		r := sampleRecord()
		r.Technician.Email = email
		b, err := AssessmentResults(r, "")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			AR struct {
				Metadata struct {
					Parties []struct {
						Emails []string `json:"email-addresses"`
					} `json:"parties"`
				} `json:"metadata"`
			} `json:"assessment-results"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		ps := doc.AR.Metadata.Parties
		if got := len(ps) == 1 && len(ps[0].Emails) == 1 && ps[0].Emails[0] == strings.TrimSpace(email); got != want {
			t.Errorf("email %q: parties %+v, want the address listed: %v", email, ps, want)
		}
	}
}
