package catalogtest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/catalog"
)

// ProseIsGenerated checks a family's generated prose (prose_gen.go, what
// the command uses) against its steps.toml as catalog.LoadProse reads and
// checks it. A difference fails the test with the first line where the
// two differ as Go source, and says how to regenerate.
func ProseIsGenerated(t testing.TB, stepsTOML []byte, generated catalog.Prose) {
	t.Helper()
	want, err := catalog.LoadProse(stepsTOML)
	if err != nil {
		t.Fatalf("steps.toml: %v", err)
	}
	if reflect.DeepEqual(generated, want) {
		return
	}
	t.Errorf("prose_gen.go is not steps.toml: run go generate ./internal/catalog/...\n%s", firstDifference(generated, want))
}

// firstDifference is where two proses first differ, as Go source.
func firstDifference(got, want catalog.Prose) string {
	g, err := catalog.GoSource("p", "prose", got)
	if err != nil {
		return err.Error()
	}
	w, err := catalog.GoSource("p", "prose", want)
	if err != nil {
		return err.Error()
	}
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	for i := range max(len(gl), len(wl)) {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		// gofmt's alignment moves with the fields: compare the words
		a, b = strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " ")
		if a != b {
			return fmt.Sprintf("line %d of the value as Go source:\n  prose_gen.go: %s\n  steps.toml:   %s", i+1, a, b)
		}
	}
	return "(the two write the same source: a difference GoSource does not show)"
}
