package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	npcatalog "github.com/commission-tool/commission/internal/catalog/nport"

	"golang.org/x/crypto/ssh"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/sshsig"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

var updateSample = flag.Bool("update-sample", false, "write the sample bundle again from a scripted simulator session")

const (
	sampleDir      = "../../internal/record/bundle/testdata/sample"
	sampleKey      = "../../internal/record/bundle/testdata/test_ed25519" // a TEST key: it signs nothing but the sample
	sampleIdentity = "ada@vendor.example"
)

// sampleInputs answers the NPort steps that need inputs. The passwords
// are test values; the test checks that none reaches a written file.
var sampleInputs = map[string]steps.Values{
	"nport.3.1.syslog":          {"server": "127.0.0.1"},
	"nport.3.2.personal-admin":  {"name": "tech1", "password": "Fld#Tech2026!abc", "confirm": "Fld#Tech2026!abc"},
	"nport.3.2.default-admin":   {"password": "Vault#Adm1n!Key9", "confirm": "Vault#Adm1n!Key9"},
	"nport.3.2.password-policy": {"lifetime": "30"},
	"nport.3.2.login-message":   {"message": npcatalog.DefaultBanner},
	"nport.3.3.accessible-ip":   {"rules": "127.0.0.1\n10.10.0.0/16"},
}

var sampleSecrets = []string{"Fld#Tech2026!abc", "Vault#Adm1n!Key9", `"moxa"`}

// labTarget is the target for one of the lab's simulated devices, with
// its certificate trusted.
func labTarget(t *testing.T, lab *demoLab, family string) target {
	t.Helper()
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range lab.devices {
		if d.Family != family {
			continue
		}
		port := d.Ports["https"]
		if port == 0 {
			port = d.Ports["config-https"]
		}
		for i, a := range d.AuditArgs {
			if a == "--fingerprint" && i+1 < len(d.AuditArgs) {
				if err := pins.Trust(fmt.Sprintf("%s:%d", d.Address, port), d.AuditArgs[i+1]); err != nil {
					t.Fatal(err)
				}
			}
		}
		return target{Family: family, Address: d.Address, User: d.User, Password: d.Password, Ports: d.Ports,
			Pins: pins, Timeout: 2 * time.Second, Since: time.Now().Add(-time.Minute)}
	}
	t.Fatalf("the lab has no %s", family)
	return target{}
}

