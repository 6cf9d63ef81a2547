package record

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// sessionRecord runs a real session and builds its record.
func sessionRecord(t *testing.T) (Record, []steps.Meta) {
	t.Helper()
	started := time.Now()
	s, err := runSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := metas(fakeCatalog())
	r := Build(Meta{
		Tool:       Tool{Name: "commission", Version: "test"},
		Mode:       ModeWizard,
		Device:     devices.Identity{Family: "fake", Model: "F-1", Address: "127.0.0.1"},
		Guide:      "Fake hardening guide v1",
		Technician: Technician{Name: "Ada <a@example.org>"},
		Site:       "Plant 7 & Co",
		Started:    started,
		Finished:   time.Now(),
	}, s.Results(), cat)
	return r, cat
}

func TestBuild(t *testing.T) {
	r, cat := sessionRecord(t)
	if r.Schema != Schema || len(r.ID) != 32 {
		t.Fatalf("schema %q id %q", r.Schema, r.ID)
	}
	var ids []string
	for _, s := range r.Steps {
		ids = append(ids, s.ID)
	}
	if want := []string{"fake.1.telnet", "fake.2.http", "fake.3.firmware", "fake.4.compliant"}; !slices.Equal(ids, want) {
		t.Fatalf("steps %v, want catalog order %v", ids, want)
	}
	tel := r.Steps[0]
	if tel.Outcome != steps.Fixed || tel.Guide != "1" || tel.Title != "Disable telnet" || tel.Kind != steps.Automatic ||
		!slices.Equal(tel.SRs, []string{"SR 7.7"}) || tel.Before == nil || tel.After == nil || len(tel.Changes) != 1 ||
		tel.Inputs["note"] != "<ok & done>" || tel.At.IsZero() {
		t.Errorf("telnet step %+v", tel)
	}
	if r.Steps[1].Outcome != steps.Waived || r.Steps[1].Reason == "" {
		t.Errorf("http step %+v, want waived with its reason", r.Steps[1])
	}
	if r.Steps[2].Outcome != steps.Attested || !strings.Contains(r.Steps[2].Evidence, "checked the vendor page") {
		t.Errorf("firmware step %+v, want attested with the note", r.Steps[2])
	}
	want := map[string]int{"fixed": 1, "waived": 1, "attested": 1, "compliant": 1}
	if len(r.Summary) != len(want) {
		t.Errorf("summary %v, want %v", r.Summary, want)
	}
	for k, v := range want {
		if r.Summary[k] != v {
			t.Errorf("summary %v, want %v", r.Summary, want)
		}
	}
	if errs := Check(r, cat); len(errs) != 0 {
		t.Errorf("a record built from a real session fails Check: %v", errs)
	}

	// A catalog step without a result is pending; a result outside the catalog is kept for Check to catch.
	r2 := Build(Meta{ID: "x"}, []steps.Result{{StepID: "other", Outcome: steps.Compliant}}, cat[:1])
	if len(r2.Steps) != 2 || r2.Steps[0].Outcome != steps.Pending || r2.Steps[1].ID != "other" || r2.ID != "x" {
		t.Errorf("build with gaps: %+v", r2.Steps)
	}
}

func TestMarshalDeterministic(t *testing.T) {
	r, _ := sessionRecord(t)
	a, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two marshals of the same record differ")
	}
	if !bytes.HasSuffix(a, []byte("}\n")) || bytes.HasSuffix(a, []byte("\n\n")) || bytes.Contains(a, []byte("\r")) {
		t.Error("record does not end in exactly one LF, or has CR")
	}
	if !bytes.Contains(a, []byte("\n  \"schema\": \"commission.record/v3\",\n")) {
		t.Errorf("not two-space indented:\n%.200s", a)
	}
	if bytes.Contains(a, []byte(`\u003c`)) || !bytes.Contains(a, []byte(`Plant 7 & Co`)) {
		t.Error("HTML escaping is on")
	}
	// Times: UTC, whole seconds.
	var raw struct {
		Started string
		Steps   []struct{ At string }
	}
	if err := json.Unmarshal(a, &raw); err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{raw.Started}, raw.Steps[0].At) {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil || !strings.HasSuffix(s, "Z") || strings.Contains(s, ".") || tm.Nanosecond() != 0 {
			t.Errorf("time %q is not UTC RFC 3339 in whole seconds", s)
		}
	}
	// Written, loaded back and marshalled again: the same bytes.
	p := filepath.Join(t.TempDir(), "record.json")
	if err := WriteFileAtomic(p, a, 0o644); err != nil {
		t.Fatal(err)
	}
	back, raw2, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw2, a) {
		t.Fatal("Load did not return the file's bytes")
	}
	c, err := Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c, a) {
		t.Fatalf("load + marshal changed the bytes:\n%s\nvs\n%s", c, a)
	}
}

