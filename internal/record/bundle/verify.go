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
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/sshsig"
	"github.com/commission-tool/commission/internal/steps"
)

// Exit codes of `commission verify`, from ExitCode.
const (
	// ExitOK: the signature is good, made by an allowed signer, every
	// evidence digest matches and the record is consistent.
	ExitOK = 0
	// ExitFailed: the bundle was read, and at least one check failed;
	// Report.Problems says which, each naming its file.
	ExitFailed = 1
	// ExitUsage: the bundle could not be checked at all: a bad argument,
	// a folder that does not exist, an allowed_signers file given on the
	// command line that cannot be read.
	ExitUsage = 2
)

// Problem is one failed check, about one file of the bundle.
type Problem struct {
	File    string // path relative to the bundle, e.g. "record.json", "evidence/tls-443.pem"
	Message string
}

// String is the problem as shown: "file: message".
func (p Problem) String() string { return p.File + ": " + p.Message }

// Report is the result of Verify.
type Report struct {
	Dir            string
	RecordSHA256   string   // hex digest of record.json, when it could be read
	Signers        []string // allowed principals that match the signing key
	KeyType        string
	Fingerprint    string // "SHA256:…"
	CatalogChecked bool   // false: no catalog given, only self-consistency was checked
	Problems       []Problem
}

// OK reports whether every check passed.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// ExitCode maps Verify's result to the documented exit codes: ExitUsage
// when err is not nil, ExitFailed when the report has problems, ExitOK
// otherwise.
func ExitCode(r Report, err error) int {
	switch {
	case err != nil:
		return ExitUsage
	case !r.OK():
		return ExitFailed
	}
	return ExitOK
}

type config struct {
	allowed  string
	identity string
	catalog  []steps.Meta
	at       time.Time
}

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

// WithTime evaluates allowed_signers validity windows at t instead of now.
func WithTime(t time.Time) Option { return func(c *config) { c.at = t } }

// Verify checks the bundle in dir: the SSHSIG signature of record.json
// against allowed_signers, that record.json is a well-formed and
// consistent record, and the digest of every evidence file. Problems go
// into the report, each naming its file; the error is only for a bundle
// that cannot be checked at all (see ExitCode).
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
	allowedName := AllowedFile
	if cfg.allowed != "" {
		if allowedData, err = readLimited(cfg.allowed, 1<<20); err != nil {
			return rep, fmt.Errorf("verify: allowed signers: %w", err)
		}
		allowedName = cfg.allowed
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

	// The signature.
	if cfg.allowed == "" {
		if allowedData, err = readIn(root, AllowedFile, 1<<20); err != nil {
			fail(AllowedFile, "%v (or check against the plant's own allowed_signers file)", err)
		}
	}
	if sig, err := readIn(root, SigFile, 64<<10); err != nil {
		fail(SigFile, "%v", err)
	} else if key, err := sshsig.Verify(sig, bytes.NewReader(data), sshsig.Namespace); err != nil {
		if errors.Is(err, sshsig.ErrBadSignature) {
			fail(RecordFile, "does not match its signature %s: the file was changed after signing", SigFile)
		} else {
			fail(SigFile, "%v", err)
		}
	} else {
		rep.KeyType, rep.Fingerprint = key.Type(), sshsig.Fingerprint(key)
		if allowedData != nil {
			as, err := sshsig.ParseAllowedSigners(allowedData)
			if err != nil {
				fail(allowedName, "%v", err)
			} else if who, err := as.Find(key, cfg.identity, sshsig.Namespace, cfg.at); err != nil {
				fail(allowedName, "%v", err)
			} else {
				rep.Signers = who
			}
		}
	}

	// The record itself.
	r, err := decode(data)
	if err != nil {
		fail(RecordFile, "not a well-formed record: %v", err)
		return rep, nil
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
	entries, err := fs.ReadDir(root.FS(), EvidenceDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
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
	return rep, nil
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

// readIn reads a regular file inside the bundle, bounded by limit.
func readIn(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, describe(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
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
	f, err := root.Open(name)
	if err != nil {
		return "", describe(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
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

func describe(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("missing")
	}
	return err
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, limit)
	}
	return b, nil
}
