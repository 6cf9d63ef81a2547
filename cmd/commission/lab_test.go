package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
)

// first is the lab's first simulated device of a family.
func (l *demoLab) first(family string) demoDevice {
	for _, d := range l.devices {
		if d.Family == family {
			return d
		}
	}
	panic("the demo lab has no " + family)
}

// nport is the first simulated NPort, to change behind the tool's back.
func (l *demoLab) nport() *simnport.Device { return l.first("nport").sim.(*simnport.Device) }

// TestDemoFolderIsTheDemosOwn: --fresh empties the demo's own folder and
// refuses, untouched, a folder the demo did not make.
func TestDemoFolderIsTheDemosOwn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if err := prepareDemoDir(dir, false); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(dir, "sessions", "j.jsonl")
	if err := os.WriteFile(kept, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := prepareDemoDir(dir, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a second start lost the session: %v", err)
	}
	if err := prepareDemoDir(dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); err == nil {
		t.Error("--fresh kept the old session")
	}
	other := t.TempDir()
	precious := filepath.Join(other, "thesis.txt")
	os.WriteFile(precious, []byte("keep me"), 0o600)
	if err := prepareDemoDir(other, true); err == nil || !strings.Contains(err.Error(), "not a demo folder") {
		t.Errorf("--fresh on a foreign folder: %v", err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Errorf("--fresh deleted a file it did not make: %v", err)
	}
}
