package record

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
)

// PlanDigest is the hex SHA-256 of a site plan file's bytes, as a record's
// plan.sha256 holds it (the same as siteplan.Digest).
func PlanDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// CheckPlan holds a record to the site plan file whose bytes are data,
// for verify --plan: it returns nil when the record names a plan with
// that file's digest, and an error saying why not otherwise (the record
// names no plan, or another one). name is the file as given, for the
// message.
func CheckPlan(r Record, name string, data []byte) error {
	got := PlanDigest(data)
	if r.Plan == nil {
		return fmt.Errorf("names no site plan, but %s was given (sha256 %s)", name, got)
	}
	if r.Plan.SHA256 != got {
		return fmt.Errorf("was filled from the site plan %s with sha256 %s, not from %s (sha256 %s)", r.Plan.Name, r.Plan.SHA256, name, got)
	}
	return nil
}

// validDigest reports whether s is a SHA-256 in lower-case hex.
func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkMarks holds a step's plan marks to its inputs and to the record's
// plan: each mark names an input the step holds, once, in one list, the
// lists sorted, and only a record that names a plan has any.
func checkMarks(r Record, s Step) []error {
	if len(s.FromPlan) == 0 && len(s.ChangedInField) == 0 {
		return nil
	}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.Plan == nil {
		add("step %s: inputs marked from the site plan or changed in the field, but the record names no plan", s.ID)
	}
	seen := map[string]bool{}
	for _, l := range []struct {
		name  string
		names []string
	}{{"from_plan", s.FromPlan}, {"changed_in_field", s.ChangedInField}} {
		if !slices.IsSorted(l.names) {
			add("step %s: %s is not sorted", s.ID, l.name)
		}
		for _, k := range l.names {
			if _, ok := s.Inputs[k]; !ok {
				add("step %s: %s names %q, which is not one of its inputs", s.ID, l.name, k)
			}
			if seen[k] {
				add("step %s: input %q is marked twice", s.ID, k)
			}
			seen[k] = true
		}
	}
	return errs
}
