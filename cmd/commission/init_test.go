package main

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxInitBytes bounds what each of the project's packages may allocate
// when the program starts. Every command runs every package's init, so
// work done there (a compiled expression, a parsed table) is paid by
// `commission version` and by each audit of a script's loop; such work
// belongs in a sync.OnceValue, done when first needed.
const maxInitBytes = 16 << 10

// TestOwnPackagesStartCheaply starts this test binary (which links the
// command's packages) with the runtime's init trace and checks each
// project package's init against maxInitBytes.
func TestOwnPackagesStartCheaply(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// init github.com/x/y @1.2 ms, 0.05 ms clock, 4888 bytes, 33 allocs
	line := regexp.MustCompile(`(?m)^init (\S+) @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs$`)
	const module = "github.com/commission-tool/commission/"
	seen := 0
	for _, m := range line.FindAllStringSubmatch(string(out), -1) {
		if !strings.HasPrefix(m[1], module) {
			continue
		}
		seen++
		if n, _ := strconv.Atoi(m[2]); n > maxInitBytes {
			t.Errorf("%s allocates %d bytes (%s allocations) at start, over %d: move the work into a sync.OnceValue", strings.TrimPrefix(m[1], module), n, m[3], maxInitBytes)
		}
	}
	if seen < 10 {
		t.Fatalf("the init trace names %d project packages, want the command's (is GODEBUG=inittrace honoured?):\n%s", seen, out)
	}
}