// scriptedNPort hardens the lab's factory-default NPort with the real
// catalog: every deviation planned and applied, one Save/Restart, the
// manual steps attested, one waived.
//
// It returns the engine, when the session began and when its restart
// began.
func scriptedNPort(t *testing.T, ctx context.Context, lab *demoLab) (eng engine, started, restarted time.Time) {
	t.Helper()
	started = time.Now().UTC()
	eng, err := newEngine(labTarget(t, lab, "nport"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	defer func() { restarted = restarted.UTC() }()
	if err := eng.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range eng.Results() {
		if r.Outcome != steps.Deviation {
			continue
		}
		if _, err := eng.Plan(r.StepID, sampleInputs[r.StepID]); err != nil {
			t.Fatalf("plan %s: %v", r.StepID, err)
		}
		if err := eng.Apply(ctx, r.StepID); err != nil {
			t.Fatalf("apply %s: %v", r.StepID, err)
		}
	}
	restarted = time.Now()
	if err := eng.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range eng.Steps() {
		if r := eng.Result(m.ID); r.Outcome.Final() || m.Kind != steps.Manual {
			continue
		}
		if m.ID == "nport.4.2.firmware-hash" {
			if err := eng.Waive(m.ID, "no firmware upload at commissioning; the next one is checked by the plant's OT team"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		in := steps.Values{}
		for _, inp := range m.Inputs {
			in[inp.Key] = "OT security team"
		}
		if err := eng.Attest(ctx, m.ID, in, "checked on site with the plant's engineer"); err != nil {
			t.Fatalf("attest %s: %v", m.ID, err)
		}
	}
	return eng, started, restarted
}

func loadSampleKey(t testing.TB) ssh.Signer {
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

// plantSigners writes an allowed_signers file, as the plant keeps it,
// that trusts key as identity.
func plantSigners(t testing.TB, key ssh.PublicKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plant_allowed_signers")
	if err := os.WriteFile(p, []byte(sshsig.Line(sampleIdentity, key)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSampleBundleVerifiesThroughTheCLI_Simulator: the sample bundle the
// README points auditors at comes from a scripted session against the
// NPort simulator with the real catalog (go test -run SampleBundle
// -update-sample writes it again), and `commission verify` accepts it with the
// plant's allowed_signers, exit 0; without it, it exits 4.
func TestSampleBundleVerifiesThroughTheCLI_Simulator(t *testing.T) {
	if *updateSample {
		ctx := context.Background()
		lab, err := startLab(ctx, 50*time.Millisecond, true)
		if err != nil {
			t.Fatal(err)
		}
		defer lab.Close()
		eng, started, restarted := scriptedNPort(t, ctx, lab)
		// Everything the record holds is taken before the session is
		// stamped finished, as the wizard does it.
		facts := evidenceOf(eng)
		if facts.Err != nil {
			t.Fatal(facts.Err)
		}
		finished := time.Now().UTC()
		rec := record.Build(record.Meta{
			Tool: record.Tool{Name: "commission", Version: "sample"}, Mode: record.ModeWizard,
			Device: eng.Identity(), Guide: eng.Guide(),
			Technician: record.Technician{Name: "Ada Field", Company: "Acme Integrators", Email: sampleIdentity},
			Site:       "Plant 3, line 2 (sample)", Started: started, Finished: finished,
			Restarted:    restarted,
			Observations: facts.Observations,
			Simulated:    true, // the sample is a simulator session and must say so
			Waivers:      map[string]record.Waiver{"nport.4.2.firmware-hash": {Approver: "J. Meyer, OT security lead", Expires: "2027-06-30"}},
			Acceptance:   &record.Acceptance{Name: "J. Meyer", Role: "OT security lead, Plant 3"},
		}, eng.Results(), eng.Steps())
		if errs := record.Check(rec, eng.Steps()); len(errs) > 0 {
			t.Fatalf("record: %v", errs)
		}
		out := t.TempDir()
		dir, err := bundle.Write(out, bundle.Input{Record: rec, Evidence: facts.Evidence, Signer: loadSampleKey(t), Identity: sampleIdentity})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(sampleDir); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(sampleDir, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	// The sample does not contradict itself: it finished no earlier than
	// any time it holds (checked here on its own, before verify's Check).
	if rec, _, err := record.Load(filepath.Join(sampleDir, bundle.RecordFile)); err != nil {
		t.Fatal(err)
	} else {
		newest := newestTime(rec)
		if rec.Finished.Before(newest) || rec.Finished.Before(rec.Started) {
			t.Errorf("the sample finished at %s, before its newest time %s (started %s)", rec.Finished, newest, rec.Started)
		}
	}
	plant := plantSigners(t, loadSampleKey(t).PublicKey())
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"verify", "--allowed-signers", plant, sampleDir}, strings.NewReader(""), &stdout, &stderr)
	if err != nil || codeOf(err) != ExitOK {
		t.Fatalf("commission verify on the sample: %v (exit %d)\n%s%s", err, codeOf(err), stdout.String(), stderr.String())
	}
	for _, want := range []string{"integrity: OK", "trusted by the plant's", "rendered again", "completeness: SIMULATED DEVICE - NOT A COMMISSIONING RECORD"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "outcomes computed again from the observations: 0") {
		t.Errorf("no outcome was computed again:\n%s", stdout.String())
	}
	stdout.Reset()
	err = run(context.Background(), []string{"verify", sampleDir}, strings.NewReader(""), &stdout, &stderr)
	if codeOf(err) != ExitUntrusted || !strings.Contains(stdout.String(), "NOT checked against a signer the plant trusts") {
		t.Fatalf("verify without --allowed-signers: exit %d, want %d:\n%s", codeOf(err), ExitUntrusted, stdout.String())
	}
	// The sample is a real session: it holds evidence and observations, and no secret.
	rec, _, err := record.Load(filepath.Join(sampleDir, bundle.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Observations == nil || len(rec.Evidence) == 0 || rec.Device.Family != "nport" {
		t.Fatalf("the sample lacks observations or evidence: %+v", rec.Evidence)
	}
	metas, _, _ := stepMetas("nport")
	if len(rec.Steps) != len(metas) {
		t.Fatalf("the sample has %d steps, the NPort catalog %d", len(rec.Steps), len(metas))
	}
	filepath.Walk(sampleDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range sampleSecrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a secret", p)
			}
		}
		return nil
	})
}

// newestTime is the latest time r holds beside Started and Finished: its
// steps', its restart's and its observations'.
func newestTime(r record.Record) time.Time {
	var newest time.Time
	later := func(t time.Time) {
		if t.After(newest) {
			newest = t
		}
	}
	for _, s := range r.Steps {
		later(s.At)
	}
	later(r.Restarted)
	if r.Observations != nil {
		later(r.Observations.At)
	}
	return newest
}

// TestEditedObservationsAreNamedByVerify_Simulator: a record whose
// observations were edited and signed again still has a good signature,
// but its recorded outcome no longer follows; verify names the step.
func TestEditedObservationsAreNamedByVerify_Simulator(t *testing.T) {
	ctx := context.Background()
	lab, err := startLab(ctx, 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	eng, _, _ := scriptedNPort(t, ctx, lab)

	// The real checks on the session's observations agree with every recorded outcome.
	obs, err := eng.Observations()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := lookupFamily("nport")
	found, err := f.Recheck(obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range eng.Results() {
		fd, ok := found[r.StepID]
		switch {
		case r.Meta.Kind != steps.Automatic || (r.Outcome != steps.Fixed && r.Outcome != steps.Compliant && r.Outcome != steps.Deviation):
		case !ok:
			t.Errorf("%s: no finding recomputed", r.StepID)
		case (r.Outcome != steps.Deviation) != (fd.Compliant && fd.Applicable):
			t.Errorf("%s: recorded %s, recomputed %+v", r.StepID, r.Outcome, fd)
		}
	}

	// Edit the observations to say Telnet is on, and sign again.
	var st map[string]any
	if err := json.Unmarshal(obs, &st); err != nil {
		t.Fatal(err)
	}
	st["console"].(map[string]any)["telnet"] = true
	edited, _ := json.Marshal(st)
	finished := time.Now().UTC()
	rec := record.Build(record.Meta{Tool: record.Tool{Name: "commission", Version: "test"}, Mode: record.ModeWizard,
		Device: eng.Identity(), Guide: eng.Guide(), Technician: record.Technician{Name: "Ada", Email: sampleIdentity},
		Started: finished.Add(-time.Hour), Finished: finished,
		Observations: &record.Observations{At: finished, State: edited}}, eng.Results(), eng.Steps())
	signer := loadSampleKey(t)
	dir, err := bundle.Write(t.TempDir(), bundle.Input{Record: rec, Signer: signer, Identity: sampleIdentity})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"verify", "--allowed-signers", plantSigners(t, signer.PublicKey()), dir}, strings.NewReader(""), &stdout, &stderr)
	if codeOf(err) != ExitDeviation || !strings.Contains(stdout.String(), "step nport.3.1.telnet") || !strings.Contains(stdout.String(), "but its observations show") {
		t.Fatalf("verify of edited observations: exit %d\n%s", codeOf(err), stdout.String())
	}
}

// TestEveryFamilysBundleHasEvidence_Simulator: the ThingsPro and Kepware
// bundles list evidence files their family offers, and verify checks
// their digests.
func TestEveryFamilysBundleHasEvidence_Simulator(t *testing.T) {
	ctx := context.Background()
	lab, err := startLab(ctx, 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	signer := loadSampleKey(t)
	plant := plantSigners(t, signer.PublicKey())
	for _, fam := range []string{"thingspro", "kepware"} { // the NPort's: the sample bundle

		t.Run(fam, func(t *testing.T) {
			eng, err := newEngine(labTarget(t, lab, fam), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			if err := eng.Open(ctx); err != nil {
				t.Fatal(err)
			}
			facts := evidenceOf(eng) // before Finished, as the audit does it
			rec := record.Build(record.Meta{Tool: record.Tool{Name: "commission", Version: "test"}, Mode: record.ModeAudit,
				Device: eng.Identity(), Guide: eng.Guide(), Technician: record.Technician{Name: "Ada", Email: sampleIdentity},
				Started: time.Now().Add(-time.Minute), Finished: time.Now(), Observations: facts.Observations}, eng.Results(), eng.Steps())
			names := map[string]bool{}
			for _, e := range facts.Evidence {
				names[e.Name] = true
			}
			if !names["https-certificate.pem"] || !names["probes.txt"] {
				t.Fatalf("%s offers evidence %v, want at least the certificate and the probes", fam, names)
			}
			dir, err := bundle.Write(t.TempDir(), bundle.Input{Record: rec, Evidence: facts.Evidence, Signer: signer, Identity: sampleIdentity})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verifyDir(dir, plant, "")
			if err != nil || !rep.OK() || !rep.Trusted || rep.Recomputed == 0 {
				t.Fatalf("verify: %v %v (recomputed %d)", err, rep.Problems, rep.Recomputed)
			}
			if keep := os.Getenv("COMMISSION_PDF_DIR"); keep != "" { // to look at the pages
				b, _ := os.ReadFile(filepath.Join(dir, bundle.PDFFile))
				os.MkdirAll(keep, 0o755)
				os.WriteFile(filepath.Join(keep, fam+".pdf"), b, 0o644)
			}
			// Integrity and completeness are two findings: an audit is intact and incomplete.
			var stdout, stderr bytes.Buffer
			err = run(ctx, []string{"verify", "--allowed-signers", plant, dir}, strings.NewReader(""), &stdout, &stderr)
			if codeOf(err) != ExitOK || !strings.Contains(stdout.String(), "integrity: OK") || !strings.Contains(stdout.String(), "completeness: INCOMPLETE:") {
				t.Fatalf("verify: exit %d\n%s", codeOf(err), stdout.String())
			}
			back, _, _ := record.Load(filepath.Join(dir, bundle.RecordFile))
			if len(back.Evidence) != len(facts.Evidence) {
				t.Fatalf("record lists %d evidence files, want %d", len(back.Evidence), len(facts.Evidence))
			}
			for _, e := range back.Evidence {
				if e.Name == "evidence/https-certificate.pem" && e.CertSHA256 == "" {
					t.Error("the certificate's fingerprint is not in the record")
				}
			}
			p := filepath.Join(dir, "evidence", "probes.txt")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, "edited\n"...), 0o644)
			rep, _ = verifyDir(dir, plant, "")
			if rep.OK() || !strings.Contains(fmt.Sprint(rep.Problems), "evidence/probes.txt: SHA-256") {
				t.Fatalf("an edited evidence file verifies: %v", rep.Problems)
			}
		})
	}
}

// BenchmarkVerifySample is `commission verify` on the sample bundle:
// signature, evidence digests, record.pdf and oscal-ar.json rendered
// again and compared, the NPort catalog, and every outcome computed again
// from the observations.
func BenchmarkVerifySample(b *testing.B) {
	plant := plantSigners(b, loadSampleKey(b).PublicKey())
	for b.Loop() {
		rep, err := verifyDir(sampleDir, plant, "")
		if err != nil || !rep.OK() || rep.Recomputed == 0 || !rep.Rendered {
			b.Fatal(err, rep.Problems)
		}
	}
}
