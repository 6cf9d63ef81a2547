package pdf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

const (
	ownerLabel     = "Person responsible for the device"
	retentionLabel = "How long the plant keeps the device's logs on its own log server, in days"
)

// labelledRecord is sampleRecord(n) whose attested steps are manual and
// carry two inputs with the catalog's labels (one long enough to wrap),
// each value naming its step.
func labelledRecord(n int) record.Record {
	r := sampleRecord(n)
	for i := range r.Steps {
		st := &r.Steps[i]
		if st.Outcome != steps.Attested {
			continue
		}
		st.Kind = steps.Manual
		st.Inputs = steps.Values{"owner": fmt.Sprintf("J. Smith of cabinet %d (hall B)", i), "retention": fmt.Sprintf("%d days, then archived", 900+i)}
		st.InputLabels = map[string]string{"owner": ownerLabel, "retention": retentionLabel}
		st.Evidence = fmt.Sprintf("technician: checked cabinet %d with the plant's engineer", i)
	}
	return r
}

// unlabelled is r as a v2 record: the same inputs, no labels.
func unlabelled(r record.Record) record.Record {
	r.Schema = record.SchemaV2
	r.Steps = append([]record.Step(nil), r.Steps...)
	for i := range r.Steps {
		r.Steps[i].InputLabels = nil
	}
	return r
}

// TestAttestationPrintsInputLabels: an attestation's inputs are printed
// by the labels the record holds, each attestation whole on one page
// (its title, every input, the evidence and the time).
func TestAttestationPrintsInputLabels(t *testing.T) {
	r := labelledRecord(60)
	all := pages(t, r)
	txt := strings.Join(all, " ")
	for _, want := range []string{ownerLabel, "J. Smith of cabinet 5 (hall B)", "How long the plant keeps the", "log server, in days", "905 days, then archived"} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if regexp.MustCompile(`\b(owner|retention)\b`).MatchString(txt) {
		t.Errorf("PDF text prints an input's key although the record labels it")
	}
	attested := 0
	for i, st := range r.Steps {
		if st.Outcome != steps.Attested {
			continue
		}
		attested++
		owner := st.Inputs["owner"]
		n := 0
		for p, pg := range all {
			j := strings.Index(pg, owner)
			if j < 0 {
				continue
			}
			n++
			for _, want := range []string{fmt.Sprintf("%d days, then archived", 900+i), fmt.Sprintf("checked cabinet %d with", i), fmtTime(st.At)} {
				if !strings.Contains(pg, want) {
					t.Errorf("step %d: page %d has its inputs but not %q", i, p+1, want)
				}
			}
			if !strings.Contains(pg[:j], fmt.Sprintf("Step %d: a rather long title", i)) {
				t.Errorf("step %d: page %d has its inputs but not its title before them", i, p+1)
			}
		}
		if n != 1 {
			t.Errorf("step %d: its owner is on %d pages, want 1", i, n)
		}
	}
	if attested < 8 {
		t.Fatalf("only %d attestations", attested)
	}
	b, err := Render(r, digestOf("record"), A4)
	if err != nil {
		t.Fatal(err)
	}
	inBounds(t, b)
	labelsInTheirColumn(t, b)
}