func TestMarshalTruncatesToSeconds(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	r := Record{Schema: Schema, Started: time.Date(2026, 11, 22, 12, 0, 0, 999_999_999, loc),
		Steps: []Step{{ID: "a", At: time.Date(2026, 11, 22, 12, 0, 1, 5, loc)}}}
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"started": "2026-11-22T10:00:00Z"`, `"at": "2026-11-22T10:00:01Z"`, `"srs": []`, `"summary": {}`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("marshalled record lacks %s:\n%s", want, b)
		}
	}
	if r.Steps[0].At.Nanosecond() != 5 {
		t.Error("Marshal changed the caller's steps")
	}
}

func TestCheck(t *testing.T) {
	good, cat := sessionRecord(t)
	if errs := Check(good, cat); len(errs) != 0 {
		t.Fatalf("good record: %v", errs)
	}
	clone := func() Record {
		r := good
		r.Steps = slices.Clone(good.Steps)
		r.Summary = map[string]int{}
		for k, v := range good.Summary {
			r.Summary[k] = v
		}
		return r
	}
	cases := []struct {
		name string
		edit func(*Record)
		want string
	}{
		{"missing step", func(r *Record) {
			r.Steps = slices.Delete(r.Steps, 3, 4)
			r.Summary["compliant"]--
		}, "step fake.4.compliant: missing"},
		{"waiver without reason", func(r *Record) { r.Steps[1].Reason = "  " }, "step fake.2.http: waived without a reason"},
		{"duplicate", func(r *Record) {
			r.Steps = append(r.Steps, r.Steps[3])
			r.Summary["compliant"]++
		}, "step fake.4.compliant: present more than once"},
		{"unknown step", func(r *Record) {
			r.Steps = append(r.Steps, Step{ID: "fake.9.ghost", Outcome: steps.Compliant, At: r.Steps[0].At})
			r.Summary["compliant"]++
		}, "step fake.9.ghost: not in the catalog"},
		{"attested without evidence", func(r *Record) { r.Steps[2].Evidence = "" }, "step fake.3.firmware: attested without evidence"},
		{"fixed without fresh read", func(r *Record) { r.Steps[0].After = nil }, "step fake.1.telnet: fixed without a fresh read"},
		{"not applicable without reason", func(r *Record) {
			r.Steps[3].Outcome = steps.NotApplicable
			r.Summary["compliant"]--
			r.Summary["not_applicable"]++
		}, "step fake.4.compliant: not applicable without a reason"},
		{"wrong schema", func(r *Record) { r.Schema = "commission.record/v0" }, "schema is"},
		{"summary off", func(r *Record) { r.Summary["fixed"] = 2 }, "summary: fixed is 2"},
		{"time before start", func(r *Record) { r.Steps[0].At = r.Started.Add(-time.Hour) }, "step fake.1.telnet: time"},
		{"finished before started", func(r *Record) { r.Finished = r.Started.Add(-time.Hour) }, "finished"},
		{"unknown outcome", func(r *Record) {
			r.Steps[3].Outcome = "great"
			r.Summary["compliant"]--
			r.Summary["great"]++
		}, `step fake.4.compliant: unknown outcome "great"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := clone()
			c.edit(&r)
			errs := Check(r, cat)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, c.want) }) {
				t.Errorf("Check = %q, want a message containing %q", msgs, c.want)
			}
		})
	}
}

func TestLoadStrict(t *testing.T) {
	dir := t.TempDir()
	r, _ := sessionRecord(t)
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	unknown := bytes.Replace(b, []byte(`"schema":`), []byte(`"extra": 1, "schema":`), 1)
	p := filepath.Join(dir, "unknown.json")
	os.WriteFile(p, unknown, 0o600)
	if _, _, err := Load(p); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown field: err = %v", err)
	}
	p = filepath.Join(dir, "trailing.json")
	os.WriteFile(p, append(slices.Clone(b), []byte("{}\n")...), 0o600)
	if _, _, err := Load(p); err == nil {
		t.Error("trailing data accepted")
	}
	if _, _, err := Load(filepath.Join(dir, "none.json")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "record.json")
	if err := WriteFileAtomic(p, []byte("one\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "two\n" {
		t.Fatalf("content %q, %v", got, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, want 0640", fi.Mode().Perm())
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "dir", "r.json"), []byte("x"), 0o600); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// No byte the package writes holds a secret, even when an event carries
// one in a secret-named input.
func TestNoSecretIsWritten(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(t, dir, time.Now())
	started := time.Now()
	s, err := runSession(j)
	if err != nil {
		t.Fatal(err)
	}
	// An event that carries the password under every secret-looking name.
	leaky := steps.Result{StepID: "fake.1.telnet", Outcome: steps.Fixed, At: time.Now(), Inputs: steps.Values{
		"admin_password": testPassword, "New Secret": testPassword, "passphrase": testPassword,
		"snmp_community": testPassword, "ssh_key": testPassword, "API_KEY": testPassword, "note": "visible",
	}}
	j.Report(steps.Event{Time: time.Now(), Kind: steps.StepDecided, StepID: leaky.StepID, Result: &leaky})
	s.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	results := append(s.Results(), leaky)
	r := Build(Meta{Mode: ModeWizard, Started: started, Finished: time.Now()}, results, metas(fakeCatalog()))
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "record.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, rs, err := Replay(j.Path()); err != nil || len(rs) == 0 {
		t.Fatalf("replay: %v", err)
	}

	files := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(testPassword)) {
			t.Errorf("%s contains the test password", filepath.Base(p))
		}
		if !bytes.Contains(data, []byte(`"note":"visible"`)) && !bytes.Contains(data, []byte(`"note": "visible"`)) {
			t.Errorf("%s lost the non-secret input too", filepath.Base(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 2 {
		t.Fatalf("walked %d files, want the journal and the record", files)
	}
}
