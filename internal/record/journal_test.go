package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/steps"
)

func newJournal(t *testing.T, dir string, started time.Time) *Journal {
	t.Helper()
	j, err := CreateJournal(dir, Header{Family: "fake", Address: "127.0.0.1", Guide: "Fake guide", Started: started})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("journal does not end with a newline: %q", b)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestCreateJournalHeaderAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	j := newJournal(t, dir, t0)
	ls := lines(t, j.Path())
	if len(ls) != 1 {
		t.Fatalf("new journal has %d lines, want the header only", len(ls))
	}
	var h map[string]any
	if err := json.Unmarshal([]byte(ls[0]), &h); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"journal": JournalSchema, "family": "fake", "address": "127.0.0.1",
		"guide": "Fake guide", "started": "2026-11-22T10:00:00Z", "session": j.Header().Session} {
		if h[k] != want {
			t.Errorf("header %s = %v, want %v", k, h[k], want)
		}
	}
	if len(j.Header().Session) != 32 {
		t.Errorf("session id %q is not 32 hex digits", j.Header().Session)
	}
	if !strings.Contains(filepath.Base(j.Path()), j.Header().Session) {
		t.Errorf("file name %s does not carry the session id", j.Path())
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(j.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
		}
	}
}

// Every Report is on disk when it returns: reopen the file after each one.
func TestJournalWrittenPerEvent(t *testing.T) {
	j := newJournal(t, t.TempDir(), t0)
	var got []steps.Event
	rep := steps.ReporterFunc(func(e steps.Event) {
		j.Report(e)
		got = append(got, e)
		ls := lines(t, j.Path())
		if len(ls) != len(got)+1 {
			t.Fatalf("after %d events the file has %d lines, want %d", len(got), len(ls), len(got)+1)
		}
		var back steps.Event
		if err := json.Unmarshal([]byte(ls[len(ls)-1]), &back); err != nil {
			t.Fatalf("last line: %v", err)
		}
		if back.Kind != e.Kind || back.StepID != e.StepID || !back.Time.Equal(e.Time) {
			t.Fatalf("last line is %+v, want the event just reported %+v", back, e)
		}
	})
	s, err := runSession(rep)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(got) < 8 {
		t.Fatalf("session reported only %d events", len(got))
	}
	if err := j.Err(); err != nil {
		t.Fatal(err)
	}
}

