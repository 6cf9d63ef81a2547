// Package oscal exports a commissioning record as an OSCAL 1.1.3
// assessment-results document (oscal-ar.json), for tools that read NIST's
// Open Security Controls Assessment Language.
//
// Control ids. NIST publishes no IEC 62443 catalog, so control ids refer
// to our own catalog of IEC 62443-3-3 system requirements: "SR 1.5"
// becomes "sr-1.5", and a requirement enhancement "SR 5.2 RE 1" becomes
// "sr-5.2_re-1". Each record step is an assessment objective whose id is
// the step id (e.g. "nport.3.1.telnet"); its finding targets that
// objective and lists the step's control ids as props.
//
// A record filled from a site plan names it in the metadata's props
// (site-plan, site-plan-sha256), and each step's observation names its
// inputs that the plan gave (from-site-plan) and those the technician
// changed in the field (changed-in-field), one prop per input.
//
// The document is a pure function of the record: every UUID is a
// name-based (version 5) UUID derived from the record id, so the same
// record always gives the same bytes.
package oscal

import (
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// Version is the OSCAL version the export follows.
const Version = "1.1.3"

// NS is the namespace of this tool's OSCAL props.
const NS = "https://commission.tool/ns/oscal"

// PlanHref is the import-ap reference: the guide's steps are the plan.
const PlanHref = "#commissioning-plan-v1"

// uuidNS is the fixed namespace of the name-based UUIDs.
var uuidNS = [16]byte{0x6b, 0x1c, 0x3e, 0x52, 0x0d, 0x7a, 0x4f, 0x19, 0x9a, 0x44, 0xc3, 0x05, 0x2e, 0x61, 0xb8, 0x7d}

// uuid5 is an RFC 4122 version 5 UUID of name in uuidNS (SHA-1 here only
// names things; it protects nothing).
func uuid5(name string) string {
	h := sha1.New()
	h.Write(uuidNS[:])
	h.Write([]byte(name))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// The expressions are compiled when first used, not at program start:
// every command links this package, and only writing a record needs them.
var (
	srRe    = lazyRegexp(`(?i)^\s*(?:SR\s*)?(\d+\.\d+)(?:\s*\(?\s*RE\s*\(?\s*(\d+)\s*\)?)?\s*$`)
	tokenRe = lazyRegexp(`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`)
	badTok  = lazyRegexp(`[^\p{L}\p{N}.\-_]+`)
	emailRe = lazyRegexp(`^[^\s@]+@[^\s@]+$`)
)

// lazyRegexp returns the expression compiled on the first call.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// ControlID turns an SR reference of our catalog into an OSCAL control id:
// "SR 1.5" → "sr-1.5", "SR 5.2 RE 1" → "sr-5.2_re-1". Anything else is
// lower-cased and made a valid token.
func ControlID(sr string) string {
	if m := srRe().FindStringSubmatch(sr); m != nil {
		id := "sr-" + m[1]
		if m[2] != "" {
			id += "_re-" + m[2]
		}
		return id
	}
	return token(strings.ToLower(sr))
}

// token makes s a valid OSCAL token (an XML NCName).
func token(s string) string {
	t := strings.Trim(badTok().ReplaceAllString(strings.TrimSpace(s), "-"), "-")
	if t == "" {
		return "_"
	}
	if !tokenRe().MatchString(t) {
		t = "_" + t
	}
	return t
}

// line makes s a one-line, trimmed, non-empty string (OSCAL's string type).
func line(s string) string {
	s = strings.Join(strings.Fields(printable.String(s)), " ")
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type prop struct {
	Name  string `json:"name"`
	NS    string `json:"ns"`
	Value string `json:"value"`
}

func p(name, value string) prop { return prop{Name: name, NS: NS, Value: line(value)} }

type doc struct {
	AR assessmentResults `json:"assessment-results"`
}

type assessmentResults struct {
	UUID     string   `json:"uuid"`
	Metadata metadata `json:"metadata"`
	ImportAP struct {
		Href string `json:"href"`
	} `json:"import-ap"`
	Results []result `json:"results"`
}

type metadata struct {
	Title        string  `json:"title"`
	LastModified string  `json:"last-modified"`
	Version      string  `json:"version"`
	OSCALVersion string  `json:"oscal-version"`
	Props        []prop  `json:"props,omitempty"`
	Parties      []party `json:"parties,omitempty"`
}

type party struct {
	UUID   string   `json:"uuid"`
	Type   string   `json:"type"`
	Name   string   `json:"name,omitempty"`
	Emails []string `json:"email-addresses,omitempty"`
}

type result struct {
	UUID             string        `json:"uuid"`
	Title            string        `json:"title"`
	Description      string        `json:"description"`
	Start            string        `json:"start"`
	End              string        `json:"end,omitempty"`
	Props            []prop        `json:"props,omitempty"`
	ReviewedControls reviewed      `json:"reviewed-controls"`
	Observations     []observation `json:"observations,omitempty"`
	Findings         []finding     `json:"findings,omitempty"`
	Remarks          string        `json:"remarks,omitempty"`
}

type reviewed struct {
	ControlSelections []selection `json:"control-selections"`
}

type selection struct {
	IncludeAll      *struct{}   `json:"include-all,omitempty"`
	IncludeControls []controlID `json:"include-controls,omitempty"`
}

type controlID struct {
	ControlID string `json:"control-id"`
}

type observation struct {
	UUID        string   `json:"uuid"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description"`
	Props       []prop   `json:"props,omitempty"`
	Methods     []string `json:"methods"`
	Types       []string `json:"types,omitempty"`
	Evidence    []evid   `json:"relevant-evidence,omitempty"`
	Collected   string   `json:"collected"`
}

type evid struct {
	Href        string `json:"href,omitempty"`
	Description string `json:"description"`
}

type finding struct {
	UUID        string   `json:"uuid"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Props       []prop   `json:"props,omitempty"`
	Target      target   `json:"target"`
	Related     []relObs `json:"related-observations,omitempty"`
}

type target struct {
	Type     string `json:"type"`
	TargetID string `json:"target-id"`
	Status   status `json:"status"`
}

type status struct {
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type relObs struct {
	ObservationUUID string `json:"observation-uuid"`
}

// State maps a step outcome to the OSCAL objective status (state and
// reason): compliant, fixed and attested steps are satisfied (pass); a
// step that does not apply is satisfied (other); deviations and failed
// changes are not satisfied (fail); anything else (waived, error, not
// looked at) is not satisfied (other).
func State(o steps.Outcome) (state, reason string) {
	switch o {
	case steps.Compliant, steps.Fixed, steps.Attested:
		return "satisfied", "pass"
	case steps.NotApplicable:
		return "satisfied", "other"
	case steps.Deviation, steps.Failed:
		return "not-satisfied", "fail"
	}
	return "not-satisfied", "other"
}

func method(k steps.Kind) string {
	if k == steps.Manual {
		return "EXAMINE"
	}
	return "TEST"
}

// AssessmentResults builds oscal-ar.json for r. recordSHA256 is the hex
// SHA-256 of record.json as written; it is carried as a prop so the
// export can be tied to the signed record.
func AssessmentResults(r record.Record, recordSHA256 string) ([]byte, error) {
	if r.ID == "" {
		return nil, errors.New("oscal: record has no id")
	}
	if r.Started.IsZero() {
		return nil, errors.New("oscal: record has no start time")
	}
	finished := r.Finished
	if finished.IsZero() {
		finished = r.Started
	}
	id := r.ID
	dev := r.Device
	devName := line(dev.Model + " " + firstNonEmpty(dev.MAC, dev.Address))

	var d doc
	ar := &d.AR
	ar.UUID = uuid5(id + "/assessment-results")
	ar.ImportAP.Href = PlanHref
	ar.Metadata = metadata{
		Title:        line("Commissioning record: " + devName),
		LastModified: stamp(finished),
		Version:      line(r.ID),
		OSCALVersion: Version,
		Props:        []prop{p("record-id", r.ID), p("record-schema", firstNonEmpty(r.Schema, "-"))},
	}
	if recordSHA256 != "" {
		ar.Metadata.Props = append(ar.Metadata.Props, p("record-sha256", recordSHA256))
	}
	if pl := r.Plan; pl != nil {
		ar.Metadata.Props = append(ar.Metadata.Props, p("site-plan", pl.Name), p("site-plan-sha256", pl.SHA256))
	}
	if tech := strings.TrimSpace(r.Technician.Name); tech != "" || r.Technician.Email != "" {
		pt := party{UUID: uuid5(id + "/technician"), Type: "person", Name: line(firstNonEmpty(tech, r.Technician.Email))}
		if e := strings.TrimSpace(r.Technician.Email); emailRe().MatchString(e) {
			pt.Emails = []string{e}
		}
		ar.Metadata.Parties = []party{pt}
	}

	res := result{
		UUID:        uuid5(id + "/result"),
		Title:       line("Commissioning of " + devName),
		Description: line(fmt.Sprintf("%s checked against %s (%s mode). %s.", devName, firstNonEmpty(r.Guide, "the guide"), firstNonEmpty(r.Mode, "wizard"), record.Headline(r))),
		Start:       stamp(r.Started),
		End:         stamp(finished),
	}
	recStatus := r.Status.State
	if r.Simulated {
		recStatus = record.StatusSimulated
	}
	for _, kv := range [][2]string{{"record-status", recStatus}, {"device-family", dev.Family}, {"device-model", dev.Model}, {"device-firmware", dev.Firmware},
		{"device-serial", dev.Serial}, {"device-mac", dev.MAC}, {"device-address", dev.Address}, {"site", r.Site}} {
		if strings.TrimSpace(kv[1]) != "" {
			res.Props = append(res.Props, p(kv[0], kv[1]))
		}
	}
	seen := map[string]bool{}
	var controls []controlID
	for _, st := range r.Steps {
		for _, sr := range st.SRs {
			c := ControlID(sr)
			if !seen[c] {
				seen[c] = true
				controls = append(controls, controlID{ControlID: c})
			}
		}
	}
	if len(controls) > 0 {
		res.ReviewedControls.ControlSelections = []selection{{IncludeControls: controls}}
	} else {
		res.ReviewedControls.ControlSelections = []selection{{IncludeAll: &struct{}{}}}
	}
	for i, st := range r.Steps {
		oid := uuid5(fmt.Sprintf("%s/observation/%d/%s", id, i, st.ID))
		o := observation{
			UUID:        oid,
			Title:       line(st.Title),
			Description: describe(st),
			Props:       []prop{p("step-id", st.ID), p("outcome", string(st.Outcome))},
			Methods:     []string{method(st.Kind)},
			Types:       []string{"finding"},
			Collected:   stamp(firstTime(st.At, finished)),
		}
		if st.Guide != "" {
			o.Props = append(o.Props, p("guide-section", st.Guide))
		}
		for _, k := range st.FromPlan {
			o.Props = append(o.Props, p("from-site-plan", k))
		}
		for _, k := range st.ChangedInField {
			o.Props = append(o.Props, p("changed-in-field", k))
		}
		if strings.TrimSpace(st.Evidence) != "" {
			o.Evidence = append(o.Evidence, evid{Description: line(st.Evidence)})
		}
		res.Observations = append(res.Observations, o)

		state, reason := State(st.Outcome)
		f := finding{
			UUID:        uuid5(fmt.Sprintf("%s/finding/%d/%s", id, i, st.ID)),
			Title:       line(st.Title),
			Description: line(fmt.Sprintf("Guide section %s: %s.", firstNonEmpty(st.Guide, "-"), st.Outcome)),
			Target: target{Type: "objective-id", TargetID: token(st.ID),
				Status: status{State: state, Reason: reason}},
			Related: []relObs{{ObservationUUID: oid}},
		}
		if strings.TrimSpace(st.Reason) != "" {
			f.Target.Status.Remarks = printable.String(st.Reason, true)
		}
		for _, sr := range st.SRs {
			f.Props = append(f.Props, p("control-id", ControlID(sr)))
		}
		res.Findings = append(res.Findings, f)
	}
	ar.Results = []result{res}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("oscal: %w", err)
	}
	return append(b, '\n'), nil
}

// describe is the observation text: what was seen against what the guide expects.
func describe(st record.Step) string {
	var parts []string
	add := func(label string, f *steps.Finding) {
		if f == nil {
			return
		}
		parts = append(parts, fmt.Sprintf("%s: observed %q, expected %q.", label, line(f.Observed), line(f.Expected)))
	}
	add("Before", st.Before)
	add("After", st.After)
	for _, c := range st.Changes {
		parts = append(parts, fmt.Sprintf("Changed %s from %q to %q.", line(c.Setting), line(c.From), line(c.To)))
	}
	if st.Reason != "" {
		parts = append(parts, "Reason: "+line(st.Reason))
	}
	if len(parts) == 0 {
		return line(fmt.Sprintf("Outcome: %s.", st.Outcome))
	}
	return strings.Join(parts, " ")
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
