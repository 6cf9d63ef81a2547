package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/commission-tool/commission/internal/steps"
)

// Groups are the wizard's sections, in the order it shows them. Every
// step names one.
var Groups = []string{"accounts", "services", "allowlist", "tls", "logging", "firmware"}

// Prose is a family's steps in words: everything a security writer
// reviews against the guide (ids, guide sections, titles, why, SRs,
// cautions, attestations, input labels and help, and what each kind of
// change interrupts). Each family embeds it as a TOML file next to its
// checks and plans; LoadProse reads it and Build joins it to the Go code.
type Prose struct {
	// Family is the step ids' first part, such as "thingspro".
	Family string `toml:"family"`
	// Guide names the guide and the sections the catalog follows.
	Guide string `toml:"guide"`
	// Timing is what the family's changes do to the running device, for
	// the wizard's confirm screens.
	Timing Timing `toml:"timing"`
	// Effects say, per kind of change, when it takes effect and what it
	// interrupts; a plan appends one to each preview line.
	Effects map[string]string `toml:"effects"`
	// Steps, in the order the wizard walks them.
	Steps []StepProse `toml:"step"`
}

// Timing is a family's wording for the wizard's confirm screens. An
// empty field gets the wizard's neutral wording.
type Timing struct {
	Apply   string `toml:"apply"`   // shown before a change is sent
	Commit  string `toml:"commit"`  // shown before the verifying read
	Restart string `toml:"restart"` // shown before a restart, where the family restarts
	Delete  string `toml:"delete"`  // shown before a deletion
}

// StepProse is one step's words.
type StepProse struct {
	ID      string       `toml:"id"`
	Section string       `toml:"section"`
	Group   string       `toml:"group"`
	Kind    steps.Kind   `toml:"kind"`
	Title   string       `toml:"title"`
	Why     string       `toml:"why"`
	SRs     []string     `toml:"srs"`
	Caution string       `toml:"caution"`
	Attest  string       `toml:"attest"`
	Inputs  []InputProse `toml:"input"`
}

// InputProse is one input's words. An input that is neither optional,
// a choice of options, nor the repetition of another input needs a
// validator in the Go code (Build refuses it otherwise).
type InputProse struct {
	Key       string   `toml:"key"`
	Label     string   `toml:"label"`
	Help      string   `toml:"help"`
	Secret    bool     `toml:"secret"`
	Multiline bool     `toml:"multiline"`
	Options   []string `toml:"options"`
	// Optional inputs may be left empty; the plan says what empty means.
	Optional bool `toml:"optional"`
	// Confirms names the input this one repeats (a password typed twice);
	// the plan compares the two.
	Confirms string `toml:"confirms"`
}

// LoadProse reads a family's prose file and checks it is complete: every
// step has an id under the family, a section, a known group and kind, a
// title, a why and SRs, manual steps have an attestation, and every key
// in the file is one this type knows (a misspelt key is an error, not a
// silently missing caution).
func LoadProse(data []byte) (Prose, error) {
	var p Prose
	md, err := toml.Decode(string(data), &p)
	if err != nil {
		return Prose{}, fmt.Errorf("prose: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Prose{}, fmt.Errorf("prose: unknown keys %s", strings.Join(keys, ", "))
	}
	var errs []error
	if p.Family == "" || p.Guide == "" {
		errs = append(errs, errors.New("prose: family and guide are required"))
	}
	if len(p.Steps) == 0 {
		errs = append(errs, errors.New("prose: no [[step]]"))
	}
	seen := map[string]bool{}
	for i, s := range p.Steps {
		errs = append(errs, s.check(p.Family, i, seen)...)
	}
	return p, errors.Join(errs...)
}

func (s StepProse) check(family string, i int, seen map[string]bool) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("prose: step %d (%s): %s", i+1, s.ID, fmt.Sprintf(format, a...)))
	}
	switch {
	case !strings.HasPrefix(s.ID, family+"."):
		bad("the id does not start with %q", family+".")
	case seen[s.ID]:
		bad("the id is used twice")
	}
	seen[s.ID] = true
	if s.Section == "" {
		bad("no guide section")
	}
	if !slices.Contains(Groups, s.Group) {
		bad("group %q is not one of %s", s.Group, strings.Join(Groups, ", "))
	}
	switch s.Kind {
	case steps.Automatic:
		if s.Attest != "" {
			bad("an automatic step has no attestation")
		}
	case steps.Manual:
		if s.Attest == "" {
			bad("a manual step needs the attestation text")
		}
	default:
		bad("kind %q is neither %s nor %s", s.Kind, steps.Automatic, steps.Manual)
	}
	if s.Title == "" || s.Why == "" || len(s.SRs) == 0 {
		bad("title, why and srs are required")
	}
	keys := map[string]bool{}
	for _, in := range s.Inputs {
		if in.Key == "" || in.Label == "" || keys[in.Key] {
			bad("input %q: every input needs its own key and a label", in.Key)
		}
		keys[in.Key] = true
	}
	for _, in := range s.Inputs {
		if in.Confirms != "" && (!keys[in.Confirms] || in.Confirms == in.Key) {
			bad("input %q confirms %q, which is not another input of the step", in.Key, in.Confirms)
		}
	}
	return errs
}

