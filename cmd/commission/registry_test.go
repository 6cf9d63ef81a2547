package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCommandNamesNoFamily: outside registry.go, neither the command nor
// the wizard names a device family (by its name, its vendor or its
// product), and neither imports a family's driver, catalog or simulator.
// Adding a family is then its own folders and one registry line.
func TestCommandNamesNoFamily(t *testing.T) {
	var words []string
	for _, f := range registry {
		words = append(words, f.Name)
		for _, w := range strings.Fields(f.Label) {
			if len(w) > 3 && !regexp.MustCompile(`^[0-9]+$`).MatchString(w) && !generic[strings.ToLower(w)] {
				words = append(words, w)
			}
		}
		words = append(words, strings.Fields(f.Label)[0]) // the vendor
	}
	if len(words) < 2*len(registry) {
		t.Fatalf("too few words to look for: %q", words)
	}
	named := regexp.MustCompile(`(?i)\b(` + strings.Join(quoteAll(words), "|") + `)\b`)
	family := regexp.MustCompile(`/internal/(devices|sim|catalog)/[a-z]`)
	checked := 0
	for _, dir := range []string{".", "../../internal/tui"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("list %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || filepath.Base(f) == "registry.go" {
				continue
			}
			checked++
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(src), "\n") {
				if m := named.FindString(line); m != "" {
					t.Errorf("%s:%d names the family %q: only registry.go may (%s)", f, i+1, m, strings.TrimSpace(line))
				}
			}
			ast, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range ast.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if family.MatchString(p) {
					t.Errorf("%s imports %s: only registry.go may import a family's packages", f, p)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d files checked", checked)
	}
}

// generic are label words too common to mean one family.
var generic = map[string]bool{"edge": true, "server": true, "serial": true, "device": true}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = regexp.QuoteMeta(w)
	}
	return out
}
