//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
