package main

import (
	"testing"
)

// The wizard's configuration reads no family's wording before the first
// frame: it hands the wizard TimingOf, which gives each family the same
// wording as timings().
func TestWizardConfigTimingIsLazy(t *testing.T) {
	a := &app{journalDir: t.TempDir(), outDir: t.TempDir()}
	cfg := a.config()
	if cfg.Timing != nil {
		t.Errorf("config() read every family's wording: %v", cfg.Timing)
	}
	if cfg.TimingOf == nil {
		t.Fatal("config() gives the wizard no TimingOf")
	}
	all := timings()
	for _, f := range registry {
		if got, want := cfg.TimingOf(f.Name), all[f.Name]; got != want {
			t.Errorf("TimingOf(%q) = %+v, want %+v", f.Name, got, want)
		}
	}
	if got := cfg.TimingOf("no-such-family"); got.Apply != "" || got.Restart != "" || got.Delete != "" {
		t.Errorf("TimingOf of an unknown family = %+v, want none", got)
	}
}
