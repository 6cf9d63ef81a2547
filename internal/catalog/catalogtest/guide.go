package catalogtest

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/catalog"
)

// GuideLine is one numbered section of a guide, as a family's
// testdata/guide-sections.txt lists it: "NUMBER words", optionally ending
// "(in X, Y)" when the recommendation is served by the steps filed under
// sections X and Y.
type GuideLine struct {
	Words    string
	ServedBy []string
}

var servedBy = regexp.MustCompile(`\(in ([0-9.]+(?:, [0-9.]+)*)\)$`)

// GuideSections reads a guide-sections file; fewer than min sections, a
// section listed twice or one without words fails the test.
func GuideSections(t testing.TB, path string, min int) map[string]GuideLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]GuideLine{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		num, words, _ := strings.Cut(l, " ")
		if _, dup := out[num]; dup || strings.TrimSpace(words) == "" {
			t.Fatalf("%s: %q is listed twice or has no words", path, num)
		}
		g := GuideLine{Words: strings.TrimSpace(words)}
		if m := servedBy.FindStringSubmatch(words); m != nil {
			g.ServedBy = strings.Split(m[1], ", ")
		}
		out[num] = g
	}
	if err := sc.Err(); err != nil || len(out) < min {
		t.Fatalf("%s: %v (%d sections read, want at least %d)", path, err, len(out), min)
	}
	return out
}

// StepsFollowTheGuide checks a family's prose against its guide: every
// step's section is a section of the guide that steps are filed under
// (with idCarriesSection, its id starts "family.section."), every such
// section has a step, and every section served by other sections' steps
// names sections that have them.
func StepsFollowTheGuide(t testing.TB, p catalog.Prose, guide map[string]GuideLine, idCarriesSection bool) {
	t.Helper()
	covered := map[string]bool{}
	for _, s := range p.Steps {
		g, ok := guide[s.Section]
		switch {
		case !ok:
			t.Errorf("%s: section %s is not a numbered recommendation of the guide", s.ID, s.Section)
		case len(g.ServedBy) > 0:
			t.Errorf("%s: section %s is served by the steps of %s: file the step there", s.ID, s.Section, strings.Join(g.ServedBy, ", "))
		}
		if idCarriesSection && !strings.HasPrefix(s.ID, p.Family+"."+s.Section+".") {
			t.Errorf("%s: the id does not carry its section %s", s.ID, s.Section)
		}
		covered[s.Section] = true
	}
	for sec, g := range guide {
		if len(g.ServedBy) == 0 && !covered[sec] {
			t.Errorf("guide section %s has no step", sec)
		}
		for _, by := range g.ServedBy {
			if !covered[by] {
				t.Errorf("guide section %s: served by %s, which has no step", sec, by)
			}
		}
	}
}
