// Package record turns a session's events into what outlives it: the
// session journal (synced after every step, so a session can resume), the
// versioned record.json, and the bundle around it.
package record

import (
	"encoding/json"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// Schema is the version tag of the record.json this tool writes.
// docs/record-schema.md documents it.
const Schema = "commission.record/v3"

// SchemaV2 is the version before Schema: records written with it are
// still read, checked and printed (they hold no input labels, so the
// PDF prints the inputs' keys), never written.
const SchemaV2 = "commission.record/v2"

// Readable reports whether a record with this schema tag is one the tool
// reads: Schema or SchemaV2.
func Readable(schema string) bool { return schema == Schema || schema == SchemaV2 }

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
	// Plan names the site plan the session's input values were filled
	// from, by its file name and SHA-256; nil when there was none.
	Plan     *Plan     `json:"plan,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Simulated is true when the device was one of the tool's own
	// simulators (commission demo): such a record is not a commissioning
	// record, whatever its steps say.
	Simulated bool `json:"simulated,omitempty"`
	// Status is what the record as a whole says: commissioned,
	// incomplete or simulated (see StatusOf).
	Status  Status         `json:"status"`
	Steps   []Step         `json:"steps"`
	Summary map[string]int `json:"summary"` // outcome -> count
	// Restarted is when the device was last restarted (Save/Restart) to
	// make the changes effective; zero if it was not.
	Restarted time.Time `json:"restarted,omitzero"`
	// Observations is the device state the session's last read produced,
	// from which every automatic step's outcome can be computed again.
	Observations *Observations `json:"observations,omitempty"`
	// Acceptance is the plant's acceptance of the record (its person's
	// name and role); the signature and date go on paper.
	Acceptance *Acceptance `json:"acceptance,omitempty"`
	// Signer is the identity and key that signed the record; verify
	// checks the signature's key against it and the plant's
	// allowed_signers against both.
	Signer   *Signer    `json:"signer,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Status values.
const (
	StatusCommissioned = "commissioned" // every step closed
	StatusIncomplete   = "incomplete"   // at least one step open
	StatusSimulated    = "simulated"    // a simulated device: not a commissioning record
)

// Status is the record's overall status.
type Status struct {
	State   string   `json:"state"`          // StatusCommissioned, StatusIncomplete or StatusSimulated
	Waivers int      `json:"waivers"`        // number of waived steps
	Open    []string `json:"open,omitempty"` // ids of the steps not closed, in catalog order
	// Reason is why the technician signed a record with open steps; a
	// wizard record that is incomplete needs one.
	Reason string `json:"reason,omitempty"`
}

// Observations is a snapshot of the device state the checks ran on.
type Observations struct {
	At    time.Time       `json:"at"`    // when the snapshot was taken for the record; the state is the session's last read
	State json.RawMessage `json:"state"` // the family's State as JSON; secrets excluded (json:"-")
}

// Plan names a site plan (docs/site-plan.md) by the name of its file, as
// the technician gave it, and the SHA-256 of its bytes. A plan holds no
// secret, and the record keeps no value of it beyond what the steps'
// inputs show.
type Plan struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"` // lower-case hex, siteplan.Digest
}

// Acceptance names the plant's person who accepts the commissioning.
type Acceptance struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
}

// Signer is who signed the record: the allowed_signers identity and the
// key's fingerprint ("SHA256:…").
type Signer struct {
	Identity    string `json:"identity"`
	KeyType     string `json:"key_type"`
	Fingerprint string `json:"fingerprint"`
}

// Waiver says who approved a waived step and until when it holds.
type Waiver struct {
	Approver string `json:"approver"`
	Expires  string `json:"expires,omitempty"` // YYYY-MM-DD; empty: no expiry
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
	ID      string         `json:"id"`
	Guide   string         `json:"guide"` // guide section
	Title   string         `json:"title"`
	Kind    steps.Kind     `json:"kind"`
	SRs     []string       `json:"srs"`
	Outcome steps.Outcome  `json:"outcome"`
	Reason  string         `json:"reason,omitempty"`
	Before  *steps.Finding `json:"before,omitempty"`
	After   *steps.Finding `json:"after,omitempty"`
	Changes []steps.Change `json:"changes,omitempty"`
	Inputs  steps.Values   `json:"inputs,omitempty"`
	// InputLabels gives, per key of Inputs, the wording the catalog
	// asked for that input with (steps.Input.Label) when the record was
	// made, so the printed record reads as the technician was asked,
	// whatever later catalogs say. A key without a label prints as
	// itself; a v2 record has none.
	InputLabels map[string]string `json:"input_labels,omitempty"`
	// FromPlan names the inputs whose value is the one the site plan
	// gave; ChangedInField those the plan gave and the technician
	// changed. Names only, sorted; each is a key of Inputs.
	FromPlan       []string  `json:"from_plan,omitempty"`
	ChangedInField []string  `json:"changed_in_field,omitempty"`
	Evidence       string    `json:"evidence,omitempty"`
	Waiver         *Waiver   `json:"waiver,omitempty"` // for waived steps: approver and expiry
	At             time.Time `json:"at"`
}

// Evidence is a file in the bundle's evidence folder, named by its digest.
type Evidence struct {
	Name        string `json:"name"`   // path relative to the bundle, e.g. "evidence/tls-443.pem"
	SHA256      string `json:"sha256"` // hex
	Description string `json:"description"`
	// CertSHA256 is, for a PEM certificate file, the SHA-256 of the
	// certificate's DER bytes (its fingerprint as browsers show it).
	CertSHA256 string `json:"cert_sha256,omitempty"`
}
