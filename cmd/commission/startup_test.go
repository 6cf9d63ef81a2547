package main

import (
	"testing"

	"github.com/commission-tool/commission/internal/tui"
)

// The wizard's configuration reads no family's wording before the first
// frame: it hands the wizard TimingOf, which gives each family the
// wording of its descriptor.
func TestWizardConfigTimingIsLazy(t *testing.T) {
	a := &app{journalDir: t.TempDir(), outDir: t.TempDir()}
	cfg := a.config()
	if cfg.TimingOf == nil {
		t.Fatal("config() gives the wizard no TimingOf")
	}
	for _, f := range registry {
		if got, want := cfg.TimingOf(f.Name), tui.Timing(f.Timing()); got != want || got.Apply == "" {
			t.Errorf("TimingOf(%q) = %+v, want %+v", f.Name, got, want)
		}
	}
	if got := cfg.TimingOf("no-such-family"); got.Apply != "" || got.Restart != "" || got.Delete != "" {
		t.Errorf("TimingOf of an unknown family = %+v, want none", got)
	}
}
