package catalog

import (
	"fmt"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/steps"
)

// TestGoSourceIsGeneratedGo: the file parses as Go of the package asked
// for, with the header go tools recognise as generated.
func TestGoSourceIsGeneratedGo(t *testing.T) {
	p := Prose{Family: "fam", Guide: "g", Steps: []StepProse{{ID: "fam.1", Kind: steps.Manual, SRs: []string{"SR 1.1"},
		Inputs: []InputProse{{Key: "k", Label: "l", Secret: true, Options: []string{"a", "b"}}}}}}
	src, err := GoSource("fam", "stepsProse", p)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`).Match(src) {
		t.Errorf("no generated-code header:\n%s", src)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "prose_gen.go", src, 0)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if f.Name.Name != "fam" || f.Scope.Lookup("stepsProse") == nil {
		t.Errorf("package %s, declares stepsProse: %v", f.Name.Name, f.Scope.Lookup("stepsProse") != nil)
	}
	for _, want := range []string{`Kind: "manual"`, `Secret: true`, `Options: []string{"a", "b"}`, `Inputs: []catalog.InputProse{`} {
		if !strings.Contains(strings.Join(strings.Fields(string(src)), " "), want) {
			t.Errorf("no %s in\n%s", want, src)
		}
	}
}

// TestGoSourceIsDeterministic: the same prose gives the same bytes, with
// the effects in key order.
func TestGoSourceIsDeterministic(t *testing.T) {
	p := Prose{Family: "fam", Guide: "g", Effects: map[string]string{}}
	var keys []string
	for i := range 40 {
		k := fmt.Sprintf("kind-%02d", (i*17)%40)
		p.Effects[k] = "at once"
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first, err := GoSource("fam", "v", p)
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for _, k := range keys {
		i := strings.Index(string(first), `"`+k+`":`)
		if i <= at {
			t.Fatalf("%s is not after the key before it:\n%s", k, first)
		}
		at = i
	}
	for range 20 {
		if again, _ := GoSource("fam", "v", p); string(again) != string(first) {
			t.Fatalf("two runs differ:\n%s\n%s", first, again)
		}
	}
}

// TestGoSourceKeepsNilApartFromEmpty: the generated value must equal what
// LoadProse decodes, for which an absent list (nil) and an empty one are
// not the same.
func TestGoSourceKeepsNilApartFromEmpty(t *testing.T) {
	src, err := GoSource("fam", "v", Prose{Family: "fam", Effects: map[string]string{}, Steps: []StepProse{{ID: "a", SRs: []string{}}, {ID: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(strings.Fields(string(src)), " ")
	if !strings.Contains(s, "Effects: map[string]string{}") || strings.Count(s, "SRs:") != 1 || !strings.Contains(s, "SRs: []string{}") {
		t.Errorf("empty and nil are not told apart:\n%s", s)
	}
}
