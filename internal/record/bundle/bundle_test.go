package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/peertest"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/sshsig"
	"github.com/commission-tool/commission/internal/steps"
)

const (
	identity   = "ada@vendor.example"
	sampleDir  = "testdata/sample"
	sampleKey  = "testdata/test_ed25519" // a TEST key: it signs nothing but the sample
	sampleName = "NPort-5150A-0090E8123456-20261122"
)

func sampleRecord() record.Record {
	t0 := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	r := record.Record{
		Schema: record.Schema, ID: "5f1c0a9e2b7d4c315f1c0a9e2b7d4c31", Mode: record.ModeWizard,
		Tool:       record.Tool{Name: "commission", Version: "sample"},
		Device:     devices.Identity{Family: "nport", Model: "NPort 5150A", Firmware: "1.6 Build 21051010", MAC: "00:90:E8:12:34:56", Address: "127.0.0.1", Sources: []string{"udp4800"}},
		Guide:      "Moxa NPort 5000 Series Hardening Guide v1.0",
		Technician: record.Technician{Name: "Ada Tech", Company: "Vendor Service", Email: identity},
		Site:       "Plant 7, line 2",
		Started:    t0, Finished: t0.Add(40 * time.Minute),
		Steps: []record.Step{
			{ID: "nport.2.1.password", Guide: "2.1", Title: "Change the default password", Kind: steps.Automatic,
				SRs: []string{"SR 1.5", "SR 1.1"}, Outcome: steps.Fixed,
				Before:  &steps.Finding{Applicable: true, Observed: "default password accepted", Expected: "default refused"},
				After:   &steps.Finding{Compliant: true, Applicable: true, Observed: "default refused", Expected: "default refused"},
				Changes: []steps.Change{{Setting: "admin password", From: "(default)", To: "(changed, not recorded)"}}, At: t0.Add(5 * time.Minute)},
			{ID: "nport.3.1.telnet", Guide: "3.1", Title: "Disable Telnet", Kind: steps.Automatic,
				SRs: []string{"SR 7.7"}, Outcome: steps.Waived, Reason: "the legacy HMI needs Telnet until its upgrade in Q3", At: t0.Add(10 * time.Minute)},
			{ID: "nport.5.1.tls", Guide: "5.1", Title: "Use a CA-signed TLS certificate", Kind: steps.Automatic,
				SRs: []string{"SR 1.8", "SR 3.1", "SR 4.1"}, Outcome: steps.Compliant,
				Before: &steps.Finding{Compliant: true, Applicable: true, Observed: "CN=nport-7.plant.example, issuer Plant CA", Expected: "a certificate from the plant CA"},
				At:     t0.Add(12 * time.Minute)},
			{ID: "nport.9.1.backup", Guide: "9.1", Title: "Keep a configuration backup", Kind: steps.Manual,
				SRs: []string{"SR 7.3"}, Outcome: steps.Attested, Evidence: "technician: backup stored in the plant archive", At: t0.Add(30 * time.Minute)},
		},
		Summary: map[string]int{"fixed": 1, "waived": 1, "compliant": 1, "attested": 1},
	}
	r.Status = record.StatusOf(r)
	return r
}

func catalogOf(r record.Record) []steps.Meta {
	var c []steps.Meta
	for _, s := range r.Steps {
		c = append(c, steps.Meta{ID: s.ID, Kind: s.Kind, Section: s.Guide, Title: s.Title, SRs: s.SRs})
	}
	return c
}

func sampleEvidence() []EvidenceFile {
	return []EvidenceFile{
		{Name: "tls-443.pem", Description: "certificate seen on port 443", Data: []byte("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")},
		{Name: "probe-transcript.txt", Description: "outside port probe", Data: []byte("127.0.0.1:23 open\n127.0.0.1:80 closed\n127.0.0.1:443 open TLS1.2\n")},
	}
}

