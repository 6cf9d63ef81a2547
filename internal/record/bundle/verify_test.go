package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/commission-tool/commission/internal/peertest"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/sshsig"
	"github.com/commission-tool/commission/internal/steps"
)

// plantFile writes the plant's own allowed_signers, trusting key as identity.
func plantFile(t *testing.T, key ssh.PublicKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plant_allowed_signers")
	if err := os.WriteFile(p, []byte(sshsig.Line(identity, key)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// verifyWithin runs Verify and fails the test if it does not return
// within a second: a hang guard, not a speed measurement.
func verifyWithin(t *testing.T, dir string, opts ...Option) Report {
	t.Helper()
	type res struct {
		rep Report
		err error
	}
	done := make(chan res, 1)
	go func() {
		rep, err := Verify(dir, opts...)
		done <- res{rep, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("verify: %v", r.err)
		}
		return r.rep
	case <-time.After(time.Second):
		t.Fatal("verify did not return within a second")
	}
	return Report{}
}

func TestTrustIsThePlantsNotTheBundles(t *testing.T) {
	r := sampleRecord()
	tech := newEd25519(t)
	plant := plantFile(t, tech.PublicKey())

	t.Run("genuine, plant's file", func(t *testing.T) {
		dir := write(t, tech, r)
		rep := verifyWithin(t, dir, WithAllowedSigners(plant))
		if !rep.OK() || !rep.Trusted || ExitCode(rep, nil) != ExitOK || rep.Signers[0] != identity {
			t.Fatalf("problems %v trusted %v exit %d", rep.Problems, rep.Trusted, ExitCode(rep, nil))
		}
	})
	t.Run("genuine, no plant file: own exit code", func(t *testing.T) {
		dir := write(t, tech, r)
		rep := verifyWithin(t, dir)
		if !rep.OK() || rep.Trusted || ExitCode(rep, nil) != ExitUntrusted {
			t.Fatalf("problems %v trusted %v exit %d, want %d", rep.Problems, rep.Trusted, ExitCode(rep, nil), ExitUntrusted)
		}
	})
	t.Run("forged self-signed bundle", func(t *testing.T) {
		// Anyone can write a bundle with any key and its own signer line.
		dir := write(t, newEd25519(t), r)
		if rep := verifyWithin(t, dir); ExitCode(rep, nil) == ExitOK {
			t.Fatal("a self-signed bundle verifies with exit 0 without the plant's allowed_signers")
		}
		rep := verifyWithin(t, dir, WithAllowedSigners(plant))
		if rep.OK() || rep.Trusted || !hasProblem(rep, plant, "does not trust the signing key") {
			t.Fatalf("forged bundle against the plant's file: problems %v", rep.Problems)
		}
	})
	t.Run("edited signer name", func(t *testing.T) {
		dir := write(t, tech, r)
		p := filepath.Join(dir, AllowedFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.Replace(b, []byte(identity), []byte("chief.engineer@plant.example"), 1), 0o644)
		rep := verifyWithin(t, dir)
		if rep.OK() || !hasProblem(rep, AllowedFile, "does not trust") {
			t.Fatalf("edited name in allowed_signers: problems %v", rep.Problems)
		}
		for _, s := range rep.Signers {
			if strings.Contains(s, "chief.engineer") {
				t.Fatalf("the edited, unsigned name is reported as the signer: %v", rep.Signers)
			}
		}
	})
	t.Run("signer in record.json names another key", func(t *testing.T) {
		// record.json claims the technician's key but is signed by another.
		bad := r
		dir := write(t, tech, bad)
		data, _ := os.ReadFile(filepath.Join(dir, RecordFile))
		other := newEd25519(t)
		sig, _ := sshsig.Sign(other, sshsig.Namespace, bytes.NewReader(data))
		os.WriteFile(filepath.Join(dir, SigFile), sig, 0o644)
		os.WriteFile(filepath.Join(dir, AllowedFile), []byte(sshsig.Line(identity, other.PublicKey())+"\n"), 0o644)
		rep := verifyWithin(t, dir)
		if rep.OK() || !hasProblem(rep, RecordFile, "names the signing key") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
}

func TestDerivedFilesAreRenderedAgain(t *testing.T) {
	r := sampleRecord()
	s := newEd25519(t)
	cat := catalogOf(r)
	for _, c := range []struct {
		name, file, want string
		spoil            func(t *testing.T, dir string)
	}{
		{"deleted PDF", PDFFile, "missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, PDFFile)) }},
		{"deleted OSCAL", OSCALFile, "missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, OSCALFile)) }},
		{"another device's PDF", PDFFile, "not the PDF", func(t *testing.T, dir string) {
			other := sampleRecord()
			other.ID = "00000000000000000000000000000001"
			other.Device.MAC = "00:90:E8:00:00:01"
			odir := write(t, s, other)
			b, _ := os.ReadFile(filepath.Join(odir, PDFFile))
			os.WriteFile(filepath.Join(dir, PDFFile), b, 0o644)
		}},
		{"edited OSCAL", OSCALFile, "not the OSCAL", func(t *testing.T, dir string) {
			p := filepath.Join(dir, OSCALFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"not-satisfied"`), []byte(`"satisfied"`), -1), 0o644)
			os.WriteFile(p, append(b, ' '), 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := write(t, s, r)
			c.spoil(t, dir)
			rep := verifyWithin(t, dir, WithCatalog(cat))
			if !hasProblem(rep, c.file, c.want) || ExitCode(rep, nil) != ExitFailed {
				t.Fatalf("problems %v, want %s: %s", rep.Problems, c.file, c.want)
			}
		})
	}
	// Letter paper renders again too.
	dir, err := Write(t.TempDir(), Input{Record: r, Evidence: sampleEvidence(), Signer: s, Identity: identity, Paper: "Letter"})
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyWithin(t, dir, WithCatalog(cat)); !rep.OK() || !rep.Rendered {
		t.Fatalf("Letter bundle: %v", rep.Problems)
	}
}

func TestHostilePatternInAllowedSigners(t *testing.T) {
	r := sampleRecord()
	s := newEd25519(t)
	dir := write(t, s, r)
	line := sshsig.Line(identity, s.PublicKey())
	hostile := strings.Repeat("a*", 60) + "b," + strings.Repeat("*a", 60) + "?b"
	os.WriteFile(filepath.Join(dir, AllowedFile), []byte(strings.Replace(line, identity, hostile, 1)+"\n"), 0o644)
	rep := verifyWithin(t, dir)
	if rep.OK() || !hasProblem(rep, AllowedFile, "does not trust") {
		t.Fatalf("problems %v", rep.Problems)
	}
}

func TestCompletenessIsApartFromIntegrity(t *testing.T) {
	s := newEd25519(t)
	plant := plantFile(t, s.PublicKey())
	r := sampleRecord()
	r.Steps[0].Outcome, r.Steps[0].After = steps.Deviation, nil
	r.Summary = map[string]int{"deviation": 1, "waived": 1, "compliant": 1, "attested": 1}
	r.Status = record.StatusOf(r)

	// Signing an incomplete wizard record needs a reason.
	_, err := Write(t.TempDir(), Input{Record: r, Evidence: sampleEvidence(), Signer: s, Identity: identity})
	if !errors.Is(err, record.ErrIncompleteNoReason) {
		t.Fatalf("an incomplete record without a reason was signed: %v", err)
	}
	r.Status.Reason = "spare part for the HTTPS module arrives next week"
	dir := write(t, s, r)
	rep := verifyWithin(t, dir, WithCatalog(catalogOf(r)), WithAllowedSigners(plant))
	if !rep.OK() || ExitCode(rep, nil) != ExitOK {
		t.Fatalf("an intact incomplete record fails integrity: %v", rep.Problems)
	}
	if rep.Status.State != record.StatusIncomplete || !strings.HasPrefix(rep.Headline, "INCOMPLETE: 1 of 4 steps open") ||
		len(rep.Status.Open) != 1 || rep.Status.Open[0] != "nport.2.1.password" || rep.Status.Reason == "" {
		t.Fatalf("completeness: %+v %q", rep.Status, rep.Headline)
	}

	// A record that claims to be commissioned while a step is open fails integrity.
	lie := r
	lie.Status = record.Status{State: record.StatusCommissioned, Waivers: 1}
	dir = write(t, s, lie)
	if rep := verifyWithin(t, dir, WithCatalog(catalogOf(r))); !hasProblem(rep, RecordFile, "status") {
		t.Fatalf("a false status passes: %v", rep.Problems)
	}
}

// observed is a tiny family state for the recheck test.
type observed struct {
	Telnet bool `json:"telnet"`
}

func TestOutcomesAreComputedAgain(t *testing.T) {
	s := newEd25519(t)
	r := sampleRecord()
	// The password step is fixed; its check reads "telnet" (for brevity).
	check := func(raw json.RawMessage) (map[string]steps.Finding, error) {
		var st observed
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, err
		}
		f := steps.Finding{Applicable: true, Compliant: !st.Telnet, Observed: map[bool]string{true: "telnet on", false: "telnet off"}[st.Telnet], Expected: "telnet off"}
		return map[string]steps.Finding{"nport.2.1.password": f, "nport.5.1.tls": {Applicable: true, Compliant: true}}, nil
	}
	r.Observations = &record.Observations{At: r.Finished, State: json.RawMessage(`{"telnet":false}`)}
	dir := write(t, s, r)
	rep := verifyWithin(t, dir, WithRecheck(check))
	if !rep.OK() || rep.Recomputed != 2 {
		t.Fatalf("problems %v, recomputed %d", rep.Problems, rep.Recomputed)
	}
	// Edit the observations and sign again: the signature holds, the outcome does not follow.
	r.Observations.State = json.RawMessage(`{"telnet":true}`)
	dir = write(t, s, r)
	rep = verifyWithin(t, dir, WithRecheck(check))
	if !hasProblem(rep, RecordFile, "step nport.2.1.password (Change the default password): recorded fixed") {
		t.Fatalf("problems %v", rep.Problems)
	}
	// No observations at all.
	r.Observations = nil
	dir = write(t, s, r)
	if rep := verifyWithin(t, dir, WithRecheck(check)); !hasProblem(rep, RecordFile, "no observations") {
		t.Fatalf("problems %v", rep.Problems)
	}
}

func TestEvidenceCertificateFingerprint(t *testing.T) {
	pemCert, der := selfSigned(t)
	s := newEd25519(t)
	ev := append(sampleEvidence()[1:], EvidenceFile{Name: "https-certificate.pem", Description: "HTTPS certificate", Data: pemCert})
	dir, err := Write(t.TempDir(), Input{Record: sampleRecord(), Evidence: ev, Signer: s, Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := record.Load(filepath.Join(dir, RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, e := range r.Evidence {
		if e.Name == "evidence/https-certificate.pem" {
			got = e.CertSHA256
		}
	}
	if got != digest(der) {
		t.Fatalf("cert_sha256 %q, want the DER's %s", got, digest(der))
	}
	if pdftotext, ok := peertest.Optional(t, "pdftotext"); ok {
		out, err := exec.Command(pdftotext, filepath.Join(dir, PDFFile), "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		pairs := strings.ToUpper(got[:2] + ":" + got[2:4] + ":" + got[4:6])
		if !strings.Contains(string(out), pairs) {
			t.Fatalf("PDF does not show the certificate fingerprint as hex pairs (%s)", pairs)
		}
	}
}

func selfSigned(t *testing.T) (pemData, der []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "nport.plant.example"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), der
}
