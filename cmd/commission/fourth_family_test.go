package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestFourthFamilyTouchesOnlyItsFoldersAndOneLine adds a throwaway family
// (testdata/fourth: a driver, a catalog with its descriptor, and a
// simulator) to a copy of the module, with one line in registry.go, and
// checks that this is all it takes: git names only the family's three
// folders and registry.go, whose diff is that line and its imports; the
// copy builds and vets; the help lists the family; plan init offers its
// step; and the demo starts its simulator, whose audit_args audit it
// through the CLI and find its one deviation.
func TestFourthFamilyTouchesOnlyItsFoldersAndOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a copy of the module")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to measure the diff: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The module as checked out (tracked and untracked, not ignored).
	files := strings.Fields(runIn(t, root, "git", "ls-files", "-co", "--exclude-standard"))
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		return runIn(t, dir, "git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "base")

	// The fourth family: its folders, and one registry line.
	for src, dst := range map[string]string{
		"driver.go.txt":  "internal/devices/toaster/toaster.go",
		"catalog.go.txt": "internal/catalog/toaster/toaster.go",
		"sim.go.txt":     "internal/sim/toaster/toaster.go",
	} {
		b, err := os.ReadFile(filepath.Join("testdata/fourth", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := filepath.Join(dir, "cmd/commission/registry.go")
	src, err := os.ReadFile(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "import (\n", "import (\n\ttoastercat \"github.com/commission-tool/commission/internal/catalog/toaster\"\n\tsimtoaster \"github.com/commission-tool/commission/internal/sim/toaster\"\n", 1)
	s = strings.Replace(s, "var registry = []entry{\n", "var registry = []entry{\n\t{Descriptor: toastercat.Family, demo: simtoaster.Demo},\n", 1)
	if s == string(src) {
		t.Fatal("registry.go has no registry to add to")
	}
	if err := os.WriteFile(reg, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")

	// What git says changed.
	stat := git("diff", "--cached", "--stat")
	t.Logf("git diff --stat:\n%s", stat)
	var touched []string
	for _, p := range strings.Fields(git("diff", "--cached", "--name-only")) {
		switch {
		case p == "cmd/commission/registry.go":
		case strings.HasPrefix(p, "internal/devices/toaster/"), strings.HasPrefix(p, "internal/catalog/toaster/"), strings.HasPrefix(p, "internal/sim/toaster/"):
		default:
			touched = append(touched, p)
		}
	}
	sort.Strings(touched)
	if len(touched) > 0 {
		t.Errorf("adding a family touched files outside its folders and the registry: %v", touched)
	}
	added, removed := 0, 0
	for _, l := range strings.Split(git("diff", "--cached", "-U0", "--", "cmd/commission/registry.go"), "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added++
			if !regexp.MustCompile(`^\+\t(\w+ "[^"]+"|\{Descriptor: \w+\.Family, demo: \w+\.Demo\},)$`).MatchString(l) {
				t.Errorf("registry.go: unexpected line %q", l)
			}
		case strings.HasPrefix(l, "-"):
			removed++
		}
	}
	if added != 3 || removed != 0 {
		t.Errorf("registry.go: %d lines added, %d removed; want the entry and its two imports", added, removed)
	}

	// It builds, vets, and the tool knows it.
	bin := filepath.Join(dir, "commission-test")
	runIn(t, dir, "go", "build", "-o", bin, "./cmd/commission")
	runIn(t, dir, "go", "vet", "./internal/devices/toaster", "./internal/catalog/toaster", "./internal/sim/toaster", "./cmd/commission")
	if out := runIn(t, dir, bin, "--help"); !strings.Contains(out, "toaster (Acme Toaster)") {
		t.Errorf("--help does not list the new family:\n%s", out)
	}
	if out := runIn(t, dir, bin, "audit", "--help"); !strings.Contains(out, "toaster") {
		t.Errorf("audit --help does not offer the new family:\n%s", out)
	}

	// The demo starts its simulator; its audit_args audit it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	demo := exec.CommandContext(ctx, bin, "demo", "--headless")
	demo.Env = append(os.Environ(), "COMMISSION_LOOPBACK_ONLY=1", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
	out, err := demo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { demo.Process.Kill(); demo.Wait() }()
	var dev demoDevice
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var d demoDevice
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("demo line %q: %v", sc.Text(), err)
		}
		if d.Family == "toaster" {
			dev = d
			break
		}
	}
	if dev.Family == "" {
		t.Fatal("the demo started no toaster")
	}
	audit := exec.CommandContext(ctx, bin, append(dev.AuditArgs, "--pins", filepath.Join(dir, "pins"))...)
	audit.Env = append(os.Environ(), "COMMISSION_LOOPBACK_ONLY=1", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
	audit.Stdin = strings.NewReader(dev.Password + "\n")
	res, err := audit.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != int(ExitDeviation) {
		t.Fatalf("audit of the toaster: %v, want exit %d (telnet is on):\n%s", err, ExitDeviation, res)
	}
	var rep auditReport
	if err := json.Unmarshal(res, &rep); err != nil {
		t.Fatalf("audit output: %v\n%s", err, res)
	}
	if len(rep.Steps) != 1 || rep.Steps[0].ID != "toaster.1.telnet" || rep.Steps[0].Outcome != "deviation" {
		t.Errorf("audit of the toaster: %+v", rep.Steps)
	}
}

func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
