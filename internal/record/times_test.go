package record

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// timedRecord is a real session's record with a restart and observations,
// every time in order: Started, the steps, the restart, the observations,
// Finished.
func timedRecord(t *testing.T) Record {
	t.Helper()
	r, _ := sessionRecord(t)
	last := r.Started
	for _, s := range r.Steps {
		if s.At.After(last) {
			last = s.At
		}
	}
	r.Restarted = last.Add(time.Second)
	r.Observations = &Observations{At: last.Add(2 * time.Second), State: json.RawMessage(`{}`)}
	r.Finished = last.Add(3 * time.Second)
	if msgs := messages(r); len(msgs) != 0 {
		t.Fatalf("the record in order: %q", msgs)
	}
	return r
}

// messages is what Check says of r.
func messages(r Record) []string {
	var msgs []string
	for _, e := range Check(r, metas(fakeCatalog())) {
		msgs = append(msgs, e.Error())
	}
	return msgs
}

// TestCheckRefusesTimesOutOfOrder: each kind of time the record holds is
// refused after Finished or before Started, in a message that names what
// the time belongs to and both times as the record holds them.
func TestCheckRefusesTimesOutOfOrder(t *testing.T) {
	good := timedRecord(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	started, finished := at("2026-12-02T01:15:10Z"), at("2026-12-02T01:15:10.5Z")
	cases := []struct {
		name string
		edit func(*Record)
		want string
	}{
		{"finished before started", func(r *Record) { r.Started, r.Finished = finished, started },
			"finished (2026-12-02T01:15:10Z) before started (2026-12-02T01:15:10.5Z)"},
		{"step after finished", func(r *Record) { r.Steps[1].At = finished.Add(time.Second) },
			"step fake.2.http: time 2026-12-02T01:15:11.5Z after finished (2026-12-02T01:15:10.5Z)"},
		{"step before started", func(r *Record) { r.Steps[2].At = started.Add(-time.Second) },
			"step fake.3.firmware: time 2026-12-02T01:15:09Z before started (2026-12-02T01:15:10Z)"},
		{"step a nanosecond after finished", func(r *Record) { r.Steps[0].At = finished.Add(time.Nanosecond) },
			"step fake.1.telnet: time 2026-12-02T01:15:10.500000001Z after finished (2026-12-02T01:15:10.5Z)"},
		{"restart after finished", func(r *Record) { r.Restarted = finished.Add(time.Second) },
			"restart: time 2026-12-02T01:15:11.5Z after finished (2026-12-02T01:15:10.5Z)"},
		{"restart before started", func(r *Record) { r.Restarted = started.Add(-time.Minute) },
			"restart: time 2026-12-02T01:14:10Z before started (2026-12-02T01:15:10Z)"},
		{"observations after finished", func(r *Record) { r.Observations.At = finished.Add(time.Second) },
			"observations: taken at 2026-12-02T01:15:11.5Z after finished (2026-12-02T01:15:10.5Z)"},
		{"observations before started", func(r *Record) { r.Observations.At = started.Add(-time.Second) },
			"observations: taken at 2026-12-02T01:15:09Z before started (2026-12-02T01:15:10Z)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good
			r.Steps = slices.Clone(good.Steps)
			o := *good.Observations
			r.Observations = &o
			// Every time in the session, so only the edit is out of order.
			r.Started, r.Finished = started, finished
			for i := range r.Steps {
				r.Steps[i].At = started
			}
			r.Restarted, r.Observations.At = finished, finished
			if msgs := messages(r); len(msgs) != 0 {
				t.Fatalf("before the edit: %q", msgs)
			}
			c.edit(&r)
			msgs := messages(r)
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, c.want) }) {
				t.Errorf("Check = %q, want a message containing %q", msgs, c.want)
			}
		})
	}
}

// TestCheckKeepsTimesInOrder: equal times are in order, whether in
// memory to the nanosecond or as a written record holds them (whole
// seconds, where a session's times often are all one second).
func TestCheckKeepsTimesInOrder(t *testing.T) {
	r := timedRecord(t)
	same := time.Date(2026, 12, 2, 1, 15, 10, 0, time.UTC)
	r.Started, r.Finished, r.Restarted, r.Observations.At = same, same, same, same
	for i := range r.Steps {
		r.Steps[i].At = same
	}
	if msgs := messages(r); len(msgs) != 0 {
		t.Fatalf("one second for everything: %q", msgs)
	}

	// A session within one second, in order to the nanosecond, is
	// consistent in memory and as written.
	r.Started = same.Add(100 * time.Millisecond)
	for i := range r.Steps {
		r.Steps[i].At = same.Add(time.Duration(200+i) * time.Millisecond)
	}
	r.Restarted = same.Add(300 * time.Millisecond)
	r.Observations.At = same.Add(400 * time.Millisecond)
	r.Finished = same.Add(500 * time.Millisecond)
	if msgs := messages(r); len(msgs) != 0 {
		t.Fatalf("in memory: %q", msgs)
	}
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "record.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, _, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if msgs := messages(back); len(msgs) != 0 {
		t.Fatalf("as written: %q", msgs)
	}
}