// labelsInTheirColumn checks, with pdftotext -bbox, that each input's
// label is printed on the line of its value, and that no word of the
// label runs into the value column beside it.
func labelsInTheirColumn(t *testing.T, b []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "record.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, tool(t, "pdftotext"), "-bbox", p, "-")
	valueX := (margin + 5 + labelW) * 72 / 25.4 // points
	indent := (margin + 5) * 72 / 25.4
	inLabel := map[string]bool{}
	for _, w := range strings.Fields(ownerLabel + " " + retentionLabel) {
		inLabel[w] = true
	}
	type word struct {
		x0, x1 float64
		text   string
	}
	word1 := regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="[0-9.]+">([^<]*)</word>`)
	checked := 0
	for pg := range strings.SplitSeq(out, "<page ") {
		lines := map[float64][]word{} // by yMin, to the half point
		for _, w := range word1.FindAllStringSubmatch(pg, -1) {
			x0, _ := strconv.ParseFloat(w[1], 64)
			y, _ := strconv.ParseFloat(w[2], 64)
			x1, _ := strconv.ParseFloat(w[3], 64)
			k := float64(int(y*2+0.5)) / 2
			lines[k] = append(lines[k], word{x0, x1, html.UnescapeString(w[4])})
		}
		for _, ws := range lines {
			// A line of an attestation's inputs: a value on it, or only
			// label words, starting at the attestation's indent.
			var label []string
			value, onlyLabel, indented := "", true, false
			for _, w := range ws {
				switch {
				case w.text == "Smith" || w.text == "archived":
					value = w.text
				case w.x0 < valueX:
					label = append(label, w.text)
					onlyLabel = onlyLabel && inLabel[w.text]
					indented = indented || math.Abs(w.x0-indent) < 1
				}
			}
			if value == "" && !(onlyLabel && indented) {
				continue
			}
			for _, w := range ws {
				switch {
				case w.x0 >= valueX-1:
				case w.text == value:
					t.Errorf("value word %q starts at %.1f pt, inside the label column (to %.1f pt)", w.text, w.x0, valueX)
				case w.x1 > valueX:
					t.Errorf("label word %q ends at %.1f pt, in the value column from %.1f pt", w.text, w.x1, valueX)
				}
			}
			if value == "" {
				continue
			}
			checked++
			want := map[string]string{"Smith": ownerLabel, "archived": "How long the plant keeps the"}[value]
			if got := strings.Join(label, " "); !strings.HasPrefix(want, got) || got == "" {
				t.Errorf("the line of value %q starts with %q, want the start of %q", value, got, want)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no input value found")
	}
}

// TestRecordWithoutLabelsPrintsKeys: a v2 record, which has no labels,
// prints each input by its key, as it always did.
func TestRecordWithoutLabelsPrintsKeys(t *testing.T) {
	txt := strings.Join(pages(t, unlabelled(labelledRecord(12))), " ")
	for _, want := range []string{"owner J. Smith of cabinet 5 (hall B)", "retention 905 days, then archived"} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "Person responsible") {
		t.Error("a record without labels prints one")
	}
}

// TestSitePlanMarksPrintInputLabels: the steps table names the inputs the
// site plan gave by their labels too, and by their keys without.
func TestSitePlanMarksPrintInputLabels(t *testing.T) {
	r := plannedRecord()
	r.Steps[1].InputLabels = map[string]string{"server": "Syslog server address", "port": "Syslog port"}
	txt := strings.Join(pages(t, r), " ")
	for _, want := range []string{"from the site plan: Syslog server address", "changed in the field: Syslog port", "changed in the field: release"} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// TestSampleRendersAsSigned: the sample bundle as signed in a v2 record
// without labels, renders again to the very bytes of its record.pdf, so
// verify still accepts bundles signed before labels were recorded.
func TestSampleRendersAsSigned(t *testing.T) {
	// the sample as it was signed in a v2 record, kept byte for byte
	dir := filepath.Join("..", "bundle", "testdata", "sample-v2")
	r, data, err := record.Load(filepath.Join(dir, "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Schema != record.SchemaV2 {
		t.Fatalf("%s is %s; it must stay the %s record it was signed as", dir, r.Schema, record.SchemaV2)
	}
	want, err := os.ReadFile(filepath.Join(dir, "record.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	got, err := Render(r, hex.EncodeToString(h[:]), A4)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the sample's record.pdf no longer renders from its record.json byte for byte")
	}
}

// noDevice is a device a manual-only catalog never reads.
type noDevice struct{}

func (noDevice) Read(context.Context) (struct{}, error)          { return struct{}{}, nil }
func (noDevice) Stage(context.Context, struct{}, struct{}) error { return nil }
func (noDevice) Commit(context.Context, func(string)) error      { return nil }

// TestSecretInputNeverPrinted: an attestation's input the catalog marks
// Secret, under a name that does not look secret, reaches neither the
// record nor the PDF, by value or by label; its other input is printed by
// its label. The session is the real engine's.
func TestSecretInputNeverPrinted(t *testing.T) {
	const pin = "4711-0815-door"
	m := steps.Meta{ID: "x.1.cabinet", Section: "1", Title: "The device's cabinet is locked", Kind: steps.Manual,
		SRs: []string{"SR 1.1"}, Attest: "the cabinet is locked",
		Inputs: []steps.Input{{Key: "owner", Label: ownerLabel}, {Key: "pin", Label: "Door code of the cabinet", Secret: true}}}
	cat := steps.Catalog[struct{}]{Family: "x", Guide: "X guide", Steps: []steps.Step[struct{}]{{Meta: m}},
		Clone: func(s struct{}) struct{} { return s }, Identity: func(struct{}) devices.Identity { return devices.Identity{Family: "x"} }}
	s := steps.NewSession(cat, steps.Device[struct{}](noDevice{}), nil)
	started := time.Now()
	if err := s.Attest(context.Background(), m.ID, steps.Values{"owner": "J. Smith", "pin": pin}, "locked it myself"); err != nil {
		t.Fatal(err)
	}
	r := record.Build(record.Meta{Mode: record.ModeWizard, Started: started, Finished: time.Now(), Device: devices.Identity{Family: "x"}},
		s.Results(), []steps.Meta{m})
	js, err := record.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(r, digestOf("record"), A4)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "record.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	txt := strings.Join(strings.Fields(run(t, tool(t, "pdftotext"), p, "-")), " ")
	if !strings.Contains(txt, ownerLabel) || !strings.Contains(txt, "J. Smith") {
		t.Errorf("PDF text lacks the owner or its label:\n%s", txt)
	}
	for _, bad := range []string{pin, "4711", "Door code", "pin"} {
		if strings.Contains(txt, bad) {
			t.Errorf("PDF text holds %q", bad)
		}
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("record.json holds %q", bad)
		}
	}
	// A record edited to hold a secret-named input still does not print it.
	r.Steps[0].Inputs["admin_password"] = pin
	r.Steps[0].InputLabels["admin_password"] = "Door code of the cabinet"
	if b, err = Render(r, digestOf("record"), A4); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if txt := run(t, tool(t, "pdftotext"), p, "-"); strings.Contains(txt, pin) || strings.Contains(txt, "Door code") {
		t.Error("PDF text holds a secret-named input")
	}
}
