package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	"github.com/commission-tool/commission/internal/transport"
)

func runCLI(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// TestHelpListsEveryCommand: --help, -h and help print every command on
// stdout and exit 0.
func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, err := runCLI(args...)
		if err != nil || codeOf(err) != ExitOK {
			t.Fatalf("%v: %v", args, err)
		}
		if errOut != "" {
			t.Errorf("%v wrote on stderr: %q", args, errOut)
		}
		for _, c := range commands {
			if !regexp.MustCompile(`(?m)^  commission ` + c.name + `\b`).MatchString(out) {
				t.Errorf("%v: command %q missing from the help:\n%s", args, c.name, out)
			}
		}
	}
	// A command's own help, asked for by name, goes to stdout.
	out, _, err := runCLI("help", "audit")
	if err != nil || !strings.Contains(out, "--password-stdin") {
		t.Errorf("help audit: %v\n%s", err, out)
	}
	// An unknown command names the known ones and exits 2.
	_, errOut, err := runCLI("frobnicate")
	if codeOf(err) != ExitError || !strings.Contains(err.Error(), "audit") || !strings.Contains(errOut, "Usage") {
		t.Errorf("unknown command: %v %q", err, errOut)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		out, _, err := runCLI(args...)
		if err != nil || out != "commission "+version+"\n" {
			t.Errorf("%v: %q %v", args, out, err)
		}
	}
}

// TestFlagsAfterArguments: flags are accepted before and after
// positional arguments; "--" ends them.
func TestFlagsAfterArguments(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantRest []string
		wantX    string
		wantB    bool
	}{
		{[]string{"DIR", "--x", "F"}, []string{"DIR"}, "F", false},
		{[]string{"--x", "F", "DIR"}, []string{"DIR"}, "F", false},
		{[]string{"A", "-b", "B", "--x=F"}, []string{"A", "B"}, "F", true},
		{[]string{"A", "--", "--x", "F"}, []string{"A", "--x", "F"}, "", false},
		{nil, nil, "", false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		x := fs.String("x", "", "")
		b := fs.Bool("b", false, "")
		rest, err := parseFlags(fs, tc.args)
		if err != nil || !slices.Equal(rest, tc.wantRest) || *x != tc.wantX || *b != tc.wantB {
			t.Errorf("parseFlags(%q) = %q x=%q b=%v %v; want %q x=%q b=%v", tc.args, rest, *x, *b, err, tc.wantRest, tc.wantX, tc.wantB)
		}
	}
	// The audit takes flags only: a stray argument is named.
	_, _, err := runCLI("audit", "stray", "--device", "nport")
	if codeOf(err) != ExitError || !strings.Contains(err.Error(), `"stray"`) {
		t.Errorf("stray argument: %v", err)
	}
}

// recordDestinations installs a destination check that accepts loopback
// and records every destination asked about.
func recordDestinations(t *testing.T) func() []string {
	var mu sync.Mutex
	var seen []string
	restore := transport.SetDestinationCheck(func(network, address string) error {
		mu.Lock()
		seen = append(seen, address)
		mu.Unlock()
		return transport.LoopbackOnly(network, address)
	})
	t.Cleanup(restore)
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestAuditRefusesMalformedAddressBeforeLookup: a malformed IP literal
// gets a clear message and nothing is looked up or sent.
func TestAuditRefusesMalformedAddressBeforeLookup(t *testing.T) {
	seen := recordDestinations(t)
	for addr, want := range map[string]string{
		"127.0.0.999":   `"999" is not a number from 0 to 255`,
		"1.2.3":         "it has 3 numbers",
		"1.2.3.4.5":     "it has 5 numbers",
		"10.0.0.1:0":    "not a number from 1 to 65535",
		"10.0.0.1:http": "not a number from 1 to 65535",
		"[::1":          "[ADDRESS]:PORT",
		"fe80::zz":      "not an IPv6 address",
		"bad_host!":     "not a host name or an IP address",
	} {
		args := withPins(t, []string{"audit", "--device", "nport", "--address", addr, "--user", "admin", "--password-stdin", "--tofu"})
		_, code, msg := runAuditArgs(t, args, "moxa")
		if code != ExitError || !strings.Contains(msg, want) {
			t.Errorf("--address %s: exit %d %q, want 2 and %q", addr, code, msg, want)
		}
	}
	if s := seen(); len(s) > 0 {
		t.Errorf("malformed addresses reached the network layer: %q", s)
	}
}

func TestParseAddress(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"192.168.127.254":      {"192.168.127.254", 0},
		"192.168.127.254:8443": {"192.168.127.254", 8443},
		"[::1]:443":            {"::1", 443},
		"fe80::1":              {"fe80::1", 0},
		"nport-3.plant.local":  {"nport-3.plant.local", 0},
		" 10.0.0.1 ":           {"10.0.0.1", 0},
	} {
		h, p, err := parseAddress(in)
		if err != nil || h != want.host || p != want.port {
			t.Errorf("parseAddress(%q) = %q %d %v, want %q %d", in, h, p, err, want.host, want.port)
		}
	}
	for _, bad := range []string{"", "256.1.1.1", "01.2.3.4", "1..2.3", "1.2.3.4:70000", ":443", "-a.example"} {
		if h, p, err := parseAddress(bad); err == nil {
			t.Errorf("parseAddress(%q) = %q %d, want an error", bad, h, p)
		}
	}
}