// Code is one step's Go side: what the prose cannot say. Validate
// attaches a validator to an input by its key.
type Code[S any] struct {
	Check    func(S) steps.Finding
	Defaults func(S) steps.Values
	Plan     func(current S, in steps.Values) (steps.Plan[S], error)
	Evidence func(ctx context.Context, in steps.Values) (string, error)
	Validate map[string]func(string) error
}

// Build joins a family's prose to its code, keyed by step id, into the
// steps in the prose's order. It refuses a step with words but no code
// or code but no words, an automatic step without a check, a validator
// for an input the prose does not have, and an input that needs a
// validator and has none.
func Build[S any](p Prose, code map[string]Code[S]) ([]steps.Step[S], error) {
	var errs []error
	out := make([]steps.Step[S], 0, len(p.Steps))
	for _, sp := range p.Steps {
		c, ok := code[sp.ID]
		if !ok {
			errs = append(errs, fmt.Errorf("step %s is in the prose but has no code", sp.ID))
			continue
		}
		if sp.Kind == steps.Automatic && c.Check == nil {
			errs = append(errs, fmt.Errorf("step %s is automatic but its code has no check", sp.ID))
		}
		st := steps.Step[S]{Meta: steps.Meta{ID: sp.ID, Section: sp.Section, Group: sp.Group, Title: sp.Title, Why: sp.Why,
			SRs: slices.Clone(sp.SRs), Kind: sp.Kind, Attest: sp.Attest, Caution: sp.Caution},
			Check: c.Check, Defaults: c.Defaults, Plan: c.Plan, Evidence: c.Evidence}
		used := 0
		for _, ip := range sp.Inputs {
			in := steps.Input{Key: ip.Key, Label: ip.Label, Help: ip.Help, Secret: ip.Secret, Multiline: ip.Multiline,
				Options: slices.Clone(ip.Options)}
			if v, ok := c.Validate[ip.Key]; ok {
				in.Validate = v
				used++
			}
			if in.Validate == nil && !ip.Optional && len(ip.Options) == 0 && ip.Confirms == "" {
				errs = append(errs, fmt.Errorf("step %s: input %q is required, free text and has no validator in the code", sp.ID, ip.Key))
			}
			st.Inputs = append(st.Inputs, in)
		}
		if used != len(c.Validate) {
			for k := range c.Validate {
				if !slices.ContainsFunc(sp.Inputs, func(ip InputProse) bool { return ip.Key == k }) {
					errs = append(errs, fmt.Errorf("step %s: the code validates input %q, which the prose does not have", sp.ID, k))
				}
			}
		}
		out = append(out, st)
	}
	for _, id := range slices.Sorted(maps.Keys(code)) {
		if !slices.ContainsFunc(p.Steps, func(sp StepProse) bool { return sp.ID == id }) {
			errs = append(errs, fmt.Errorf("step %s has code but no prose", id))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
