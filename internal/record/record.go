// Package record turns a session's events into what outlives it: the
// session journal (synced after every step, so a session can resume), the
// versioned record.json, and the bundle around it.
package record

import (
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// Schema is the version tag of record.json. docs/record-schema.md documents it.
const Schema = "commission.record/v1"

// Record is the commissioning record of one device. It holds no secret:
// secret inputs are dropped by the engine before they reach a Result.
type Record struct {
	Schema     string           `json:"schema"`
	ID         string           `json:"id"` // random, hex
	Tool       Tool             `json:"tool"`
	Mode       string           `json:"mode"` // "wizard" or "audit"
	Device     devices.Identity `json:"device"`
	Guide      string           `json:"guide"`
	Technician Technician       `json:"technician"`
	Site       string           `json:"site,omitempty"`
	Started    time.Time        `json:"started"`
	Finished   time.Time        `json:"finished"`
	Steps      []Step           `json:"steps"`
	Summary    map[string]int   `json:"summary"` // outcome -> count
	Evidence   []Evidence       `json:"evidence,omitempty"`
}

// Tool names the program that made the record.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Technician is who commissioned the device.
type Technician struct {
	Name    string `json:"name"`
	Company string `json:"company,omitempty"`
	Email   string `json:"email,omitempty"`
}

// Step is one step's outcome with its evidence.
type Step struct {
	ID       string         `json:"id"`
	Guide    string         `json:"guide"` // guide section
	Title    string         `json:"title"`
	Kind     steps.Kind     `json:"kind"`
	SRs      []string       `json:"srs"`
	Outcome  steps.Outcome  `json:"outcome"`
	Reason   string         `json:"reason,omitempty"`
	Before   *steps.Finding `json:"before,omitempty"`
	After    *steps.Finding `json:"after,omitempty"`
	Changes  []steps.Change `json:"changes,omitempty"`
	Inputs   steps.Values   `json:"inputs,omitempty"`
	Evidence string         `json:"evidence,omitempty"`
	At       time.Time      `json:"at"`
}

// Evidence is a file in the bundle's evidence folder, named by its digest.
type Evidence struct {
	Name        string `json:"name"`   // path relative to the bundle, e.g. "evidence/tls-443.pem"
	SHA256      string `json:"sha256"` // hex
	Description string `json:"description"`
}