// TestAuditUnknownPortService: --port with a service the family does not
// have is an error that names the family's services.
func TestAuditUnknownPortService(t *testing.T) {
	seen := recordDestinations(t)
	args := withPins(t, []string{"audit", "--device", "nport", "--address", "127.0.0.1", "--port", "htps=8443", "--user", "admin", "--password-stdin", "--tofu"})
	_, code, msg := runAuditArgs(t, args, "moxa")
	if code != ExitError || !strings.Contains(msg, `no service "htps"`) || !strings.Contains(msg, "https") || !strings.Contains(msg, "moxa-tcp2") {
		t.Errorf("unknown service: exit %d %q", code, msg)
	}
	// Per-port services are known by number.
	f, _ := lookupFamily("nport")
	if !f.knows("realcom-data-4") || f.knows("realcom-data-x") || f.knows("realcom-data-04") || f.knows("opcua") {
		t.Error("nport's per-port service names are not recognised correctly")
	}
	k, _ := lookupFamily("kepware")
	if !k.knows("config-https") || k.knows("https") {
		t.Error("kepware's service names")
	}
	if s := seen(); len(s) > 0 {
		t.Errorf("a refused flag reached the network: %q", s)
	}
}

// TestAuditRecordNeedsIdentity: --record without --identity is refused
// before anything is sent.
func TestAuditRecordNeedsIdentity(t *testing.T) {
	seen := recordDestinations(t)
	args := withPins(t, []string{"audit", "--device", "nport", "--address", "127.0.0.1", "--user", "admin", "--password-stdin", "--record", t.TempDir()})
	_, code, msg := runAuditArgs(t, args, "moxa")
	if code != ExitError || !strings.Contains(msg, "--identity") {
		t.Errorf("--record without --identity: exit %d %q", code, msg)
	}
	if s := seen(); len(s) > 0 {
		t.Errorf("a refused flag reached the network: %q", s)
	}
}

