// Package bundle writes the signed record bundle of one commissioning
// session and verifies it (`commission verify DIR`).
//
// A bundle is a folder per device and date, <out>/<model>-<mac or
// address>-<YYYYMMDD>/, holding:
//
//	record.json       the record: UTF-8, LF, written once, never regenerated
//	record.json.sig   its SSHSIG signature, namespace sshsig.Namespace
//	allowed_signers   the signer's line: <identity> namespaces="…" <keytype> <base64>
//	record.pdf        the printable record
//	oscal-ar.json     the OSCAL 1.1.3 assessment-results export
//	evidence/…        certificates seen, probe transcripts; each listed in
//	                  record.json's evidence list with its SHA-256
//
// Every file is written atomically. The signature covers record.json;
// record.json names its signer (identity and key fingerprint) and covers
// the evidence files through their digests. record.pdf and oscal-ar.json
// are pure functions of record.json's bytes (Derived): Verify renders
// them again and compares them byte for byte.
//
// A plant checks a bundle with `commission verify --allowed-signers
// <its own allowed_signers> DIR`, or without this tool with:
//
//	ssh-keygen -Y verify -f <its own allowed_signers> -I <identity> \
//	  -n commissioning-record@commission.tool -s record.json.sig < record.json
//	sha256sum evidence/*   (and compare with record.json's evidence list)
//
// The bundle's own allowed_signers only says whom the bundle claims as
// its signer; anyone can write one for any key.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/oscal"
	"github.com/commission-tool/commission/internal/record/pdf"
	"github.com/commission-tool/commission/internal/record/sshsig"
)

// File names inside a bundle.
const (
	RecordFile    = "record.json"
	SigFile       = "record.json.sig"
	AllowedFile   = "allowed_signers"
	PDFFile       = "record.pdf"
	OSCALFile     = "oscal-ar.json"
	EvidenceDir   = "evidence"
	maxEvidence   = 64 << 20 // bytes per evidence file
	maxSuffixTry  = 99
	evidencePerms = 0o644
)

// EvidenceFile is a file to put under evidence/.
type EvidenceFile struct {
	Name        string // base name, e.g. "tls-443.pem"; letters, digits, ".", "-", "_"
	Description string
	Data        []byte
}

// Input is what Write needs.
type Input struct {
	Record   record.Record
	Evidence []EvidenceFile
	Signer   ssh.Signer // the technician's key (keys.Find)
	Identity string     // principal for allowed_signers, e.g. the technician's e-mail
	Paper    string     // "A4" (default) or "Letter"
}

