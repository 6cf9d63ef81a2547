package kepware

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
	if tm := Timing(); tm.Apply == "" || tm.Commit == "" || tm.Delete == "" {
		t.Errorf("timing %+v: apply, commit and delete are all needed", tm)
	}
}

// TestProseNamesWhatTheCodeChecks: the words that describe a rule the
// code enforces say the same rule: a role's group name help quotes every
// keyword the check looks for, and a client's URL help names every
// scheme the check accepts.
func TestProseNamesWhatTheCodeChecks(t *testing.T) {
	roles := map[string]kepRole{"kepware.6.1.ua-group": roleUA, "kepware.6.4.rest-group": roleREST, "kepware.7.1.api-group": roleAPI}
	schemes := map[string][]string{"kepware.6.2.mqtt": {"ssl", "wss", "mqtts"}, "kepware.6.3.rest-client": {"https"}}
	help := func(id, key string) string {
		for _, s := range Catalog().Steps {
			for _, in := range s.Inputs {
				if s.ID == id && in.Key == key {
					return in.Help
				}
			}
		}
		t.Fatalf("%s has no input %q", id, key)
		return ""
	}
	for id, r := range roles {
		h := help(id, "group")
		for _, k := range r.keywords {
			if !strings.Contains(h, `"`+k+`"`) {
				t.Errorf("%s: the group help %q does not name the keyword %q", id, h, k)
			}
		}
		if f := code()[id].Check(kstate{}); !strings.Contains(f.Expected, r.purpose) {
			t.Errorf("%s: the finding %q does not name the purpose %q", id, f.Expected, r.purpose)
		}
	}
	for id, ss := range schemes {
		h := help(id, "url")
		for _, sc := range ss {
			if !strings.Contains(h, sc+"://") {
				t.Errorf("%s: the URL help %q does not name %s://", id, h, sc)
			}
		}
		if err := code()[id].Validate["url"](ss[0] + "://host.example"); err != nil {
			t.Errorf("%s: the validator refuses the scheme the help names: %v", id, err)
		}
	}
}

// TestStepsFollowTheGuide: every step's section is a section of the
// guide that steps are filed under, every such section has a step, and
// every numbered recommendation served by another section's steps names
// a section that has them. (Kepware ids do not carry the section.)
func TestStepsFollowTheGuide(t *testing.T) {
	p, err := catalog.LoadProse(proseTOML)
	if err != nil {
		t.Fatal(err)
	}
	catalogtest.StepsFollowTheGuide(t, p, catalogtest.GuideSections(t, "testdata/guide-sections.txt", 10), false)
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
