package thingspro

import (
	"testing"

	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/catalog/catalogtest"
)

// TestProseMatchesCode: every step of steps.toml has its Go code and
// every piece of code its step, every validator sits on an input the
// prose has, every required free-text input has a validator, and every
// kind of change the plans name has its effect wording.
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
	if tm := Timing(); tm.Apply == "" || tm.Commit == "" || tm.Delete == "" {
		t.Errorf("timing %+v: apply, commit and delete are all needed", tm)
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
	catalogtest.StepsFollowTheGuide(t, p, catalogtest.GuideSections(t, "testdata/guide-sections.txt", 10), true)
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
