package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/secret"
	"github.com/commission-tool/commission/internal/steps"
)

// JournalSchema is the version tag in a journal's header line.
const JournalSchema = "commission.journal/v1"

// JournalExt is the file name extension of a journal.
const JournalExt = ".jsonl"

// MaxJournalLine bounds one line of a journal when it is read back.
const MaxJournalLine = 1 << 20

// SecretKey reports whether an input key names a secret, by the one list
// of internal/secret. Such an input never reaches a journal or a record,
// whatever the step says.
func SecretKey(k string) bool { return secret.Name(k) }

// publicValues returns a copy of in without secret-named keys; nil when
// nothing is left.
func publicValues(in steps.Values) steps.Values {
	var out steps.Values
	for k, v := range in {
		if SecretKey(k) {
			continue
		}
		if out == nil {
			out = steps.Values{}
		}
		out[k] = v
	}
	return out
}

// Header is the first line of a journal: what the session is about.
type Header struct {
	Journal string    `json:"journal"` // JournalSchema
	Family  string    `json:"family"`
	Address string    `json:"address"`
	Guide   string    `json:"guide"`
	Started time.Time `json:"started"`
	Session string    `json:"session"` // random hex id, also in the file name
}

// Journal is an append-only JSON-lines file of one session's events. It
// implements steps.ErrReporter: every Report appends one line and syncs the
// file before it returns, and Err tells the engine when one could not be
// kept, so that it stops changing the device. Its methods are safe for
// concurrent use.
//
// A journal has one writer: while it is open, its lock file (the journal's
// path + ".lock") and the device's (device-FAMILY-ADDRESS.lock in the
// same folder) are held, and a second open fails with a *HeldError that
// names the process holding them.
type Journal struct {
	path string
	hdr  Header

	mu    sync.Mutex
	f     *os.File
	err   error
	locks []*fileLock
}

// JournalRepaired is the kind of the event ResumeDamaged appends: it says
// which line was damaged and where the original file was kept.
const JournalRepaired steps.EventKind = "journal.repaired"

// DamagedError says that a journal has a line that cannot be read (not
// the torn last line a crash leaves, which is dropped). The events before
// it can be resumed (ReplayPartial, ResumeDamaged) unless the damage is in
// the header (Line 1).
type DamagedError struct {
	Path   string
	Line   int   // 1 is the header
	Offset int64 // where the damaged line starts
	Events int   // readable events before it
	Err    error
}

func (e *DamagedError) Error() string {
	if e.Line <= 1 {
		return fmt.Sprintf("journal %s is damaged in its header: %v; it cannot be resumed", e.Path, e.Err)
	}
	return fmt.Sprintf("journal %s is damaged at line %d: %v; the %d events before it can be resumed", e.Path, e.Line, e.Err, e.Events)
}

func (e *DamagedError) Unwrap() error { return e.Err }

func deviceLockPath(dir string, h Header) string {
	return filepath.Join(dir, "device-"+lockName(h.Family)+"-"+lockName(h.Address)+".lock")
}

// lockDevice takes the device's lock in dir.
func lockDevice(dir string, h Header) (*fileLock, error) {
	return acquire(deviceLockPath(dir, h), fmt.Sprintf("the device %s at %s", h.Family, h.Address))
}

func releaseAll(ls []*fileLock) {
	for i := len(ls) - 1; i >= 0; i-- {
		ls[i].release()
	}
}

var errClosed = errors.New("journal is closed")

