//go:build unix

package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNonRegularFilesAreRefused(t *testing.T) {
	r := sampleRecord()
	s := newEd25519(t)
	for _, name := range []string{RecordFile, SigFile, AllowedFile, PDFFile, OSCALFile, "evidence/tls-443.pem"} {
		t.Run("FIFO "+name, func(t *testing.T) {
			dir := write(t, s, r)
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			rep := verifyWithin(t, dir)
			if !hasProblem(rep, name, "not a regular file") {
				t.Fatalf("problems %v", rep.Problems)
			}
		})
	}
	t.Run("symlink", func(t *testing.T) {
		dir := write(t, s, r)
		p := filepath.Join(dir, PDFFile)
		elsewhere := filepath.Join(t.TempDir(), "record.pdf")
		b, _ := os.ReadFile(p)
		os.WriteFile(elsewhere, b, 0o644)
		os.Remove(p)
		os.Symlink(elsewhere, p)
		if rep := verifyWithin(t, dir); !hasProblem(rep, PDFFile, "symbolic link") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("folder", func(t *testing.T) {
		dir := write(t, s, r)
		p := filepath.Join(dir, "evidence", "tls-443.pem")
		os.Remove(p)
		os.Mkdir(p, 0o755)
		if rep := verifyWithin(t, dir); !hasProblem(rep, "evidence/tls-443.pem", "folder") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("FIFO as the plant's allowed_signers", func(t *testing.T) {
		dir := write(t, s, r)
		p := filepath.Join(t.TempDir(), "allowed")
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		done := make(chan error, 1)
		go func() { _, err := Verify(dir, WithAllowedSigners(p)); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("got %v", err)
			}
		case <-time.After(time.Second):
			t.Fatal("verify hung on a FIFO")
		}
	})
}
