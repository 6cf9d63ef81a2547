package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/commission-tool/commission/internal/steps"
)

// maxObservations bounds the observations Recheck decodes.
const maxObservations = 8 << 20

// Recheck decodes a record's observations (the family's State as JSON,
// see steps.Session.Observations) and runs every step's check on it
// again: the finding per step id, for the steps that have a check. A
// field the State does not know is an error, so observations edited into
// another shape are not silently ignored.
func Recheck[S any](c steps.Catalog[S], raw json.RawMessage) (map[string]steps.Finding, error) {
	if len(raw) > maxObservations {
		return nil, fmt.Errorf("recheck: observations larger than %d bytes", maxObservations)
	}
	var st S
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("recheck: the observations are not a %s device state: %w", c.Family, err)
	}
	out := make(map[string]steps.Finding, len(c.Steps))
	for _, step := range c.Steps {
		if step.Check == nil {
			continue
		}
		out[step.ID] = step.Check(st)
	}
	return out, nil
}
