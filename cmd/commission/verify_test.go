//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/sshsig"
)

// copySample copies the sample bundle into a fresh folder.
func copySample(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := os.CopyFS(dir, os.DirFS(sampleDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cli runs the command line and fails the test if it does not return
// within a second (a hang guard, not a speed measurement).
func cli(t *testing.T, args ...string) (string, ExitCode) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), args, strings.NewReader(""), &stdout, &stderr) }()
	select {
	case err := <-done:
		return stdout.String() + stderr.String(), codeOf(err)
	case <-time.After(time.Second):
		t.Fatalf("commission %v did not return within a second", args)
	}
	return "", 0
}

func TestVerifyRefusesAFIFOWithinASecond(t *testing.T) {
	plant := plantSigners(t, loadSampleKey(t).PublicKey())
	for _, name := range []string{"record.json", "record.json.sig", "record.pdf", "evidence/probes.txt"} {
		t.Run(name, func(t *testing.T) {
			dir := copySample(t)
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			out, code := cli(t, "verify", "--allowed-signers", plant, dir)
			if code != ExitDeviation || !strings.Contains(out, name+": not a regular file") {
				t.Fatalf("exit %d:\n%s", code, out)
			}
		})
	}
}

func TestPrintTakesTheAllowedSignersFlag(t *testing.T) {
	plant := plantSigners(t, loadSampleKey(t).PublicKey())
	dir := copySample(t)
	out := filepath.Join(t.TempDir(), "again.pdf")
	if msg, code := cli(t, "print", "-o", out, dir); code != ExitUntrusted {
		t.Fatalf("print without --allowed-signers: exit %d, want %d\n%s", code, ExitUntrusted, msg)
	}
	if msg, code := cli(t, "print", "--allowed-signers", plant, "-o", out, dir); code != ExitOK {
		t.Fatalf("print: exit %d\n%s", code, msg)
	}
	again, _ := os.ReadFile(out)
	orig, _ := os.ReadFile(filepath.Join(dir, "record.pdf"))
	if !bytes.Equal(again, orig) {
		t.Fatal("print rendered other bytes than the bundle's record.pdf")
	}
}

// resign writes r as dir's record.json, signed again with the sample's
// test key, with record.pdf and oscal-ar.json rendered again from it: a
// tampered bundle whose signature and derived files are all good.
func resign(t *testing.T, dir string, r record.Record) {
	t.Helper()
	data, err := record.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sshsig.Sign(loadSampleKey(t), sshsig.Namespace, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	doc, ar, err := bundle.Derived(data, "A4")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{bundle.RecordFile: data, bundle.SigFile: sig, bundle.PDFFile: doc, bundle.OSCALFile: ar} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyReportsFinishedBeforeAStep: the sample with its Finished moved
// back a second before its newest step, signed again by the key the
// plant trusts, has a good signature but contradicts itself; verify
// reports it as inconsistent, naming the step and both times, and exits 1.
func TestVerifyReportsFinishedBeforeAStep(t *testing.T) {
	plant := plantSigners(t, loadSampleKey(t).PublicKey())
	dir := copySample(t)
	r, _, err := record.Load(filepath.Join(dir, bundle.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	newest := r.Steps[0]
	for _, s := range r.Steps {
		if s.At.After(newest.At) {
			newest = s
		}
	}
	finished := r.Finished
	r.Finished = newest.At.Add(-time.Second)
	if r.Finished.Before(r.Started) {
		r.Started = r.Finished // only Finished is out of order
	}
	resign(t, dir, r)
	out, code := cli(t, "verify", "--allowed-signers", plant, dir)
	want := fmt.Sprintf("step %s: time %s after finished (%s)", newest.ID, newest.At.Format(time.RFC3339), r.Finished.Format(time.RFC3339))
	if code != ExitDeviation || !strings.Contains(out, "integrity: FAILED") || !strings.Contains(out, "FAIL record.json: "+want) {
		t.Fatalf("verify of a record finished before its step: exit %d, want %d and %q:\n%s", code, ExitDeviation, want, out)
	}
	// The signature, the derived files and the rest are good: every
	// problem is a time after Finished.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "FAIL ") && !strings.Contains(line, " after finished (") {
			t.Errorf("a problem beside the times: %s", line)
		}
	}
	if !strings.Contains(out, "trusted by the plant") {
		t.Errorf("the signature should be good and trusted:\n%s", out)
	}

	// The same bundle signed again with its Finished as it was verifies.
	r.Finished = finished
	resign(t, dir, r)
	if out, code := cli(t, "verify", "--allowed-signers", plant, dir); code != ExitOK {
		t.Fatalf("the record finished at its newest step: exit %d\n%s", code, out)
	}
}
