// Package peertest finds the real programs (peers) that some tests talk
// to: net-snmp, OpenSSH, nmap, poppler, zbar. A peer test calls Require
// first. Without the program it skips, or fails when
// COMMISSION_REQUIRE_PEERS=1 (CI sets it), so that CI never passes with a
// peer test silently skipped.
package peertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Env is the variable that turns a missing peer into a failure.
const Env = "COMMISSION_REQUIRE_PEERS"

// SkipMarker starts every skip message of a missing peer, so that CI can
// find them among the skipped tests.
const SkipMarker = "peer missing:"

// packages names the Debian package that installs each peer.
var packages = map[string]string{
	"snmpd": "snmpd", "snmpget": "snmp", "snmpwalk": "snmp",
	"sshd": "openssh-server", "ssh-keygen": "openssh-client", "ssh-agent": "openssh-client", "ssh-add": "openssh-client",
	"nmap":     "nmap",
	"pdftoppm": "poppler-utils", "pdftotext": "poppler-utils",
	"zbarimg": "zbar-tools",
	"python3": "python3", "pytest": "python3-pytest",
}

// sbin are the system folders searched after PATH: servers such as sshd
// and snmpd live there and are often off a user's PATH.
var sbin = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// Find returns the path of program, from PATH or the system folders, and
// whether it was found.
func Find(program string) (string, bool) {
	if p, err := exec.LookPath(program); err == nil {
		return p, true
	}
	for _, dir := range sbin {
		p := filepath.Join(dir, program)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// Required reports whether missing peers fail the run (Env is "1").
func Required() bool { return os.Getenv(Env) == "1" }

// Require returns the path of program. When it is missing the test
// fails if Required, and skips otherwise; either way it says which
// package installs it.
func Require(t testing.TB, program string) string {
	t.Helper()
	p, ok := Find(program)
	if ok {
		return p
	}
	pkg := packages[program]
	if pkg == "" {
		pkg = program
	}
	if Required() {
		t.Fatalf("%s %s is not installed and %s=1: install it (apt-get install %s)", SkipMarker, program, Env, pkg)
	}
	t.Skipf("%s %s is not installed (apt-get install %s; %s=1 makes this a failure)", SkipMarker, program, pkg, Env)
	return ""
}

// Optional returns the path of program for a check inside a larger test
// that can go on without it. When it is missing the test fails if
// Required, and otherwise logs which check it left out.
func Optional(t testing.TB, program string) (string, bool) {
	t.Helper()
	if p, ok := Find(program); ok {
		return p, true
	}
	pkg := packages[program]
	if pkg == "" {
		pkg = program
	}
	if Required() {
		t.Errorf("%s %s is not installed and %s=1: install it (apt-get install %s)", SkipMarker, program, Env, pkg)
	} else {
		t.Logf("%s %s is not installed: its check is left out (apt-get install %s)", SkipMarker, program, pkg)
	}
	return "", false
}
