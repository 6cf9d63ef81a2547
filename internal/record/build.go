package record

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// Mode values of a record.
const (
	ModeWizard = "wizard"
	ModeAudit  = "audit"
)

// Meta is what a record says about its session, beside the steps.
type Meta struct {
	ID         string // empty: Build draws one with NewID
	Tool       Tool
	Mode       string // ModeWizard or ModeAudit
	Device     devices.Identity
	Guide      string
	Technician Technician
	Site       string
	Started    time.Time // start of the session; for a resumed one, the journal header's
	Finished   time.Time
	Evidence   []Evidence // files in the bundle's evidence folder, if any

	// Simulated marks a session against one of the tool's simulators
	// (commission demo). The record then says so on every page.
	Simulated bool
	// IncompleteReason is why the technician signs although steps are
	// still open; the wizard asks for it with a confirmation.
	IncompleteReason string
	// Waivers holds, per waived step id, who approved the waiver and
	// until when.
	Waivers map[string]Waiver
	// Acceptance is the plant's person who accepts the record, if known.
	Acceptance *Acceptance
	// Observations is the state the session's last read produced.
	Observations *Observations
	// Restarted is when the device was last restarted to apply changes.
	Restarted time.Time
	// Plan names the site plan the session was filled from (nil: none).
	Plan *Plan
	// PlanValues holds, per step id, the input values the plan gave
	// (siteplan.Plan.Values). Build compares them with each result's
	// inputs: an input whose value is the plan's is marked FromPlan, one
	// the technician changed ChangedInField. It is ignored without Plan.
	PlanValues map[string]steps.Values
}

// NewID returns 16 random bytes as lower-case hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails; it crashes the program instead
	return hex.EncodeToString(b[:])
}

// Build makes the record of a session from its results and its catalog.
// Steps come in catalog order; a catalog step without a result is
// pending, and a result for a step the catalog does not hold is appended
// after them (Check then reports it). Secret-named inputs are dropped.
// Summary counts the steps per outcome; outcomes with no step are left
// out.
func Build(meta Meta, results []steps.Result, metas []steps.Meta) Record {
	r := Record{
		Schema:     Schema,
		ID:         meta.ID,
		Tool:       meta.Tool,
		Mode:       meta.Mode,
		Device:     meta.Device,
		Guide:      meta.Guide,
		Technician: meta.Technician,
		Site:       meta.Site,
		Plan:       copyPlan(meta.Plan),
		Started:    meta.Started,
		Finished:   meta.Finished,
		Steps:      make([]Step, 0, len(metas)),
		Summary:    map[string]int{},
		Evidence:   meta.Evidence,
		Simulated:  meta.Simulated,
		Restarted:  meta.Restarted,
		Acceptance: meta.Acceptance,
	}
	if meta.Observations != nil {
		o := *meta.Observations
		r.Observations = &o
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	byID := make(map[string]steps.Result, len(results))
	for _, res := range results {
		byID[res.StepID] = res // the last result of a step wins
	}
	known := make(map[string]bool, len(metas))
	for _, m := range metas {
		known[m.ID] = true
		res, ok := byID[m.ID]
		if !ok {
			res = steps.Result{StepID: m.ID, Outcome: steps.Pending}
		}
		r.Steps = append(r.Steps, step(m, res))
	}
	seen := map[string]bool{}
	for _, res := range results {
		if known[res.StepID] || seen[res.StepID] {
			continue
		}
		seen[res.StepID] = true
		r.Steps = append(r.Steps, step(res.Meta, byID[res.StepID]))
	}
	for i, s := range r.Steps {
		if r.Plan != nil {
			r.Steps[i].FromPlan, r.Steps[i].ChangedInField = planMarks(meta.PlanValues[s.ID], s.Inputs)
		}
		r.Summary[string(s.Outcome)]++
		if w, ok := meta.Waivers[s.ID]; ok && s.Outcome == steps.Waived {
			r.Steps[i].Waiver = &w
		}
	}
	r.Status = StatusOf(r)
	if r.Status.State == StatusIncomplete {
		r.Status.Reason = strings.TrimSpace(meta.IncompleteReason)
	}
	return r
}

func step(m steps.Meta, res steps.Result) Step {
	srs := append([]string{}, m.SRs...)
	inputs := recordedInputs(m, res.Inputs)
	return Step{
		ID:          res.StepID,
		Guide:       m.Section,
		Title:       m.Title,
		Kind:        m.Kind,
		SRs:         srs,
		Outcome:     res.Outcome,
		Reason:      res.Reason,
		Before:      res.Before,
		After:       res.After,
		Changes:     res.Changes,
		Inputs:      inputs,
		InputLabels: inputLabels(m, inputs),
		Evidence:    res.Evidence,
		At:          res.At,
	}
}

func copyPlan(p *Plan) *Plan {
	if p == nil {
		return nil
	}
	c := *p
	c.SHA256 = strings.ToLower(c.SHA256)
	return &c
}

// planMarks sorts the inputs a step's result holds into those whose value
// is the plan's and those the plan gave and the technician changed. An
// input the plan gave but the result does not hold (a step that asked
// for nothing, say) is neither; so is a secret-named one.
func planMarks(plan, inputs steps.Values) (from, changed []string) {
	for _, k := range slices.Sorted(maps.Keys(plan)) {
		v, ok := inputs[k]
		switch {
		case !ok || SecretKey(k):
		case v == plan[k]:
			from = append(from, k)
		default:
			changed = append(changed, k)
		}
	}
	return from, changed
}
