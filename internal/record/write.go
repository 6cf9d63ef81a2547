package record

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/commission-tool/commission/internal/steps"
)

// MaxRecordSize bounds a record.json that Load reads.
const MaxRecordSize = 16 << 20

// Marshal serialises a record deterministically: encoding/json in struct
// field order, map keys sorted, two-space indent, LF line ends and one
// trailing LF, no HTML escaping. Every time is written in UTC as RFC 3339
// truncated to whole seconds. Nil lists are written as [] and a nil
// summary as {}, so a record loaded back marshals to the same bytes.
func Marshal(r Record) ([]byte, error) {
	r = normalize(r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("marshal record: %w", err)
	}
	return buf.Bytes(), nil
}

// stamp is a time as the record holds it.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// normalize returns a copy of r with its times stamped and its nil lists
// made empty. r's own slices are not touched.
func normalize(r Record) Record {
	r.Started, r.Finished = stamp(r.Started), stamp(r.Finished)
	if !r.Restarted.IsZero() {
		r.Restarted = stamp(r.Restarted)
	}
	if r.Observations != nil {
		o := *r.Observations
		o.At = stamp(o.At)
		r.Observations = &o
	}
	st := make([]Step, len(r.Steps))
	for i, s := range r.Steps {
		s.At = stamp(s.At)
		if s.SRs == nil {
			s.SRs = []string{}
		}
		st[i] = s
	}
	r.Steps = st
	if r.Summary == nil {
		r.Summary = map[string]int{}
	}
	return r
}

// WriteFileAtomic writes data to path so that a reader sees either the old
// file or the whole new one: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory where
// the OS allows.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", base, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	return nil
}

// Load reads a record.json strictly: a field the schema does not know,
// trailing data or a file over MaxRecordSize is an error. It returns the
// record and the file's exact bytes (what a signature covers).
func Load(path string) (Record, []byte, error) {
	// Opened without blocking, so a FIFO in its place cannot hang the
	// reader; only a regular file is read.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return Record{}, nil, fmt.Errorf("load record: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return Record{}, nil, fmt.Errorf("load record: %w", err)
	} else if !fi.Mode().IsRegular() {
		return Record{}, nil, fmt.Errorf("load record: %s is not a regular file", filepath.Base(path))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
	if err != nil {
		return Record{}, nil, fmt.Errorf("load record: %w", err)
	}
	if len(data) > MaxRecordSize {
		return Record{}, nil, fmt.Errorf("load record: %s is larger than %d bytes", filepath.Base(path), MaxRecordSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return Record{}, nil, fmt.Errorf("load record: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Record{}, nil, errors.New("load record: trailing data after the record")
	}
	return r, data, nil
}

// knownOutcomes are the outcomes a record may hold.
var knownOutcomes = map[steps.Outcome]bool{
	steps.Pending: true, steps.Compliant: true, steps.Deviation: true, steps.Staged: true,
	steps.Fixed: true, steps.Waived: true, steps.NotApplicable: true, steps.Attested: true,
	steps.ManualPending: true, steps.Failed: true, steps.Error: true,
}

// Check reports every inconsistency of r against the catalog it claims to
// follow: a wrong schema tag or id, a catalog step missing or present
// twice, a step the catalog does not hold, an unknown outcome, a waived,
// not-applicable, failed or error step without a reason, an attested step
// without evidence or note, a fixed step without a compliant fresh read,
// times out of order (CheckTimes), and a summary that does not match the
// steps. Each message names the step it is about. No error means
// consistent.
func Check(r Record, catalog []steps.Meta) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if !Readable(r.Schema) {
		add("schema is %q, want %q or %q", r.Schema, Schema, SchemaV2)
	}
	if b, err := hex.DecodeString(r.ID); err != nil || len(b) != 16 {
		add("id %q is not 32 hex digits", r.ID)
	}
	if r.Mode != ModeWizard && r.Mode != ModeAudit {
		add("mode is %q, want %q or %q", r.Mode, ModeWizard, ModeAudit)
	}
	errs = append(errs, CheckTimes(r)...)

	cat := make(map[string]steps.Meta, len(catalog))
	for _, m := range catalog {
		cat[m.ID] = m
	}
	count := map[string]int{}
	summary := map[string]int{}
	for _, s := range r.Steps {
		count[s.ID]++
		summary[string(s.Outcome)]++
		m, ok := cat[s.ID]
		switch {
		case !ok:
			add("step %s: not in the catalog", s.ID)
		case count[s.ID] == 2:
			add("step %s: present more than once", s.ID)
		}
		if ok && s.Kind != m.Kind {
			add("step %s: kind is %q, the catalog says %q", s.ID, s.Kind, m.Kind)
		}
		if !knownOutcomes[s.Outcome] {
			add("step %s: unknown outcome %q", s.ID, s.Outcome)
		}
		if s.Outcome.NeedsReason() && strings.TrimSpace(s.Reason) == "" {
			add("step %s: %s without a reason", s.ID, strings.ReplaceAll(string(s.Outcome), "_", " "))
		}
		if s.Outcome == steps.Attested && strings.TrimSpace(s.Evidence) == "" {
			add("step %s: attested without evidence or a note", s.ID)
		}
		if s.Outcome == steps.Fixed && (s.After == nil || !s.After.Compliant) {
			add("step %s: fixed without a fresh read that shows it compliant", s.ID)
		}
		if s.Outcome != steps.Pending && s.At.IsZero() {
			add("step %s: time is missing", s.ID)
		}
		errs = append(errs, checkMarks(r, s)...)
		errs = append(errs, checkLabels(r, s)...)
	}
	for _, m := range catalog {
		if count[m.ID] == 0 {
			add("step %s: missing", m.ID)
		}
	}
	for _, o := range slices.Sorted(maps.Keys(summary)) {
		if r.Summary[o] != summary[o] {
			add("summary: %s is %d, the steps say %d", o, r.Summary[o], summary[o])
		}
	}
	for _, o := range slices.Sorted(maps.Keys(r.Summary)) {
		if _, ok := summary[o]; !ok && r.Summary[o] != 0 {
			add("summary: %s is %d, the steps say 0", o, r.Summary[o])
		}
	}
	errs = append(errs, checkStatus(r)...)
	if p := r.Plan; p != nil {
		if strings.TrimSpace(p.Name) == "" {
			add("plan: no file name")
		}
		if !validDigest(p.SHA256) {
			add("plan: sha256 %q is not 64 lower-case hex digits", p.SHA256)
		}
	}
	if o := r.Observations; o != nil {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(o.State, &obj); err != nil {
			add("observations: the state is not a JSON object: %v", err)
		}
	}
	return errs
}

// parseDate reads a YYYY-MM-DD date.
func parseDate(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }
