package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/pdf"
	"github.com/commission-tool/commission/internal/record/sshsig"
	"github.com/commission-tool/commission/internal/steps"
)

// Exit codes of `commission verify`, from ExitCode.
const (
	// ExitOK: the bundle is intact (signature, files, re-rendered PDF and
	// OSCAL, recomputed outcomes) and its signer is in the plant's own
	// allowed_signers file. Completeness is reported apart (Report.Status).
	ExitOK = 0
	// ExitFailed: the bundle was read, and at least one check failed;
	// Report.Problems says which, each naming its file.
	ExitFailed = 1
	// ExitUsage: the bundle could not be checked at all: a bad argument,
	// a folder that does not exist, an allowed_signers file given on the
	// command line that cannot be read.
	ExitUsage = 2
	// ExitUntrusted: the bundle is intact, but the signature was checked
	// only against the signer the bundle itself names (its own
	// allowed_signers), not against a signer the plant trusts. Anyone can
	// make such a bundle with any key.
	ExitUntrusted = 4
)

// Limits on what Verify reads.
const (
	maxSig     = 64 << 10
	maxAllowed = 1 << 20
	maxPDF     = 32 << 20
	maxOSCAL   = 32 << 20
	// maxPlan is siteplan.MaxSize: a site plan is a short text file.
	maxPlan = 1 << 20
	// maxEvidenceFiles bounds the evidence folder's listing.
	maxEvidenceFiles = 4096
)

// Problem is one failed check, about one file of the bundle.
type Problem struct {
	File    string // path relative to the bundle, e.g. "record.json", "evidence/tls-443.pem"
	Message string
}

// String is the problem as shown: "file: message".
func (p Problem) String() string { return p.File + ": " + p.Message }

// Report is the result of Verify. Integrity (Problems) and completeness
// (Status) are separate findings: an intact record can be incomplete.
type Report struct {
	Dir          string
	RecordSHA256 string // hex digest of record.json, when it could be read
	// Signers are the principals the allowed_signers file trusts the
	// signing key as, matched against the identity record.json names;
	// they are what the signature proves, never a name read alone from
	// an unsigned file.
	Signers     []string
	KeyType     string
	Fingerprint string // "SHA256:…" of the key that made the signature
	// Trusted is true when the signer was matched in the plant's own
	// allowed_signers file (WithAllowedSigners), false when only in the
	// bundle's.
	Trusted bool
	// AllowedSigners names the file the signer was checked against.
	AllowedSigners string
	CatalogChecked bool // false: no catalog given, only self-consistency was checked
	// Recomputed is the number of step outcomes recomputed from the
	// record's observations (WithRecheck).
	Recomputed int
	// Rendered is true when record.pdf and oscal-ar.json were rendered
	// again from record.json and compared.
	Rendered bool
	// Status is the record's completeness, as record.json states it
	// (Check holds it to the steps); Headline is it as printed.
	Status   record.Status
	Headline string
	// Plan is the site plan file given with WithPlan, and PlanChecked
	// is true when the record was held to it (a mismatch is a problem).
	Plan        string
	PlanChecked bool
	// Record is record.json as read and decoded (check Problems before
	// trusting it).
	Record   record.Record
	Problems []Problem
}

// OK reports whether every integrity check passed (see also Trusted).
func (r Report) OK() bool { return len(r.Problems) == 0 }

// ExitCode maps Verify's result to the documented exit codes: ExitUsage
// when err is not nil, ExitFailed when the report has problems,
// ExitUntrusted when the signer was only checked against the bundle's
// own allowed_signers, ExitOK otherwise.
func ExitCode(r Report, err error) int {
	switch {
	case err != nil:
		return ExitUsage
	case !r.OK():
		return ExitFailed
	case !r.Trusted:
		return ExitUntrusted
	}
	return ExitOK
}

// Recheck computes every automatic step's finding again from a record's
// observations (a family's State as JSON), keyed by step id.
type Recheck func(state json.RawMessage) (map[string]steps.Finding, error)

type config struct {
	allowed  string
	identity string
	catalog  []steps.Meta
	recheck  Recheck
	family   Family
	at       time.Time
	plan     string
}

// Family finds, for the device family a record names, its catalog and
// its rechecker; ok is false for a family it does not know.
type Family func(name string) (catalog []steps.Meta, recheck Recheck, ok bool)

// WithFamily lets Verify pick the catalog and rechecker by the family
// record.json names, once it has read the file (so that the file is read
// once, bounded, and only if it is a regular file). A record that claims
// another family fails that family's checks. WithCatalog and WithRecheck,
// if given, win.
func WithFamily(f Family) Option { return func(c *config) { c.family = f } }

