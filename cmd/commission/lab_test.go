package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/family"
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

// TestDemoComesBackAsItWasLeft_Simulator: the demo's simulators keep
// their state in the demo folder, so a demo started again (after a kill,
// say) serves the same devices at the same addresses with the same
// certificates, as they were left: a session's journal, which names the
// address, resumes against the device it was made on.
func TestDemoComesBackAsItWasLeft_Simulator(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devices")
	first, err := startLabWith(context.Background(), family.DemoConfig{RestartDelay: 20 * time.Millisecond, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	before := first.candidates()
	fps := map[string]string{}
	for _, d := range first.devices {
		fps[d.Label] = fingerprintOf(d)
	}
	first.nport().Harden(simnport.HardenOptions{AdminUser: "tech1", AdminPassword: "Fld#Tech2026!abc"})
	first.Close()

	again, err := startLabWith(context.Background(), family.DemoConfig{RestartDelay: 20 * time.Millisecond, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	after := again.candidates()
	if len(after) != len(before) {
		t.Fatalf("%d devices, then %d", len(before), len(after))
	}
	for i := range before {
		if before[i].Address != after[i].Address || before[i].Label != after[i].Label {
			t.Errorf("device %d: %s at %s, then %s at %s", i, before[i].Label, before[i].Address, after[i].Label, after[i].Address)
		}
	}
	// The device list tells which factory logins no longer work (the
	// hardened NPort's), without showing the password that replaced it.
	for i := range before {
		if strings.Contains(before[i].Detail, "set earlier") {
			t.Errorf("a factory-new %s lists a changed login: %s", before[i].Label, before[i].Detail)
		}
		hardened := before[i].Label == first.first("nport").Label
		if got := strings.Contains(after[i].Detail, "the password you set earlier in this demo (factory: "); got != hardened {
			t.Errorf("after the restart, %s: %q (hardened %v)", after[i].Label, after[i].Detail, hardened)
		}
		if strings.Contains(after[i].Detail, "Fld#Tech2026!abc") {
			t.Errorf("the device list shows the password set in the demo: %s", after[i].Detail)
		}
	}
	for _, d := range again.devices {
		if fps[d.Label] == "" || fingerprintOf(d) != fps[d.Label] {
			t.Errorf("%s: certificate %s, then %s", d.Label, fps[d.Label], fingerprintOf(d))
		}
	}
	// The hardened NPort is still hardened: its new admin audits it clean.
	d := again.first("nport")
	args := replaceArg(withPins(t, d.AuditArgs), "--user", "tech1")
	if _, code, msg := runAuditArgs(t, args, "Fld#Tech2026!abc"); code != ExitOK {
		t.Errorf("the hardened NPort after the restart of the demo: exit %d: %s", code, msg)
	}
}
