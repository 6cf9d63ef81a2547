package record

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/commission-tool/commission/internal/steps"
)

// recordedInputs is what a record keeps of a result's inputs: neither
// one whose name looks secret nor one the step marks Secret (the engine
// drops those already; a result from anywhere else is held to the same
// rule). Nil when nothing is left.
func recordedInputs(m steps.Meta, in steps.Values) steps.Values {
	out := publicValues(in)
	for _, inp := range m.Inputs {
		if inp.Secret {
			delete(out, inp.Key)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// inputLabels gives each recorded input the label its step asks for it
// with; an input the step does not describe, or describes without a
// label, gets none (the PDF prints its key). Nil when no input has one.
func inputLabels(m steps.Meta, inputs steps.Values) map[string]string {
	var out map[string]string
	for _, inp := range m.Inputs {
		l := strings.TrimSpace(inp.Label)
		if _, ok := inputs[inp.Key]; !ok || l == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[inp.Key] = l
	}
	return out
}

// InputLabel is how the printed record names input k of step s: its
// recorded label, or, without one (a v2 record), the key itself.
func InputLabel(s Step, k string) string {
	if l := strings.TrimSpace(s.InputLabels[k]); l != "" {
		return l
	}
	return k
}

// checkLabels holds a step's input labels to its inputs and to the
// record's schema: a label names an input the step holds and says
// something, and only a record of Schema (v3 on) has any.
func checkLabels(r Record, s Step) []error {
	if len(s.InputLabels) == 0 {
		return nil
	}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.Schema == SchemaV2 {
		add("step %s: input labels in a %s record, which has none", s.ID, SchemaV2)
	}
	for _, k := range slices.Sorted(maps.Keys(s.InputLabels)) {
		if _, ok := s.Inputs[k]; !ok {
			add("step %s: input_labels names %q, which is not one of its inputs", s.ID, k)
		}
		if strings.TrimSpace(s.InputLabels[k]) == "" {
			add("step %s: input %q has a blank label", s.ID, k)
		}
	}
	return errs
}
