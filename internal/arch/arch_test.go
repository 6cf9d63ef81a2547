package arch

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/commission-tool/commission/"

type pkg struct {
	ImportPath string
	Imports    []string // direct imports
	Deps       []string // transitive
	GoFiles    []string
}

// listPackages returns every package of the module with its transitive
// non-test dependencies.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json", mod+"...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		// Without the package list the layering is unchecked: that is a
		// failure, never a skip.
		t.Fatalf("go list cannot run, so the layering cannot be checked: %v", err)
	}
	dec := json.NewDecoder(out)
	var ps []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if len(ps) < 5 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

func has(deps []string, prefix string) string {
	for _, d := range deps {
		if d == prefix || strings.HasPrefix(d, prefix+"/") || (strings.HasSuffix(prefix, "/") && strings.HasPrefix(d, prefix)) {
			return d
		}
	}
	return ""
}

// chain shows one import path from one package to a dependency, such as
// "internal/tui -> internal/devices -> internal/transport", so that a
// failure says which import to cut.
func chain(byPath map[string]pkg, from, to string) string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var path []string
			for n := to; n != ""; n = prev[n] {
				path = append([]string{strings.TrimPrefix(n, mod)}, path...)
			}
			return strings.Join(path, " -> ")
		}
		for _, imp := range byPath[cur].Imports {
			if _, seen := prev[imp]; !seen {
				prev[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	return "through a dependency outside the module"
}

func TestLayering(t *testing.T) {
	rules := []struct {
		from    string // package prefix (module-relative)
		forbid  []string
		because string
	}{
		{"internal/devices", []string{"charm.land/", "github.com/charmbracelet/", mod + "internal/tui", mod + "internal/sim", mod + "internal/steps", mod + "internal/catalog", mod + "internal/record"}, "drivers know no UI, no engine and no simulator"},
		{"internal/transport", []string{"charm.land/", mod + "internal/tui", mod + "internal/sim", mod + "internal/devices/"}, "transport is below the drivers"},
		{"internal/probe", []string{"charm.land/", mod + "internal/tui", mod + "internal/sim", mod + "internal/devices/"}, "probes are below the drivers"},
		{"internal/steps", []string{"charm.land/", mod + "internal/tui", mod + "internal/sim", mod + "internal/devices/", mod + "internal/catalog", mod + "internal/record"}, "the engine knows no family, no UI and no simulator"},
		{"internal/steps", []string{mod + "internal/transport", mod + "internal/probe"}, "steps reach the device only through the family's driver: no transport, no probe"},
		{"internal/catalog", []string{"charm.land/", mod + "internal/tui", mod + "internal/sim"}, "catalogs know no UI and no simulator"},
		{"internal/record", []string{"charm.land/", mod + "internal/tui", mod + "internal/sim", mod + "internal/devices/"}, "the record knows no UI, driver or simulator"},
		{"internal/tui", []string{mod + "internal/sim", mod + "internal/devices/", mod + "internal/catalog", mod + "internal/transport"}, "the wizard knows no simulator and no driver"},
		{"internal/tui", []string{mod + "internal/record"}, "the wizard knows no record internals: the command writes the record through Config.Finish"},
	}
	ps := listPackages(t)
	byPath := map[string]pkg{}
	for _, p := range ps {
		byPath[p.ImportPath] = p
	}
	checked := 0
	for _, p := range ps {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for _, r := range rules {
			if rel != r.from && !strings.HasPrefix(rel, r.from+"/") {
				continue
			}
			if strings.HasPrefix(rel, "internal/sim") {
				continue
			}
			checked++
			for _, f := range r.forbid {
				if d := has(p.Deps, f); d != "" {
					t.Errorf("%s depends on %s (%s): %s", rel, d, chain(byPath, p.ImportPath, d), r.because)
				}
			}
		}
	}
	if checked < 6 {
		t.Fatalf("only %d packages checked: the rules no longer match the layout", checked)
	}
}

// TestOnlyDemoStartsSimulators keeps every simulator out of the
// production path: apart from the simulators themselves, only the
// commission command (for "commission demo") may depend on one.
func TestOnlyDemoStartsSimulators(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if strings.HasPrefix(rel, "internal/sim") || rel == "cmd/commission" {
			continue
		}
		if d := has(p.Deps, mod+"internal/sim"); d != "" {
			t.Errorf("%s depends on simulator %s", rel, d)
		}
	}
}

// TestDemoImportIsConfined checks that inside cmd/commission only registry.go
// imports a simulator package.
func TestDemoImportIsConfined(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{range .GoFiles}}{{.}} {{end}}`, mod+"cmd/commission")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list cannot run, so the demo's confinement cannot be checked: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		src, err := readFile("../../cmd/commission/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(src, mod+"internal/sim") && f != "registry.go" {
			t.Errorf("cmd/commission/%s imports a simulator; only registry.go may (the demo starts what it lists)", f)
		}
	}
}
