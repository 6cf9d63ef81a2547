package nport

import (
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/catalog/catalogtest"
)

// TestProseMatchesCode: every step of steps.toml has its Go code and
// every piece of code its step, every validator sits on an input the
// prose has, and every required free-text input has a validator.
func TestProseMatchesCode(t *testing.T) {
	p, st, err := build()
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(p.Steps) || len(st) != len(code()) {
		t.Fatalf("%d steps built from %d in the prose and %d in the code", len(st), len(p.Steps), len(code()))
	}
	for _, s := range st {
		for _, in := range s.Inputs {
			if _, ok := code()[s.ID].Validate[in.Key]; ok && in.Validate == nil {
				t.Errorf("%s: the validator of %q was not attached", s.ID, in.Key)
			}
		}
	}
	if tm := Timing(); tm.Apply == "" || tm.Restart == "" || tm.Delete == "" {
		t.Errorf("timing %+v: apply, restart and delete are all needed", tm)
	}
}

// TestProseAndCodeOutOfStep: a step in steps.toml without code, or code
// without a step, is refused (the check TestProseMatchesCode relies on).
func TestProseAndCodeOutOfStep(t *testing.T) {
	p := stepsProse
	extra := code()
	extra["nport.9.9.extra"] = catalog.Code[nstate]{}
	if _, err := catalog.Build(p, extra); err == nil || !strings.Contains(err.Error(), "nport.9.9.extra has code but no prose") {
		t.Errorf("code without prose: %v", err)
	}
	missing := code()
	delete(missing, "nport.3.1.telnet")
	if _, err := catalog.Build(p, missing); err == nil || !strings.Contains(err.Error(), "nport.3.1.telnet is in the prose but has no code") {
		t.Errorf("prose without code: %v", err)
	}
}

// TestStepsFollowTheGuide: every step's section is a numbered
// recommendation of the guide, its id carries that section, and every
// recommendation has a step.
func TestStepsFollowTheGuide(t *testing.T) {
	p, err := catalog.LoadProse(proseTOML)
	if err != nil {
		t.Fatal(err)
	}
	catalogtest.StepsFollowTheGuide(t, p, catalogtest.GuideSections(t, "testdata/guide-sections.txt", 6), true)
}

// BenchmarkCatalog: building the catalog from the parsed prose, as every
// session and every verify does.
func BenchmarkCatalog(b *testing.B) {
	for b.Loop() {
		if len(Catalog().Steps) == 0 {
			b.Fatal("no steps")
		}
	}
}

// BenchmarkLoadProse: parsing steps.toml, done once per process.
func BenchmarkLoadProse(b *testing.B) {
	for b.Loop() {
		if _, err := catalog.LoadProse(proseTOML); err != nil {
			b.Fatal(err)
		}
	}
}