// CreateJournal creates a new journal in dir (made 0700 if missing) and
// writes and syncs its header. Empty h.Session gets NewID(), a zero
// h.Started gets the current time; the file is named after both and is
// created 0600.
func CreateJournal(dir string, h Header) (*Journal, error) {
	h.Journal = JournalSchema
	if h.Session == "" {
		h.Session = NewID()
	}
	if h.Started.IsZero() {
		h.Started = time.Now()
	}
	h.Started = h.Started.UTC()
	if strings.ContainsAny(h.Session, `/\.`) {
		return nil, fmt.Errorf("create journal: bad session id %q", h.Session)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	dl, err := lockDevice(dir, h)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	name := h.Started.Format("20060102T150405Z") + "-" + h.Session + JournalExt
	path := filepath.Join(dir, name)
	jl, err := acquire(path+".lock", "the session journal "+path)
	if err != nil {
		dl.release()
		return nil, fmt.Errorf("create journal: %w", err)
	}
	locks := []*fileLock{dl, jl}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		releaseAll(locks)
		return nil, fmt.Errorf("create journal: %w", err)
	}
	j := &Journal{path: path, hdr: h, f: f, locks: locks}
	if err := j.writeLine(h); err != nil {
		f.Close()
		os.Remove(path)
		releaseAll(locks)
		return nil, fmt.Errorf("create journal: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		releaseAll(locks)
		return nil, fmt.Errorf("create journal: %w", err)
	}
	return j, nil
}

// OpenJournal opens an existing journal to append to it (to resume a
// session). A torn last line left by a crash is cut off first, so the
// next event starts on a line of its own. A damaged journal is refused
// with a *DamagedError (see ResumeDamaged); one that another process has
// open, or whose device another process is commissioning, with a
// *HeldError.
func OpenJournal(path string) (*Journal, error) {
	return openJournal(path, false)
}

// ResumeDamaged opens a damaged journal for a partial resume: the file as
// it was is kept beside it (path + ".damaged"), the journal is cut just
// before the damaged line, and a journal.repaired event saying so is
// appended. A journal damaged in its header cannot be resumed. An
// undamaged journal is opened as OpenJournal does.
func ResumeDamaged(path string) (*Journal, error) {
	return openJournal(path, true)
}

func openJournal(path string, partial bool) (*Journal, error) {
	jl, err := acquire(path+".lock", "the session journal "+path)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	locks := []*fileLock{jl}
	fail := func(f *os.File, err error) (*Journal, error) {
		if f != nil {
			f.Close()
		}
		releaseAll(locks)
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fail(nil, fmt.Errorf("open journal: %w", err))
	}
	sc, err := scanJournal(f)
	if err != nil {
		return fail(f, fmt.Errorf("open journal %s: %w", path, err))
	}
	var kept string
	if d := sc.damage; d != nil {
		d.Path = path
		if !partial || d.Line <= 1 {
			return fail(f, fmt.Errorf("open journal: %w", d))
		}
		if kept, err = keepDamaged(f, path); err != nil {
			return fail(f, fmt.Errorf("open journal: keep the damaged file: %w", err))
		}
	}
	dl, err := lockDevice(filepath.Dir(path), sc.header)
	if err != nil {
		return fail(f, fmt.Errorf("open journal: %w", err))
	}
	locks = append(locks, dl)
	if sc.torn || sc.damage != nil {
		if err := f.Truncate(sc.goodEnd); err != nil {
			return fail(f, fmt.Errorf("open journal: repair the journal: %w", err))
		}
		if err := f.Sync(); err != nil {
			return fail(f, fmt.Errorf("open journal: repair the journal: %w", err))
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return fail(f, fmt.Errorf("open journal: %w", err))
	}
	j := &Journal{path: path, hdr: sc.header, f: f, locks: locks}
	if d := sc.damage; d != nil {
		j.Report(steps.Event{Time: time.Now().UTC(), Kind: JournalRepaired,
			Message: fmt.Sprintf("line %d was damaged (%v); the session resumed from the %d events before it; the file as it was is kept in %s", d.Line, d.Err, d.Events, kept)})
		if err := j.Err(); err != nil {
			j.Close()
			return nil, fmt.Errorf("open journal: %w", err)
		}
	}
	return j, nil
}

// keepDamaged copies the journal's bytes to a new file beside it and
// returns its path.
func keepDamaged(f *os.File, path string) (string, error) {
	dst := path + ".damaged"
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	for i := 2; errors.Is(err, os.ErrExist) && i < 100; i++ {
		dst = fmt.Sprintf("%s.damaged-%d", path, i)
		out, err = os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, io.NewSectionReader(f, 0, 1<<40)); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Header is the journal's header.
func (j *Journal) Header() Header { return j.hdr }

// Report appends e as one line and syncs the file. Secret-named inputs
// are dropped. The first write error stops the journal; Err returns it.
func (j *Journal) Report(e steps.Event) {
	if e.Result != nil {
		r := *e.Result
		r.Inputs = publicValues(r.Inputs)
		e.Result = &r
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	if j.f == nil {
		j.err = errClosed
		return
	}
	if err := j.writeLineLocked(e); err != nil {
		j.err = fmt.Errorf("journal %s: %w", filepath.Base(j.path), err)
	}
}

// Err returns the first error a Report met, if any.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Close closes the file and releases its locks. It returns the first
// Report error, if any, or the error of closing. It does not write a
// session.closed event: the engine's Session.Close does.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return j.err
	}
	cerr := j.f.Close()
	j.f = nil
	releaseAll(j.locks)
	j.locks = nil
	if j.err != nil {
		return j.err
	}
	if cerr != nil {
		return fmt.Errorf("close journal: %w", cerr)
	}
	return nil
}

func (j *Journal) writeLine(v any) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.writeLineLocked(v)
}

// writeLineLocked writes v as one JSON line in a single write, then syncs.
func (j *Journal) writeLineLocked(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line with \n
		return fmt.Errorf("encode: %w", err)
	}
	if _, err := j.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// syncDir makes a new directory entry durable where the OS allows it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// scanned is what a read of a journal found.
type scanned struct {
	header  Header
	events  []steps.Event // the events before any damage
	goodEnd int64         // offset just after the last good line (before the damage)
	torn    bool          // the file has bytes after goodEnd (a crash tore the last line)
	closed  bool          // a session.closed event was seen
	damage  *DamagedError // a bad line other than a torn last one; Path unset
}

// scanJournal reads a journal from r. An incomplete last line (torn by a
// crash while it was written, before its Report returned, so nothing
// acted on it) is ignored. Any complete line that does not decode, or a
// bad header, is damage: the events before it are kept and sc.damage says
// where. The error is for a file that cannot be read.
func scanJournal(r io.Reader) (scanned, error) {
	var sc scanned
	br := bufio.NewReaderSize(r, MaxJournalLine)
	var off int64
	n := 0
	damage := func(perr error) (scanned, error) {
		sc.damage = &DamagedError{Line: n, Offset: off, Events: len(sc.events), Err: perr}
		sc.torn = true
		return sc, nil
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			n++
			return damage(fmt.Errorf("line %d is longer than %d bytes", n, MaxJournalLine))
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return sc, fmt.Errorf("read: %w", err)
		}
		if len(line) == 0 {
			break
		}
		n++
		if line[len(line)-1] != '\n' { // only the last line can lack its newline
			if n == 1 {
				return damage(fmt.Errorf("header: line %d is incomplete", n))
			}
			sc.torn = true
			break
		}
		if n == 1 {
			var h Header
			if e := json.Unmarshal(line, &h); e != nil {
				return damage(fmt.Errorf("header: %w", e))
			}
			if h.Journal != JournalSchema {
				return damage(fmt.Errorf("not a %s journal", JournalSchema))
			}
			sc.header = cleanHeader(h)
		} else {
			var e steps.Event
			if uerr := json.Unmarshal(line, &e); uerr != nil {
				return damage(fmt.Errorf("line %d: %w", n, uerr))
			}
			if e.Kind == steps.SessionClosed {
				sc.closed = true
			}
			sc.events = append(sc.events, e)
		}
		off += int64(len(line))
		sc.goodEnd = off
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if sc.goodEnd == 0 && sc.damage == nil {
		sc.damage = &DamagedError{Line: 1, Err: errors.New("empty journal")}
	}
	return sc, nil
}

// cleanHeader passes the header's strings through printable.String: a
// journal is a file anyone with the account could edit, and its header is
// shown when the wizard offers to resume.
func cleanHeader(h Header) Header {
	h.Family = printable.String(h.Family)
	h.Address = printable.String(h.Address)
	h.Guide = printable.String(h.Guide)
	h.Session = printable.String(h.Session)
	return h
}

// readJournal reads the journal at path, bounded by MaxJournalLine per line.
func readJournal(path string) (scanned, error) {
	f, err := os.Open(path)
	if err != nil {
		return scanned{}, err
	}
	defer f.Close()
	sc, err := scanJournal(f)
	if err != nil {
		return sc, fmt.Errorf("journal %s: %w", path, err)
	}
	if sc.damage != nil {
		sc.damage.Path = path
	}
	return sc, nil
}

// latest returns the latest result per step, in order of first appearance.
func latest(evs []steps.Event) []steps.Result {
	idx := map[string]int{}
	var out []steps.Result
	for _, e := range evs {
		if e.Result == nil || e.Result.StepID == "" {
			continue
		}
		r := *e.Result
		r.Inputs = publicValues(r.Inputs)
		if i, ok := idx[r.StepID]; ok {
			out[i] = r
			continue
		}
		idx[r.StepID] = len(out)
		out = append(out, r)
	}
	return out
}

// Replay reads a journal and returns its header and the latest result of
// every step it holds, ready for Session.Restore. A torn last line (a
// crash mid-write) is ignored; a damaged journal is an error wrapping a
// *DamagedError (see ReplayPartial).
func Replay(path string) (Header, []steps.Result, error) {
	sc, err := readJournal(path)
	if err == nil && sc.damage != nil {
		err = sc.damage
	}
	if err != nil {
		return Header{}, nil, fmt.Errorf("replay: %w", err)
	}
	return sc.header, latest(sc.events), nil
}

// ReplayPartial is Replay for a journal that may be damaged: it returns
// the results of the events before the damage, and the damage (nil if
// none), for a partial resume with ResumeDamaged. A journal damaged in its
// header gives an error.
func ReplayPartial(path string) (Header, []steps.Result, *DamagedError, error) {
	sc, err := readJournal(path)
	if err != nil {
		return Header{}, nil, nil, fmt.Errorf("replay: %w", err)
	}
	if d := sc.damage; d != nil && d.Line <= 1 {
		return Header{}, nil, d, fmt.Errorf("replay: %w", d)
	}
	return sc.header, latest(sc.events), sc.damage, nil
}

// Unfinished is a journal whose session was not closed.
type Unfinished struct {
	Path    string
	Header  Header
	Steps   int       // steps with at least one result
	Decided int       // steps whose latest outcome is final (steps.Outcome.Final)
	Last    time.Time // time of the last event, or the start if none
	// Damage, when set, says the journal cannot be read to its end: the
	// counts cover the events before the damage, which ResumeDamaged can
	// resume unless the header is damaged (Damage.Line 1).
	Damage *DamagedError
	// AwaitingRestart lists the steps whose change was sent and not yet
	// verified after a restart.
	AwaitingRestart []string
}

// FindUnfinished lists the journals (*.jsonl) in dir that hold no
// session.closed event, newest last event first. A damaged journal, or
// one that cannot be read at all, is listed with its Damage, never
// skipped. A missing dir holds none.
func FindUnfinished(dir string) ([]Unfinished, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find unfinished sessions: %w", err)
	}
	var out []Unfinished
	for _, de := range ents {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), JournalExt) {
			continue
		}
		path := filepath.Join(dir, de.Name())
		sc, err := readJournal(path)
		if err != nil {
			out = append(out, Unfinished{Path: path, Damage: &DamagedError{Path: path, Line: 1, Err: err}})
			continue
		}
		if sc.closed {
			continue
		}
		u := Unfinished{Path: path, Header: sc.header, Last: sc.header.Started, Damage: sc.damage}
		if n := len(sc.events); n > 0 {
			u.Last = sc.events[n-1].Time
		}
		rs := latest(sc.events)
		u.Steps = len(rs)
		for _, r := range rs {
			if r.Outcome.Final() {
				u.Decided++
			}
			if r.Outcome == steps.Staged {
				u.AwaitingRestart = append(u.AwaitingRestart, r.StepID)
			}
		}
		out = append(out, u)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].Last.Equal(out[b].Last) {
			return out[a].Last.After(out[b].Last)
		}
		return out[a].Path > out[b].Path
	})
	return out, nil
}

// DefaultDir is the per-user directory for journals,
// os.UserConfigDir()/commission/sessions, created 0700 if missing.
func DefaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("session directory: %w", err)
	}
	dir := filepath.Join(base, "commission", "sessions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("session directory: %w", err)
	}
	return dir, nil
}