// Option adjusts Verify.
type Option func(*config)

// WithAllowedSigners checks the signature against this allowed_signers
// file (the plant's own) instead of the bundle's.
func WithAllowedSigners(path string) Option { return func(c *config) { c.allowed = path } }

// WithIdentity requires the signer to be allowed as this principal.
func WithIdentity(id string) Option { return func(c *config) { c.identity = id } }

// WithCatalog checks the record against the guide's steps: every step
// present once, no unknown step, kinds as the catalog says. Without it
// only the record's own consistency is checked.
func WithCatalog(catalog []steps.Meta) Option { return func(c *config) { c.catalog = catalog } }

// WithRecheck runs the family's checks again on the record's
// observations: a compliant or fixed step needs a compliant finding, a
// deviation a non-compliant one. A record without observations is then a
// problem.
func WithRecheck(f Recheck) Option { return func(c *config) { c.recheck = f } }

// WithPlan holds the record to the site plan file at path (verify
// --plan): record.json must name a plan whose SHA-256 is that file's
// (record.CheckPlan); a record that names another plan, or none, is a
// problem. The file is read bounded and only if it is a regular file; one
// that cannot be read makes Verify return an error (ExitUsage).
func WithPlan(path string) Option { return func(c *config) { c.plan = path } }

// WithTime evaluates allowed_signers validity windows at t instead of now.
func WithTime(t time.Time) Option { return func(c *config) { c.at = t } }

