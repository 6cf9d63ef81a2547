package tui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wizardFiles parses the package's non-test files.
func wizardFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ast.File{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = f
	}
	if len(out) < 5 {
		t.Fatalf("only %d files parsed", len(out))
	}
	return out
}

// takesModel reports whether a field list names Model or *Model.
func takesModel(fl *ast.FieldList) bool {
	if fl == nil {
		return false
	}
	for _, f := range fl.List {
		typ := f.Type
		if st, ok := typ.(*ast.StarExpr); ok {
			typ = st.X
		}
		if id, ok := typ.(*ast.Ident); ok && id.Name == "Model" {
			return true
		}
	}
	return false
}

// Only the root (model.go, and Run in tui.go) handles the Model: every
// screen gets the shell and its own state, and returns a nav.
func TestScreensDoNotTakeTheRootModel(t *testing.T) {
	for name, f := range wizardFiles(t) {
		if name == "model.go" {
			continue
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if takesModel(fd.Recv) || takesModel(fd.Type.Params) {
				t.Errorf("%s: %s takes the root Model", name, fd.Name.Name)
			}
		}
	}
}

// The wizard names no device family: what differs per family comes from
// the command (Config).
func TestWizardNamesNoFamily(t *testing.T) {
	names := regexp.MustCompile(`(?i)nport|moxa|thingspro|kepware`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := filepath.Glob(filepath.Join("tuitest", "*.go"))
	checked := 0
	for _, n := range append(files, sub...) {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for i, l := range strings.Split(string(b), "\n") {
			if names.MatchString(l) {
				t.Errorf("%s:%d names a family: %s", n, i+1, strings.TrimSpace(l))
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}