func newEd25519(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hasProblem(rep Report, file, contains string) bool {
	for _, p := range rep.Problems {
		if p.File == file && strings.Contains(p.Message, contains) {
			return true
		}
	}
	return false
}

func write(t *testing.T, s ssh.Signer, r record.Record) string {
	t.Helper()
	dir, err := Write(t.TempDir(), Input{Record: r, Evidence: sampleEvidence(), Signer: s, Identity: identity, Paper: "A4"})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteAndVerify(t *testing.T) {
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerFromKey(rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []ssh.Signer{newEd25519(t), rsaSigner} {
		t.Run(s.PublicKey().Type(), func(t *testing.T) {
			r := sampleRecord()
			dir := write(t, s, r)
			if filepath.Base(dir) != sampleName {
				t.Errorf("bundle folder %s, want %s", filepath.Base(dir), sampleName)
			}
			for _, f := range []string{RecordFile, SigFile, AllowedFile, PDFFile, OSCALFile, "evidence/tls-443.pem", "evidence/probe-transcript.txt"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("bundle lacks %s: %v", f, err)
				}
			}
			data, _ := os.ReadFile(filepath.Join(dir, RecordFile))
			if bytes.Contains(data, []byte("\r")) || !bytes.HasSuffix(data, []byte("}\n")) {
				t.Error("record.json is not LF-terminated JSON")
			}
			rep, err := Verify(dir, WithCatalog(catalogOf(r)), WithIdentity(identity))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || ExitCode(rep, nil) != ExitUntrusted || rep.Trusted {
				t.Fatalf("fresh bundle, checked against its own allowed_signers: problems %v, exit %d, want %d", rep.Problems, ExitCode(rep, nil), ExitUntrusted)
			}
			plant := filepath.Join(t.TempDir(), "plant_allowed_signers")
			os.WriteFile(plant, []byte(sshsig.Line(identity, s.PublicKey())+"\n"), 0o644)
			if rep, err := Verify(dir, WithCatalog(catalogOf(r)), WithAllowedSigners(plant)); err != nil || !rep.OK() || !rep.Trusted || ExitCode(rep, nil) != ExitOK {
				t.Fatalf("fresh bundle against the plant's allowed_signers: %v %v exit %d", err, rep.Problems, ExitCode(rep, err))
			}
			if len(rep.Signers) != 1 || rep.Signers[0] != identity || rep.Fingerprint != sshsig.Fingerprint(s.PublicKey()) || !rep.CatalogChecked {
				t.Fatalf("report %+v", rep)
			}
			allowed, _ := os.ReadFile(filepath.Join(dir, AllowedFile))
			if want := identity + ` namespaces="` + sshsig.Namespace + `" ` + s.PublicKey().Type() + " "; !strings.HasPrefix(string(allowed), want) {
				t.Errorf("allowed_signers %q, want prefix %q", allowed, want)
			}
			sshKeygenVerify(t, dir, identity, true)
			sshKeygenVerify(t, dir, "intruder@vendor.example", false)
		})
	}
}

func TestWriteNeverReplacesARecord(t *testing.T) {
	out := t.TempDir()
	s := newEd25519(t)
	in := Input{Record: sampleRecord(), Evidence: sampleEvidence(), Signer: s, Identity: identity}
	first, err := Write(out, in)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(first, RecordFile))
	in.Record.Site = "another site"
	second, err := Write(out, in)
	if err != nil {
		t.Fatal(err)
	}
	if second != first+"-2" {
		t.Fatalf("second bundle in %s, want %s-2", second, first)
	}
	after, _ := os.ReadFile(filepath.Join(first, RecordFile))
	if !bytes.Equal(before, after) {
		t.Fatal("the first record.json was rewritten")
	}
	for _, bad := range []Input{
		{Record: sampleRecord(), Signer: s, Identity: "two words"},
		{Record: sampleRecord(), Signer: s, Identity: identity, Evidence: []EvidenceFile{{Name: "../escape", Data: []byte("x")}}},
		{Record: sampleRecord(), Identity: identity},
		{Record: record.Record{}, Signer: s, Identity: identity},
	} {
		if _, err := Write(out, bad); err == nil {
			t.Errorf("Write accepted a bad input (identity %q)", bad.Identity)
		}
	}
}

// Changing any single byte of record.json or of an evidence file makes
// Verify fail with a problem that names the file.
func TestEverySingleByteChangeIsCaught(t *testing.T) {
	r := sampleRecord()
	dir := write(t, newEd25519(t), r)
	cat := catalogOf(r)
	for _, name := range []string{RecordFile, "evidence/tls-443.pem", "evidence/probe-transcript.txt"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range orig {
			mod := bytes.Clone(orig)
			mod[i] ^= 0x01
			if err := os.WriteFile(p, mod, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(dir, WithCatalog(cat))
			if err != nil {
				t.Fatal(err)
			}
			if !hasProblem(rep, name, "") || ExitCode(rep, err) != ExitFailed {
				t.Fatalf("byte %d of %s changed: problems %v do not name the file", i, name, rep.Problems)
			}
		}
		if err := os.WriteFile(p, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rep, _ := Verify(dir, WithCatalog(cat)); !rep.OK() {
		t.Fatalf("restored bundle does not verify: %v", rep.Problems)
	}
}

func TestVerifyProblems(t *testing.T) {
	r := sampleRecord()
	s := newEd25519(t)
	cat := catalogOf(r)

	t.Run("missing signature", func(t *testing.T) {
		dir := write(t, s, r)
		os.Remove(filepath.Join(dir, SigFile))
		rep, _ := Verify(dir)
		if !hasProblem(rep, SigFile, "missing") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("another key in allowed_signers", func(t *testing.T) {
		dir := write(t, s, r)
		other := filepath.Join(t.TempDir(), "plant_allowed_signers")
		os.WriteFile(other, []byte(sshsig.Line(identity, newEd25519(t).PublicKey())+"\n"), 0o644)
		rep, err := Verify(dir, WithAllowedSigners(other))
		if err != nil || !hasProblem(rep, other, "not an allowed signer") {
			t.Fatalf("problems %v, %v", rep.Problems, err)
		}
	})
	t.Run("wrong identity", func(t *testing.T) {
		dir := write(t, s, r)
		rep, _ := Verify(dir, WithIdentity("intruder@vendor.example"))
		if !hasProblem(rep, RecordFile, "not as the required identity") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("signed for another namespace", func(t *testing.T) {
		dir := write(t, s, r)
		data, _ := os.ReadFile(filepath.Join(dir, RecordFile))
		sig, err := sshsig.Sign(s, "file", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, SigFile), sig, 0o644)
		rep, _ := Verify(dir)
		if !hasProblem(rep, SigFile, "namespace") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("catalog step missing", func(t *testing.T) {
		dir := write(t, s, r)
		more := append(catalogOf(r), steps.Meta{ID: "nport.6.1.syslog", Kind: steps.Automatic})
		rep, _ := Verify(dir, WithCatalog(more))
		if !hasProblem(rep, RecordFile, "nport.6.1.syslog") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("waiver without reason", func(t *testing.T) {
		bad := sampleRecord()
		bad.Steps[1].Reason = ""
		dir := write(t, s, bad) // signed as it is: the signature is fine, the record is not
		rep, _ := Verify(dir, WithCatalog(cat))
		if !hasProblem(rep, RecordFile, "without a reason") || len(rep.Problems) != 1 {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("unlisted evidence", func(t *testing.T) {
		dir := write(t, s, r)
		os.WriteFile(filepath.Join(dir, "evidence", "extra.txt"), []byte("x"), 0o644)
		rep, _ := Verify(dir, WithCatalog(cat))
		if !hasProblem(rep, "evidence/extra.txt", "not listed") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("missing evidence", func(t *testing.T) {
		dir := write(t, s, r)
		os.Remove(filepath.Join(dir, "evidence", "tls-443.pem"))
		rep, _ := Verify(dir, WithCatalog(cat))
		if !hasProblem(rep, "evidence/tls-443.pem", "missing") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("no bundle", func(t *testing.T) {
		rep, err := Verify(filepath.Join(t.TempDir(), "nothing"))
		if err == nil || ExitCode(rep, err) != ExitUsage {
			t.Fatalf("got %v, exit %d", err, ExitCode(rep, err))
		}
		if _, err := Verify(t.TempDir(), WithAllowedSigners(filepath.Join(t.TempDir(), "none"))); err == nil {
			t.Fatal("unreadable --allowed-signers is not a usage error")
		}
	})
}

// sshKeygenVerify runs the command the README shows.
func sshKeygenVerify(t *testing.T, dir, id string, wantOK bool) {
	t.Helper()
	keygen, ok := peertest.Optional(t, "ssh-keygen")
	if !ok {
		return
	}
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, keygen, "-Y", "verify", "-f", AllowedFile, "-I", id, "-n", sshsig.Namespace, "-s", SigFile)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if wantOK && err != nil {
		t.Fatalf("ssh-keygen -Y verify as %s: %v: %s", id, err, out)
	}
	if !wantOK && err == nil {
		t.Fatalf("ssh-keygen -Y verify accepted %s: %s", id, out)
	}
}

func loadTestKey(t *testing.T) ssh.Signer {
	t.Helper()
	b, err := os.ReadFile(sampleKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSampleBundle checks that the committed sample bundle verifies, with
// this package (against the plant's allowed_signers, which trusts the
// test key) and with ssh-keygen. The sample comes from a scripted
// simulator session with the real catalog: cmd/commission's
// TestSampleBundleVerifiesThroughTheCLI_Simulator writes it with
// -update-sample and checks it against the NPort catalog.
func TestSampleBundle(t *testing.T) { verifyAsPlant(t, sampleDir) }

// verifyAsPlant verifies dir against a plant's allowed_signers that
// trusts the test key, with this package and with ssh-keygen.
func verifyAsPlant(t *testing.T, dir string) {
	t.Helper()
	key := loadTestKey(t)
	plant := filepath.Join(t.TempDir(), "plant_allowed_signers")
	os.WriteFile(plant, []byte(sshsig.Line(identity, key.PublicKey())+"\n"), 0o644)
	rep, err := Verify(dir, WithIdentity(identity), WithAllowedSigners(plant))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !rep.Trusted || !rep.Rendered {
		t.Fatalf("%s does not verify: %v", dir, rep.Problems)
	}
	if rep.Fingerprint != sshsig.Fingerprint(key.PublicKey()) {
		t.Fatalf("%s signed by %s, not the test key", dir, rep.Fingerprint)
	}
	sshKeygenVerify(t, dir, identity, true)
}

// TestOlderRecordStillVerifies: a bundle written by an earlier version
// of the tool (testdata/sample-v2, the sample as it was signed in a
// commission.record/v2 record, kept byte for byte) verifies with this
// one: its signature, its evidence, and its PDF and OSCAL export
// rendered again from its record.json byte for byte. An auditor opens
// old records with a new tool.
func TestOlderRecordStillVerifies(t *testing.T) {
	const dir = "testdata/sample-v2"
	r, _, err := record.Load(filepath.Join(dir, RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.Schema != record.SchemaV2 {
		t.Fatalf("%s holds a %s record; it must stay the v2 one it was signed as", dir, r.Schema)
	}
	verifyAsPlant(t, dir)
}

// BenchmarkVerify verifies the sample bundle: signature, evidence
// digests, and the PDF and OSCAL rendered again and compared.
func BenchmarkVerify(b *testing.B) {
	for b.Loop() {
		rep, err := Verify(sampleDir)
		if err != nil || !rep.OK() || !rep.Rendered {
			b.Fatal(err, rep.Problems)
		}
	}
}
