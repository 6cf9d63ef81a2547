package peertest

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestRequireSkipsOrFails runs Require for a program that cannot exist,
// in a child test process, with and without the environment variable.
func TestRequireSkipsOrFails(t *testing.T) {
	if os.Getenv("PEERTEST_CHILD") == "1" {
		Require(t, "no-such-peer-program-xyz")
		t.Fatal("Require returned for a missing program")
	}
	for _, tc := range []struct {
		env      string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP"},
		{"0", false, "--- SKIP"},
		{"1", true, "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireSkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), "PEERTEST_CHILD=1", Env+"="+tc.env)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("%s=%q: failed=%v, want %v\n%s", Env, tc.env, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), SkipMarker) || !strings.Contains(string(out), "apt-get install") {
			t.Errorf("%s=%q: output lacks %q, the marker or the install hint:\n%s", Env, tc.env, tc.want, out)
		}
	}
}

func TestFind(t *testing.T) {
	if runtime.GOOS != "windows" {
		if p, ok := Find("sh"); !ok || p == "" {
			t.Error("sh not found")
		}
	}
	if _, ok := Find("no-such-peer-program-xyz"); ok {
		t.Error("found a program that does not exist")
	}
}