// A crash mid-write leaves a torn last line: Replay ignores it, and
// OpenJournal cuts it off so that appending goes on cleanly.
func TestReplayToleratesTornLastLine(t *testing.T) {
	j := newJournal(t, t.TempDir(), t0)
	ev := func(id string, o steps.Outcome, min int) steps.Event {
		return steps.Event{Time: t0.Add(time.Duration(min) * time.Minute), Kind: steps.StepChecked, StepID: id,
			Result: &steps.Result{StepID: id, Outcome: o, At: t0.Add(time.Duration(min) * time.Minute)}}
	}
	j.Report(ev("a", steps.Deviation, 1))
	j.Report(ev("b", steps.Compliant, 2))
	j.Report(ev("a", steps.Fixed, 3))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	// Cut the last line (a -> fixed) in its middle.
	last := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
	cut := last + (len(full)-last)/2
	if err := os.WriteFile(j.Path(), full[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	_, rs, err := Replay(j.Path())
	if err != nil {
		t.Fatalf("replay of a torn journal: %v", err)
	}
	if len(rs) != 2 || rs[0].StepID != "a" || rs[0].Outcome != steps.Deviation || rs[1].Outcome != steps.Compliant {
		t.Fatalf("replay = %+v, want a deviation (the torn fixed line dropped) and b compliant", rs)
	}

	j2, err := OpenJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	j2.Report(ev("a", steps.Waived, 4))
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	h, rs, err := Replay(j.Path())
	if err != nil {
		t.Fatalf("replay after resume: %v", err)
	}
	if h.Session != j.Header().Session {
		t.Errorf("header session %q, want %q", h.Session, j.Header().Session)
	}
	if len(rs) != 2 || rs[0].Outcome != steps.Waived {
		t.Fatalf("replay after resume = %+v, want a waived", rs)
	}
	if n := len(lines(t, j.Path())); n != 4 {
		t.Errorf("journal has %d lines after repair and one more event, want 4", n)
	}
}

func TestReplayRejectsCorruptMiddleLine(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(t, dir, t0)
	j.Report(steps.Event{Time: t0, Kind: steps.SessionOpened})
	j.Close()
	f, err := os.OpenFile(j.Path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{not json\n")
	f.WriteString(`{"time":"2026-11-22T10:00:00Z","kind":"session.closed"}` + "\n")
	f.Close()
	if _, _, err := Replay(j.Path()); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("replay of a journal with a bad middle line: err = %v, want one naming line 3", err)
	}
	// And a file that is not a journal at all.
	other := filepath.Join(dir, "x.jsonl")
	os.WriteFile(other, []byte(`{"journal":"something/v9"}`+"\n"), 0o600)
	if _, _, err := Replay(other); err == nil {
		t.Fatal("replay accepted a file with another schema tag")
	}
}

func TestFindUnfinished(t *testing.T) {
	dir := t.TempDir()
	mk := func(started time.Time, evs ...steps.Event) *Journal {
		j := newJournal(t, dir, started)
		for _, e := range evs {
			j.Report(e)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		return j
	}
	res := func(id string, o steps.Outcome) *steps.Result { return &steps.Result{StepID: id, Outcome: o} }
	older := mk(t0,
		steps.Event{Time: t0.Add(time.Minute), Kind: steps.StepChecked, StepID: "a", Result: res("a", steps.Deviation)},
		steps.Event{Time: t0.Add(50 * time.Minute), Kind: steps.StepChecked, StepID: "b", Result: res("b", steps.Compliant)},
	)
	newer := mk(t0.Add(time.Hour),
		steps.Event{Time: t0.Add(61 * time.Minute), Kind: steps.StepChecked, StepID: "a", Result: res("a", steps.Deviation)},
		steps.Event{Time: t0.Add(62 * time.Minute), Kind: steps.StepDecided, StepID: "a", Result: res("a", steps.Waived)},
		steps.Event{Time: t0.Add(63 * time.Minute), Kind: steps.StepChecked, StepID: "b", Result: res("b", steps.Fixed)},
		steps.Event{Time: t0.Add(64 * time.Minute), Kind: steps.StepChecked, StepID: "c", Result: res("c", steps.Failed)},
	)
	mk(t0.Add(2*time.Hour), // closed: not listed
		steps.Event{Time: t0.Add(121 * time.Minute), Kind: steps.StepChecked, StepID: "a", Result: res("a", steps.Compliant)},
		steps.Event{Time: t0.Add(122 * time.Minute), Kind: steps.SessionClosed},
	)
	empty := mk(t0.Add(-time.Hour)) // header only
	os.WriteFile(filepath.Join(dir, "garbage.jsonl"), []byte("hello\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)

	got, err := FindUnfinished(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("found %d unfinished, want 3 and the damaged one: %+v", len(got), got)
	}
	// The file that is not a journal is reported with its path, last.
	if g := got[3]; g.Path != filepath.Join(dir, "garbage.jsonl") || g.Damage == nil || g.Damage.Line != 1 ||
		!strings.Contains(g.Damage.Error(), g.Path) {
		t.Errorf("damaged entry = %+v, want garbage.jsonl damaged in its header, naming its path", g)
	}
	want := []struct {
		path           string
		steps, decided int
		last           time.Time
	}{
		{newer.Path(), 3, 2, t0.Add(64 * time.Minute)},
		{older.Path(), 2, 1, t0.Add(50 * time.Minute)},
		{empty.Path(), 0, 0, t0.Add(-time.Hour)},
	}
	for i, w := range want {
		g := got[i]
		if g.Path != w.path || g.Steps != w.steps || g.Decided != w.decided || !g.Last.Equal(w.last) {
			t.Errorf("unfinished[%d] = %s steps %d decided %d last %s; want %s %d %d %s",
				i, filepath.Base(g.Path), g.Steps, g.Decided, g.Last, filepath.Base(w.path), w.steps, w.decided, w.last)
		}
		if g.Damage != nil {
			t.Errorf("unfinished[%d] reported damaged: %v", i, g.Damage)
		}
		if g.Header.Family != "fake" || g.Header.Journal != JournalSchema {
			t.Errorf("unfinished[%d] header = %+v", i, g.Header)
		}
	}

	none, err := FindUnfinished(filepath.Join(dir, "missing"))
	if err != nil || len(none) != 0 {
		t.Fatalf("missing dir: %v, %v", none, err)
	}
}

// A header from a tampered file is cleaned before anyone shows it.
func TestJournalHeaderIsCleaned(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.jsonl")
	os.WriteFile(p, []byte(`{"journal":"commission.journal/v1","family":"nport","address":"10.0.0.1\u001b[2J","guide":"g","started":"2026-11-22T10:00:00Z","session":"ab"}`+"\n"), 0o600)
	h, _, err := Replay(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(h.Address, 0x1b) {
		t.Fatalf("header address keeps an escape: %q", h.Address)
	}
}

// Replay then Restore gives a new session the results the old one had.
func TestReplayRestoreRoundTrip(t *testing.T) {
	j := newJournal(t, t.TempDir(), time.Now())
	old, err := runSession(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	_, rs, err := Replay(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	fresh := steps.NewSession(fakeCatalog(), steps.Device[fakeState](&fakeDevice{}), nil)
	fresh.Restore(rs)

	want, got := old.Results(), fresh.Results()
	if len(got) != len(want) {
		t.Fatalf("restored %d results, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Meta.ID != w.Meta.ID || g.Meta.Title != w.Meta.Title {
			t.Errorf("step %s: restored meta %q, want %q", w.StepID, g.Meta.ID, w.Meta.ID)
		}
		if !g.At.Equal(w.At) {
			t.Errorf("step %s: at %s, want %s", w.StepID, g.At, w.At)
		}
		// Everything but Meta (json:"-") and the secret input, field by field through JSON.
		w.Inputs = publicValues(w.Inputs)
		wb, _ := json.Marshal(w)
		gb, _ := json.Marshal(g)
		if !bytes.Equal(wb, gb) {
			t.Errorf("step %s restored as\n%s\nwant\n%s", w.StepID, gb, wb)
		}
	}
	// The run covered every interesting outcome.
	seen := map[steps.Outcome]bool{}
	for _, r := range got {
		seen[r.Outcome] = true
	}
	for _, o := range []steps.Outcome{steps.Fixed, steps.Waived, steps.Attested, steps.Compliant} {
		if !seen[o] {
			t.Errorf("restored results lack a %s step", o)
		}
	}
}

// The journal keeps the first write error and reports it; it never panics.
func TestJournalErrAfterClose(t *testing.T) {
	j := newJournal(t, t.TempDir(), t0)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j.Report(steps.Event{Time: t0, Kind: steps.SessionOpened})
	if j.Err() == nil {
		t.Fatal("report after close: no error kept")
	}
}

func TestJournalConcurrentReports(t *testing.T) {
	j := newJournal(t, t.TempDir(), t0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				j.Report(steps.Event{Time: t0, Kind: steps.DeviceProgress, Message: strings.Repeat("x", g*100+i)})
			}
		}()
	}
	wg.Wait()
	if err := j.Err(); err != nil {
		t.Fatal(err)
	}
	ls := lines(t, j.Path())
	if len(ls) != 81 {
		t.Fatalf("%d lines, want 81", len(ls))
	}
	for i, l := range ls[1:] {
		var e steps.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d interleaved: %v", i+2, err)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME is only honoured on Linux and BSDs")
	}
	base := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", base)
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "commission", "sessions"); dir != want {
		t.Fatalf("DefaultDir = %s, want %s", dir, want)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("DefaultDir mode %v, want a 0700 directory", fi.Mode())
	}
}

// BenchmarkJournalReport measures one Report: encode, write and fsync.
func BenchmarkJournalReport(b *testing.B) {
	j, err := CreateJournal(b.TempDir(), Header{Family: "fake", Started: t0})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	e := steps.Event{Time: t0, Kind: steps.StepChecked, StepID: "fake.1.telnet", Result: &steps.Result{
		StepID: "fake.1.telnet", Outcome: steps.Deviation, At: t0,
		Before: &steps.Finding{Applicable: true, Observed: "telnet on", Expected: "telnet off"}}}
	for b.Loop() {
		j.Report(e)
	}
	if err := j.Err(); err != nil {
		b.Fatal(err)
	}
}

// FuzzScanJournal: any bytes after a valid header are read without a
// panic, and whatever is accepted keeps only lines that decode.
func FuzzScanJournal(f *testing.F) {
	hdr := `{"journal":"commission.journal/v1","family":"f","address":"a","guide":"g","started":"2026-11-22T10:00:00Z","session":"s"}` + "\n"
	f.Add([]byte(`{"time":"2026-11-22T10:00:00Z","kind":"step.checked","step":"a","result":{"id":"a","outcome":"compliant","at":"2026-11-22T10:00:00Z"}}` + "\n"))
	f.Add([]byte(`{"time":"2026-11-22T10:00:00Z","kind":"session.cl`))
	f.Add([]byte("\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		sc, err := scanJournal(bytes.NewReader(append([]byte(hdr), tail...)))
		if err != nil {
			return
		}
		if sc.goodEnd < int64(len(hdr)) || sc.goodEnd > int64(len(hdr)+len(tail)) {
			t.Fatalf("goodEnd %d out of range", sc.goodEnd)
		}
		if sc.torn != (sc.goodEnd != int64(len(hdr)+len(tail))) {
			t.Fatalf("torn %v but goodEnd %d of %d", sc.torn, sc.goodEnd, len(hdr)+len(tail))
		}
	})
}

// A plan that was previewed and cancelled reaches no written file: not the
// journal, not record.json.
func TestCancelledPlanInNoWrittenFile(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(t, dir, time.Now())
	dev := &fakeDevice{saved: fakeState{Telnet: true, HTTP: true}}
	s := steps.NewSession(fakeCatalog(), steps.Device[fakeState](dev), j)
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	const marker = "cancelled-note-7f3a"
	cs, err := s.Plan("fake.1.telnet", steps.Values{"note": marker})
	if err != nil || len(cs) != 1 {
		t.Fatalf("plan: %v %v", cs, err)
	}
	if err := s.Cancel("fake.1.telnet"); err != nil {
		t.Fatal(err)
	}
	if err := s.Waive("fake.1.telnet", "the vendor tool needs telnet until March"); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if dev.hasStaged {
		t.Fatal("a cancelled plan reached the device")
	}
	rec := Build(Meta{Tool: Tool{Name: "commission", Version: "test"}, Mode: "test", Device: s.Identity(), Guide: s.Guide()},
		s.Results(), s.Steps())
	b, err := Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "record.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, de := range ents {
		if !de.Type().IsRegular() {
			continue
		}
		n++
		body, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{marker, `"changes"`, `"Telnet"`} {
			if bytes.Contains(body, []byte(bad)) {
				t.Errorf("%s holds %s of the cancelled plan", de.Name(), bad)
			}
		}
	}
	if n < 2 {
		t.Fatalf("only %d files written", n)
	}
	if !bytes.Contains(mustRead(t, j.Path()), []byte(`"step.cancelled"`)) {
		t.Error("the journal does not say the preview was cancelled")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// When the journal cannot write, the session stops before the next change
// to the device and says why.
func TestJournalWriteFailureStopsChanges(t *testing.T) {
	j := newJournal(t, t.TempDir(), t0)
	dev := &fakeDevice{saved: fakeState{Telnet: true}}
	s := steps.NewSession(fakeCatalog(), steps.Device[fakeState](dev), steps.Reporters{steps.ReporterFunc(func(steps.Event) {}), j})
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan("fake.1.telnet", nil); err != nil {
		t.Fatal(err)
	}
	// From here every write fails, as on a full or vanished disk.
	j.mu.Lock()
	j.f.Close()
	ro, err := os.Open(j.path)
	if err != nil {
		t.Fatal(err)
	}
	j.f = ro
	j.mu.Unlock()
	err = s.Apply(ctx, "fake.1.telnet")
	if !errors.Is(err, steps.ErrNotJournaled) || !strings.Contains(err.Error(), filepath.Base(j.Path())) {
		t.Fatalf("apply: %v, want ErrNotJournaled naming the journal", err)
	}
	if dev.hasStaged {
		t.Fatal("the change was sent although it could not be journaled")
	}
	if j.Err() == nil {
		t.Fatal("the journal kept no error")
	}
}

// One journal, one writer; one device, one wizard: a second opener is
// told which process holds them. A closed journal frees both.
func TestJournalHasOneWriter(t *testing.T) {
	dir := t.TempDir()
	j, err := CreateJournal(dir, Header{Family: "fake", Address: "127.0.0.1", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	pid := fmt.Sprintf("pid %d", os.Getpid()) // this process holds it: the message says so
	_, err = OpenJournal(j.Path())
	var held *HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), j.Path()) ||
		!strings.Contains(err.Error(), "already open in this wizard") {
		t.Fatalf("second writer on the journal: %v, want a *HeldError naming %s and the journal", err, pid)
	}
	_, err = CreateJournal(dir, Header{Family: "fake", Address: "127.0.0.1", Started: t0.Add(time.Hour)})
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "device fake at 127.0.0.1") || !strings.Contains(err.Error(), pid) {
		t.Fatalf("second wizard on the device: %v, want a *HeldError naming the device and %s", err, pid)
	}
	// Another device is free.
	other, err := CreateJournal(dir, Header{Family: "fake", Address: "127.0.0.2", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenJournal(j.Path())
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	again.Close()
	ents, _ := os.ReadDir(dir)
	for _, de := range ents {
		if strings.HasSuffix(de.Name(), ".lock") {
			t.Errorf("lock file %s left behind", de.Name())
		}
	}
}

// A journal with a damaged line is listed with its path, refused by Replay
// and OpenJournal, and resumed from the events before the damage by
// ResumeDamaged, which keeps the file as it was.
func TestDamagedJournalOffersPartialResume(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(t, dir, t0)
	res := func(id string, o steps.Outcome) *steps.Result { return &steps.Result{StepID: id, Outcome: o} }
	j.Report(steps.Event{Time: t0.Add(time.Minute), Kind: steps.StepChecked, StepID: "a", Result: res("a", steps.Deviation)})
	j.Report(steps.Event{Time: t0.Add(2 * time.Minute), Kind: steps.StepStaged, StepID: "a", Result: res("a", steps.Staged)})
	j.Close()
	f, _ := os.OpenFile(j.Path(), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("{\"time\":\"2026-11-22T10:03:00Z\",\"kind\":\"step.che\x00\x00\n")
	f.WriteString(`{"time":"2026-11-22T10:04:00Z","kind":"step.decided","step":"b","result":{"id":"b","outcome":"waived"}}` + "\n")
	f.Close()
	orig := mustRead(t, j.Path())

	us, err := FindUnfinished(dir)
	if err != nil || len(us) != 1 {
		t.Fatalf("unfinished: %+v %v", us, err)
	}
	d := us[0].Damage
	if d == nil || d.Line != 4 || d.Events != 2 || !strings.Contains(d.Error(), j.Path()) || !strings.Contains(d.Error(), "line 4") {
		t.Fatalf("damage = %v, want line 4 after 2 events, naming the path", d)
	}
	if len(us[0].AwaitingRestart) != 1 || us[0].AwaitingRestart[0] != "a" {
		t.Errorf("awaiting restart = %v, want [a]", us[0].AwaitingRestart)
	}
	if _, _, err := Replay(j.Path()); !errors.As(err, &d) {
		t.Fatalf("replay of a damaged journal: %v", err)
	}
	if _, err := OpenJournal(j.Path()); !errors.As(err, &d) {
		t.Fatalf("open of a damaged journal: %v", err)
	}
	_, rs, dmg, err := ReplayPartial(j.Path())
	if err != nil || dmg == nil || len(rs) != 1 || rs[0].StepID != "a" || rs[0].Outcome != steps.Staged {
		t.Fatalf("partial replay: %+v %v %v", rs, dmg, err)
	}
	j2, err := ResumeDamaged(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	j2.Report(steps.Event{Time: t0.Add(5 * time.Minute), Kind: steps.StepChecked, StepID: "c", Result: res("c", steps.Compliant)})
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	if kept := mustRead(t, j.Path()+".damaged"); !bytes.Equal(kept, orig) {
		t.Fatal("the damaged file was not kept as it was")
	}
	_, rs, err = Replay(j.Path())
	if err != nil || len(rs) != 2 || rs[1].StepID != "c" {
		t.Fatalf("replay after the partial resume: %+v %v", rs, err)
	}
	if !bytes.Contains(mustRead(t, j.Path()), []byte(`"journal.repaired"`)) {
		t.Error("the journal does not say it was repaired")
	}
	if us, _ := FindUnfinished(dir); len(us) != 1 || us[0].Damage != nil {
		t.Errorf("after the repair: %+v", us)
	}
}

// A journal damaged in its header is reported, and cannot be resumed.
func TestDamagedHeaderIsReported(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "20261122T100000Z-ab.jsonl")
	os.WriteFile(p, []byte(`{"journal":"commission.journal/v1","fam`+"\n"+`{"time":"2026-11-22T10:04:00Z","kind":"session.opened"}`+"\n"), 0o600)
	us, err := FindUnfinished(dir)
	if err != nil || len(us) != 1 || us[0].Damage == nil || us[0].Damage.Line != 1 || us[0].Path != p {
		t.Fatalf("unfinished: %+v %v", us, err)
	}
	if _, _, _, err := ReplayPartial(p); err == nil {
		t.Fatal("partial replay of a journal without a header")
	}
	if _, err := ResumeDamaged(p); err == nil || !strings.Contains(err.Error(), "header") {
		t.Fatalf("resume of a journal without a header: %v", err)
	}
}

// Only an incomplete last line is a tear a crash leaves; a complete last
// line that does not decode is damage, reported rather than dropped.
func TestBadCompleteLastLineIsDamage(t *testing.T) {
	j := newJournal(t, t.TempDir(), t0)
	j.Report(steps.Event{Time: t0, Kind: steps.SessionOpened})
	j.Close()
	f, _ := os.OpenFile(j.Path(), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("{\"kind\":\"step.staged\",\"result\":{\"id\":\"a\",\"outcome\":\n")
	f.Close()
	_, _, err := Replay(j.Path())
	var d *DamagedError
	if !errors.As(err, &d) || d.Line != 3 || d.Events != 1 {
		t.Fatalf("replay: %v, want damage at line 3 after 1 event", err)
	}
}

// BenchmarkLockAcquireRelease measures taking and dropping one lock file.
func BenchmarkLockAcquireRelease(b *testing.B) {
	p := filepath.Join(b.TempDir(), "x.lock")
	for b.Loop() {
		l, err := acquire(p, "x")
		if err != nil {
			b.Fatal(err)
		}
		l.release()
	}
}
