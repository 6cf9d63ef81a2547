package simstate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteAtomicReplacesWithAPrivateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	for _, data := range []string{`{"a":1}`, `{"a":2}`} {
		if err := WriteAtomic(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != data {
			t.Fatalf("read %q, %v; want %q", b, err, data)
		}
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("left behind: %v", es)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "state.json"), nil); err == nil {
		t.Error("a write into a missing folder succeeded")
	}
}

func TestCertificateAndErrors(t *testing.T) {
	if _, err := Certificate(nil, nil); err == nil {
		t.Error("no chain accepted")
	}
	if _, err := Certificate([][]byte{[]byte("junk")}, nil); err == nil {
		t.Error("a junk certificate accepted")
	}
	err := PortTaken("/d", "gateway", "https", 8443, syscall.EADDRINUSE)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "port 8443 (https)") || !strings.Contains(err.Error(), "delete the folder /d for a fresh factory-default gateway") {
		t.Errorf("port taken: %v", err)
	}
}
