package record

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/commission-tool/commission/internal/steps"
)

// ErrIncompleteNoReason refuses to sign a wizard record with open steps
// when the technician gave no reason for signing it anyway.
var ErrIncompleteNoReason = errors.New("the record has open steps: signing it needs a reason")

// StatusOf computes the status that r's steps and simulated flag give:
// simulated if the device was simulated, else incomplete if any step is
// not closed (steps.Outcome.Final), else commissioned. Reason is not
// set: it is the technician's, not computed.
func StatusOf(r Record) Status {
	st := Status{State: StatusCommissioned}
	for _, s := range r.Steps {
		if s.Outcome == steps.Waived {
			st.Waivers++
		}
		if !s.Outcome.Final() {
			st.Open = append(st.Open, s.ID)
		}
	}
	switch {
	case r.Simulated:
		st.State = StatusSimulated
	case len(st.Open) > 0 || len(r.Steps) == 0:
		st.State = StatusIncomplete
	}
	return st
}

// Headline is the status as printed, loud and in capitals: e.g.
// "COMMISSIONED: all 23 steps closed, 2 waived", "INCOMPLETE: 12 of 23
// steps open (10 deviation, 2 staged)" or "SIMULATED DEVICE - NOT A
// COMMISSIONING RECORD".
func Headline(r Record) string {
	st := r.Status
	switch st.State {
	case StatusSimulated:
		return "SIMULATED DEVICE - NOT A COMMISSIONING RECORD"
	case StatusCommissioned:
		return fmt.Sprintf("COMMISSIONED: all %d steps closed, %s", len(r.Steps), plural(st.Waivers, "waiver"))
	case StatusIncomplete:
		return fmt.Sprintf("INCOMPLETE: %d of %d steps open (%s)", len(st.Open), len(r.Steps), openKinds(r))
	}
	return "UNKNOWN STATUS " + strings.ToUpper(st.State)
}

// openKinds counts the open steps by outcome, e.g. "10 deviation, 2 staged".
func openKinds(r Record) string {
	n := map[string]int{}
	for _, s := range r.Steps {
		if !s.Outcome.Final() {
			n[strings.ReplaceAll(string(s.Outcome), "_", " ")]++
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	if len(parts) == 0 {
		return "no steps"
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ReadyToSign reports why r may not be signed yet: a wizard record with
// open steps needs the technician's reason (Meta.IncompleteReason). Audit
// records (read-only reviews) and simulated records need none: their
// status says what they are.
func ReadyToSign(r Record) error {
	if r.Mode == ModeWizard && r.Status.State == StatusIncomplete && strings.TrimSpace(r.Status.Reason) == "" {
		return fmt.Errorf("%w (%s)", ErrIncompleteNoReason, Headline(r))
	}
	return nil
}

// checkStatus reports where r.Status disagrees with its steps.
func checkStatus(r Record) []error {
	var errs []error
	want := StatusOf(r)
	got := r.Status
	if got.State != want.State {
		errs = append(errs, fmt.Errorf("status: says %q, the steps say %q", got.State, want.State))
	}
	if got.Waivers != want.Waivers {
		errs = append(errs, fmt.Errorf("status: says %d waivers, the steps say %d", got.Waivers, want.Waivers))
	}
	if !slices.Equal(got.Open, want.Open) {
		errs = append(errs, fmt.Errorf("status: lists open steps %v, the steps say %v", got.Open, want.Open))
	}
	if got.Reason != "" && want.State != StatusIncomplete {
		errs = append(errs, errors.New("status: a reason for signing incomplete, but the record is not incomplete"))
	}
	for _, s := range r.Steps {
		if s.Waiver == nil {
			continue
		}
		if s.Outcome != steps.Waived {
			errs = append(errs, fmt.Errorf("step %s: a waiver approval, but the step is %s", s.ID, s.Outcome))
		}
		if strings.TrimSpace(s.Waiver.Approver) == "" {
			errs = append(errs, fmt.Errorf("step %s: waiver without an approver", s.ID))
		}
		if e := s.Waiver.Expires; e != "" {
			if _, err := parseDate(e); err != nil {
				errs = append(errs, fmt.Errorf("step %s: waiver expiry %q is not a date YYYY-MM-DD", s.ID, e))
			}
		}
	}
	return errs
}