// Verify checks the bundle in dir: the SSHSIG signature of record.json,
// that the key which made it is the one record.json names, that an
// allowed_signers file trusts that key as the identity record.json names
// (the plant's, WithAllowedSigners, or else the bundle's own: then
// Report.Trusted is false), that record.json is a well-formed and
// consistent record, the digest of every evidence file, that record.pdf
// and oscal-ar.json are byte for byte what record.json renders to, and
// (WithRecheck) that the outcomes follow from the observations. Every
// file is read bounded, and only if it is a regular file (no symlink,
// FIFO or device). Problems go into the report, each naming its file; the
// error is only for a bundle that cannot be checked at all (see
// ExitCode).
func Verify(dir string, opts ...Option) (Report, error) {
	cfg := config{at: time.Now()}
	for _, o := range opts {
		o(&cfg)
	}
	rep := Report{Dir: dir, CatalogChecked: cfg.catalog != nil}
	fi, err := os.Stat(dir)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	if !fi.IsDir() {
		return rep, fmt.Errorf("verify: %s is not a folder", dir)
	}
	var allowedData []byte
	rep.AllowedSigners = AllowedFile + " in the bundle"
	if cfg.allowed != "" {
		if allowedData, err = readFile(cfg.allowed, maxAllowed); err != nil {
			return rep, fmt.Errorf("verify: allowed signers %s: %w", cfg.allowed, err)
		}
		rep.AllowedSigners = cfg.allowed
	}
	var planData []byte
	if cfg.plan != "" {
		if planData, err = readFile(cfg.plan, maxPlan); err != nil {
			return rep, fmt.Errorf("verify: site plan %s: %w", cfg.plan, err)
		}
		rep.Plan = cfg.plan
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	defer root.Close()
	fail := func(file, format string, a ...any) {
		rep.Problems = append(rep.Problems, Problem{File: file, Message: fmt.Sprintf(format, a...)})
	}

	data, err := readIn(root, RecordFile, record.MaxRecordSize)
	if err != nil {
		fail(RecordFile, "%v", err)
		return rep, nil
	}
	rep.RecordSHA256 = digestHex(data)
	r, recErr := decode(data)
	if recErr != nil {
		fail(RecordFile, "not a well-formed record: %v", recErr)
	}

	// The signature, and who made it.
	sigOK := false
	allowedName := cfg.allowed
	if cfg.allowed == "" {
		allowedName = AllowedFile
		if allowedData, err = readIn(root, AllowedFile, maxAllowed); err != nil {
			fail(AllowedFile, "%v (or check against the plant's own allowed_signers file)", err)
		}
	}
	if sig, err := readIn(root, SigFile, maxSig); err != nil {
		fail(SigFile, "%v", err)
	} else if key, err := sshsig.Verify(sig, bytes.NewReader(data), sshsig.Namespace); err != nil {
		if errors.Is(err, sshsig.ErrBadSignature) {
			fail(RecordFile, "does not match its signature %s: the file was changed after signing", SigFile)
		} else {
			fail(SigFile, "%v", err)
		}
	} else if recErr == nil {
		sigOK = true
		rep.KeyType, rep.Fingerprint = key.Type(), sshsig.Fingerprint(key)
		id := ""
		switch {
		case r.Signer == nil || strings.TrimSpace(r.Signer.Identity) == "":
			fail(RecordFile, "names no signer identity")
		case r.Signer.Fingerprint != rep.Fingerprint:
			fail(RecordFile, "names the signing key %s, but the signature was made with %s", r.Signer.Fingerprint, rep.Fingerprint)
		case cfg.identity != "" && cfg.identity != r.Signer.Identity:
			fail(RecordFile, "was signed as %q, not as the required identity %q", r.Signer.Identity, cfg.identity)
		default:
			id = r.Signer.Identity
		}
		if id != "" && allowedData != nil {
			as, err := sshsig.ParseAllowedSigners(allowedData)
			if err != nil {
				fail(allowedName, "%v", err)
			} else if who, err := as.Find(key, id, sshsig.Namespace, cfg.at); err != nil {
				fail(allowedName, "does not trust the signing key as %s: %v", id, err)
			} else {
				rep.Signers = who
				rep.Trusted = cfg.allowed != ""
			}
		}
	}
	if recErr != nil {
		return rep, nil
	}

	// The record itself: consistency (integrity) and status (completeness).
	rep.Record = r
	rep.Status, rep.Headline = r.Status, record.Headline(r)
	if cfg.family != nil {
		if cat, rc, ok := cfg.family(r.Device.Family); ok {
			if cfg.catalog == nil {
				cfg.catalog = cat
			}
			if cfg.recheck == nil {
				cfg.recheck = rc
			}
		}
		rep.CatalogChecked = cfg.catalog != nil
	}
	catalog := cfg.catalog
	if catalog == nil {
		for _, s := range r.Steps {
			catalog = append(catalog, steps.Meta{ID: s.ID, Kind: s.Kind})
		}
	}
	for _, e := range record.Check(r, catalog) {
		fail(RecordFile, "%v", e)
	}
	if cfg.recheck != nil {
		rep.Recomputed = recheck(r, cfg.recheck, fail)
	}
	if planData != nil {
		rep.PlanChecked = true
		if err := record.CheckPlan(r, cfg.plan, planData); err != nil {
			fail(RecordFile, "%v", err)
		}
	}

	// The derived files: rendered again from a record.json whose
	// signature holds, compared byte for byte. (A record.json that does
	// not match its signature has failed already.)
	if sigOK {
		verifyDerived(root, data, &rep, fail)
	}

	// The evidence.
	listed := map[string]bool{}
	for _, e := range r.Evidence {
		name := e.Name
		if !validEvidenceName(name) {
			fail(RecordFile, "evidence name %q is not a file under %s/", name, EvidenceDir)
			continue
		}
		if listed[name] {
			fail(RecordFile, "evidence %s listed twice", name)
			continue
		}
		listed[name] = true
		got, err := hashIn(root, name)
		if err != nil {
			fail(name, "%v", err)
			continue
		}
		if !strings.EqualFold(got, e.SHA256) {
			fail(name, "SHA-256 is %s, record.json says %s: the file was changed", got, e.SHA256)
		}
	}
	if ei, err := root.Lstat(EvidenceDir); err == nil && !ei.IsDir() {
		fail(EvidenceDir, "not a folder")
	} else if err == nil {
		entries, err := listDir(root, EvidenceDir, maxEvidenceFiles)
		if err != nil {
			fail(EvidenceDir, "%v", err)
		}
		var extra []string
		for _, en := range entries {
			name := EvidenceDir + "/" + en.Name()
			if !listed[name] {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		for _, name := range extra {
			fail(name, "not listed in record.json's evidence")
		}
	}
	return rep, nil
}

// verifyDerived renders record.pdf and oscal-ar.json again from
// record.json's bytes and compares them with the bundle's files.
func verifyDerived(root *os.Root, data []byte, rep *Report, fail func(file, format string, a ...any)) {
	gotPDF, pdfErr := readIn(root, PDFFile, maxPDF)
	gotAR, arErr := readIn(root, OSCALFile, maxOSCAL)
	if pdfErr != nil {
		fail(PDFFile, "%v", pdfErr)
	}
	if arErr != nil {
		fail(OSCALFile, "%v", arErr)
	}
	wantPDF, wantAR, err := Derived(data, pdf.A4)
	if err != nil {
		fail(RecordFile, "cannot be rendered: %v", err)
		return
	}
	rep.Rendered = true
	if pdfErr == nil && !bytes.Equal(gotPDF, wantPDF) {
		letter, _, err := Derived(data, pdf.Letter)
		if err != nil || !bytes.Equal(gotPDF, letter) {
			fail(PDFFile, "is not the PDF that record.json renders to: it was changed or belongs to another record")
		}
	}
	if arErr == nil && !bytes.Equal(gotAR, wantAR) {
		fail(OSCALFile, "is not the OSCAL export that record.json renders to: it was changed or belongs to another record")
	}
}

// recheck runs the family's checks on r's observations and reports every
// outcome they do not support, naming the step. It returns how many
// outcomes it recomputed.
func recheck(r record.Record, f Recheck, fail func(file, format string, a ...any)) int {
	needs := false
	for _, s := range r.Steps {
		if s.Kind == steps.Automatic && decidedByCheck(s.Outcome) {
			needs = true
		}
	}
	if !needs {
		return 0
	}
	if r.Observations == nil {
		fail(RecordFile, "carries no observations: its outcomes cannot be computed again")
		return 0
	}
	found, err := f(r.Observations.State)
	if err != nil {
		fail(RecordFile, "observations: %v", err)
		return 0
	}
	n := 0
	for _, s := range r.Steps {
		if s.Kind != steps.Automatic || !decidedByCheck(s.Outcome) {
			continue
		}
		fd, ok := found[s.ID]
		if !ok {
			fail(RecordFile, "step %s (%s): no check to compute its outcome %s again", s.ID, s.Title, s.Outcome)
			continue
		}
		n++
		compliant := fd.Compliant && fd.Applicable
		switch {
		case (s.Outcome == steps.Compliant || s.Outcome == steps.Fixed) && !compliant:
			fail(RecordFile, "step %s (%s): recorded %s, but its observations show %q (expected %q)", s.ID, s.Title, s.Outcome, fd.Observed, fd.Expected)
		case s.Outcome == steps.Deviation && (compliant || !fd.Applicable):
			fail(RecordFile, "step %s (%s): recorded deviation, but its observations show it compliant or not applicable (%q)", s.ID, s.Title, fd.Observed)
		}
	}
	return n
}

// decidedByCheck reports whether an outcome is the verdict of a check (as
// opposed to the technician's decision or a failure).
func decidedByCheck(o steps.Outcome) bool {
	return o == steps.Compliant || o == steps.Fixed || o == steps.Deviation
}

// decode parses record.json's bytes as strictly as record.Load does (no
// unknown field, no trailing data); it works on the bytes already hashed
// and verified rather than reading the file a second time.
func decode(data []byte) (record.Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r record.Record
	if err := dec.Decode(&r); err != nil {
		return r, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return r, errors.New("trailing data after the record")
	}
	return r, nil
}

func validEvidenceName(name string) bool {
	if !strings.HasPrefix(name, EvidenceDir+"/") || strings.Contains(name, "\\") {
		return false
	}
	return path.Clean(name) == name && fs.ValidPath(name) && len(name) > len(EvidenceDir)+1
}

func digestHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// openIn opens a file inside the bundle for reading only if it is a
// regular file: a symlink, folder, FIFO or device is refused. It opens
// without blocking (a FIFO would otherwise wait for a writer) and checks
// the open file again, so a swap between the two looks is caught.
func openIn(root *os.Root, name string) (*os.File, error) {
	li, err := root.Lstat(name)
	if err != nil {
		return nil, describe(err)
	}
	if !li.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", kind(li.Mode()))
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, describe(err)
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("not a regular file (%s)", kind(fi.Mode()))
	}
	return f, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// readIn reads a regular file inside the bundle, bounded by limit.
func readIn(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := openIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBounded(f, limit)
}

func readBounded(f *os.File, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

func hashIn(root *os.Root, name string) (string, error) {
	f, err := openIn(root, name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, maxEvidence+1))
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	if n > maxEvidence {
		return "", fmt.Errorf("larger than %d bytes", maxEvidence)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// listDir lists at most limit entries of a folder in the bundle, sorted
// by name; more is an error.
func listDir(root *os.Root, name string, limit int) ([]fs.DirEntry, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(limit + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(entries) > limit {
		return nil, fmt.Errorf("holds more than %d files", limit)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, nil
}

func describe(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("missing")
	}
	return err
}

// readFile reads a file outside the bundle (the plant's allowed_signers):
// a symlink to it is fine, but what it names must be a regular file; it
// is opened without blocking and read bounded.
func readFile(p string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", kind(fi.Mode()))
	}
	return readBounded(f, limit)
}