var (
	unsafeRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })
	nameRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`) })
)

func clean(s string) string {
	return strings.Trim(unsafeRe().ReplaceAllString(strings.TrimSpace(s), "-"), "-.")
}

// DirName is the bundle folder name of r: model, MAC (without colons) or
// else address, and the start date, e.g. "NPort-5150A-0090E8123456-20261122".
func DirName(r record.Record) string {
	model := clean(r.Device.Model)
	if model == "" {
		model = clean(r.Device.Family)
	}
	if model == "" {
		model = "device"
	}
	where := clean(strings.NewReplacer(":", "", "-", "", ".", "").Replace(r.Device.MAC))
	if where == "" {
		where = clean(r.Device.Address)
	}
	if where == "" {
		where = "unknown"
	}
	t := r.Started
	if t.IsZero() {
		t = r.Finished
	}
	return model + "-" + where + "-" + t.UTC().Format("20060102")
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Write creates the bundle of in.Record under out and returns its folder.
// If the folder for this device and date already holds a record, a suffix
// (-2, -3, …) is added: a written record is never replaced. The record's
// evidence list is completed with in.Evidence and their digests.
func Write(out string, in Input) (string, error) {
	r := in.Record
	if r.ID == "" {
		return "", errors.New("write bundle: the record has no id")
	}
	if in.Signer == nil {
		return "", errors.New("write bundle: no signing key")
	}
	if in.Identity == "" || strings.ContainsAny(in.Identity, " \t\r\n,\"") {
		return "", fmt.Errorf("write bundle: identity %q must be one word without commas or quotes (an e-mail address, say)", in.Identity)
	}
	if t := in.Signer.PublicKey().Type(); t != ssh.KeyAlgoED25519 && t != ssh.KeyAlgoRSA {
		return "", fmt.Errorf("write bundle: %s keys are not supported, use ed25519 or rsa", t)
	}
	if err := record.ReadyToSign(r); err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	// The observations and the restart time may have been added after
	// record.Check ran: a record whose times contradict each other is
	// not signed.
	if errs := record.CheckTimes(r); len(errs) > 0 {
		return "", fmt.Errorf("write bundle: the record's times are out of order: %w", errors.Join(errs...))
	}
	dir, err := newDir(out, DirName(r))
	if err != nil {
		return "", err
	}

	// Evidence first: its digests go into the record.
	seen := map[string]bool{}
	for _, ev := range in.Evidence {
		if !nameRe().MatchString(ev.Name) || len(ev.Name) > 128 {
			return "", fmt.Errorf("write bundle: evidence name %q: use letters, digits, '.', '-' and '_'", ev.Name)
		}
		if seen[ev.Name] {
			return "", fmt.Errorf("write bundle: evidence %s given twice", ev.Name)
		}
		seen[ev.Name] = true
		if len(ev.Data) > maxEvidence {
			return "", fmt.Errorf("write bundle: evidence %s is larger than %d bytes", ev.Name, maxEvidence)
		}
		rel := EvidenceDir + "/" + ev.Name
		if err := record.WriteFileAtomic(filepath.Join(dir, EvidenceDir, ev.Name), ev.Data, evidencePerms); err != nil {
			return "", fmt.Errorf("write bundle: %w", err)
		}
		entry := record.Evidence{Name: rel, SHA256: digest(ev.Data), Description: ev.Description, CertSHA256: certDigest(ev.Data)}
		replaced := false
		for i := range r.Evidence {
			if r.Evidence[i].Name == rel {
				r.Evidence[i], replaced = entry, true
			}
		}
		if !replaced {
			r.Evidence = append(r.Evidence, entry)
		}
	}
	for _, e := range r.Evidence {
		if !seen[strings.TrimPrefix(e.Name, EvidenceDir+"/")] {
			return "", fmt.Errorf("write bundle: record lists evidence %s, but its content was not given", e.Name)
		}
	}

	r.Signer = &record.Signer{Identity: in.Identity, KeyType: in.Signer.PublicKey().Type(), Fingerprint: sshsig.Fingerprint(in.Signer.PublicKey())}
	data, err := record.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	sig, err := sshsig.Sign(in.Signer, sshsig.Namespace, bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	// What the PDF and OSCAL show is what record.json says: they are
	// rendered from its bytes, as verify renders them again.
	doc, ar, err := Derived(data, in.Paper)
	if err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{
		{RecordFile, data},
		{SigFile, sig},
		{AllowedFile, []byte(sshsig.Line(in.Identity, in.Signer.PublicKey()) + "\n")},
		{PDFFile, doc},
		{OSCALFile, ar},
	}
	for _, f := range files {
		if err := record.WriteFileAtomic(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return "", fmt.Errorf("write bundle: %w", err)
		}
	}
	return dir, nil
}

// Derived renders record.pdf (on paper, "A4" or "Letter") and
// oscal-ar.json from record.json's exact bytes. Both are pure functions
// of those bytes, so verify renders them again and compares.
func Derived(recordJSON []byte, paper string) (pdfDoc, oscalDoc []byte, err error) {
	r, err := decode(recordJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("read record: %w", err)
	}
	sum := digest(recordJSON)
	if pdfDoc, err = pdf.Render(r, sum, paper); err != nil {
		return nil, nil, err
	}
	if oscalDoc, err = oscal.AssessmentResults(r, sum); err != nil {
		return nil, nil, err
	}
	return pdfDoc, oscalDoc, nil
}

// certDigest is the SHA-256 of the first PEM certificate in data (the
// fingerprint browsers show), or "" if data holds none.
func certDigest(data []byte) string {
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return ""
		}
		if b.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(b.Bytes); err != nil {
				return ""
			}
			return digest(b.Bytes)
		}
	}
	return ""
}

// newDir makes out/base (or out/base-2, …) with its evidence folder; a
// folder that already holds a record.json is never reused.
func newDir(out, base string) (string, error) {
	for i := 1; i <= maxSuffixTry; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		dir := filepath.Join(out, name)
		if _, err := os.Lstat(filepath.Join(dir, RecordFile)); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("write bundle: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(dir, EvidenceDir), 0o755); err != nil {
			return "", fmt.Errorf("write bundle: %w", err)
		}
		return dir, nil
	}
	return "", fmt.Errorf("write bundle: %s already holds %d records for this device and date", out, maxSuffixTry)
}