// replaceArg returns args with the value after flag name set to v, or
// the flag removed when v is "".
func replaceArg(args []string, name, v string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == name && i+1 < len(args) {
			if v != "" {
				out = append(out, name, v)
			}
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestAuditAddressWithPort_Simulator: --address HOST:PORT sends the port
// to the family's HTTPS service, for every family.
func TestAuditAddressWithPort_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	for _, d := range lab.devices {
		t.Run(d.Family, func(t *testing.T) {
			f, _ := lookupFamily(d.Family)
			main := d.Ports[f.Main]
			if main == 0 {
				t.Fatalf("the simulator has no %s port: %v", f.Main, d.Ports)
			}
			var args []string
			for i := 0; i < len(d.AuditArgs); i++ {
				if d.AuditArgs[i] == "--port" && strings.HasPrefix(d.AuditArgs[i+1], f.Main+"=") {
					i++
					continue
				}
				args = append(args, d.AuditArgs[i])
			}
			args = replaceArg(args, "--address", d.Address+":"+strconv.Itoa(main))
			_, code, msg := runAuditArgs(t, withPins(t, args), d.Password)
			if code != ExitDeviation {
				t.Fatalf("audit %v: exit %d, want 1: %s", args, code, msg)
			}
			// The same port twice, disagreeing: refused.
			args = append(args, "--port", f.Main+"=1")
			if _, code, msg := runAuditArgs(t, withPins(t, args), d.Password); code != ExitError || !strings.Contains(msg, "disagree") {
				t.Errorf("conflicting ports: exit %d %q", code, msg)
			}
		})
	}
}

// TestAuditPinnedWrongFingerprintStops_Simulator: a pin exists and the
// technician gives a different --fingerprint: the audit stops with the
// STOP exit code, although the pin alone would connect.
func TestAuditPinnedWrongFingerprintStops_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	d := lab.first("nport")
	pins := filepath.Join(t.TempDir(), "known_devices")
	args := append(append([]string{}, d.AuditArgs...), "--pins", pins)
	if _, code, msg := runAuditArgs(t, args, d.Password); code != ExitDeviation {
		t.Fatalf("first audit (pins the certificate): exit %d %s", code, msg)
	}
	if b, _ := os.ReadFile(pins); !strings.Contains(string(b), "sha256:") {
		t.Fatalf("no pin written: %q", b)
	}
	// The pin alone connects.
	if _, code, msg := runAuditArgs(t, replaceArg(args, "--fingerprint", ""), d.Password); code != ExitDeviation {
		t.Fatalf("pinned audit: exit %d %s", code, msg)
	}
	wrong := replaceArg(args, "--fingerprint", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	_, code, msg := runAuditArgs(t, wrong, d.Password)
	if code != ExitTrustChanged || !strings.Contains(msg, "STOP") {
		t.Errorf("pin + wrong --fingerprint: exit %d %q, want %d and STOP", code, msg, ExitTrustChanged)
	}
	// A malformed --fingerprint is a usage error, before anything is sent.
	_, code, msg = runAuditArgs(t, replaceArg(args, "--fingerprint", "deadbeef"), d.Password)
	if code != ExitError || !strings.Contains(msg, "not a SHA-256 fingerprint") {
		t.Errorf("malformed --fingerprint: exit %d %q", code, msg)
	}
}

// TestAuditTofuWarnsWeakCertificate_Simulator: --tofu on a certificate
// signed with SHA-1 pins it but says so, with the certificate's details.
func TestAuditTofuWarnsWeakCertificate_Simulator(t *testing.T) {
	kp, err := simkepware.Start(simkepware.Config{SHA1Cert: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kp.Close()
	kargs := func(kp *simkepware.Device) []string {
		args := []string{"audit", "--device", "kepware", "--address", kp.Host()}
		args = append(args, portArgs(kp.Ports())...)
		return withPins(t, append(args, "--tofu", "--user", "Administrator", "--password-stdin", "--json"))
	}
	_, code, msg := runAuditArgs(t, kargs(kp), simkepware.DefaultAdminPassword)
	if code != ExitDeviation && code != ExitOK {
		t.Fatalf("exit %d: %s", code, msg)
	}
	for _, want := range []string{"warning: pinning a weak certificate", "SHA1", "SHA-256:", "OpenSSH:", "Valid:", "Key:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	// The same with a sound certificate: details, no warning.
	kp2, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer kp2.Close()
	_, _, msg = runAuditArgs(t, kargs(kp2), simkepware.DefaultAdminPassword)
	if strings.Contains(msg, "warning") || !strings.Contains(msg, "SHA-256:") {
		t.Errorf("a sound certificate: want its details and no warning:\n%s", msg)
	}
}

// TestExitCodesMatchREADME: the README and the usage document every exit
// code the command returns, with the values of exit.go.
func TestExitCodesMatchREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for code, word := range map[ExitCode]string{ExitOK: "all good", ExitDeviation: "deviation", ExitError: "error", ExitTrustChanged: "STOP"} {
		re := regexp.MustCompile(`\*\*` + strconv.Itoa(int(code)) + `\*\*[^*]*` + regexp.QuoteMeta(word))
		if !re.MatchString(readme) {
			t.Errorf("README does not document exit code %d (%s)", code, word)
		}
		if !regexp.MustCompile(`\b` + strconv.Itoa(int(code)) + `\b[^;.]*` + regexp.QuoteMeta(word)).MatchString(usage()) {
			t.Errorf("the usage does not document exit code %d (%s)", code, word)
		}
	}
}

// TestREADMEListsDemoLogins: every simulated device's login is in the
// README, and the default record folder is ignored by git.
func TestREADMEListsDemoLogins(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range lab.devices {
		if !strings.Contains(string(b), "`"+d.User+"`") || !strings.Contains(string(b), "`"+d.Password+"`") {
			t.Errorf("README lacks the %s demo login %s / %s", d.Family, d.User, d.Password)
		}
	}
	for _, want := range []string{"go install github.com/commission-tool/commission/cmd/commission@latest", "Go 1.26"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README lacks %q", want)
		}
	}
	gi, err := os.ReadFile("../../.gitignore")
	if err != nil || !regexp.MustCompile(`(?m)^/?commission-records/?$`).Match(gi) {
		t.Errorf(".gitignore does not cover the default record folder: %q %v", gi, err)
	}
}
