package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
)

// runAuditArgs runs "commission audit" in-process with the lab's audit_args.
func runAuditArgs(t testing.TB, args []string, password string) (auditReport, ExitCode, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(password+"\n"), &out, &errb)
	var rep auditReport
	if out.Len() > 0 && strings.Contains(strings.Join(args, " "), "--json") {
		if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
			t.Fatalf("audit output is not JSON: %v\n%s", jerr, out.String())
		}
	}
	msg := errb.String()
	if err != nil {
		msg += err.Error()
	}
	return rep, codeOf(err), msg
}

func withPins(t testing.TB, args []string) []string {
	return append(append([]string{}, args...), "--pins", filepath.Join(t.TempDir(), "known_devices"))
}

func TestAuditFactoryReportsEveryDeviation_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	d := lab.first("nport")
	rep, code, msg := runAuditArgs(t, withPins(t, d.AuditArgs), d.Password)
	if code != ExitDeviation {
		t.Fatalf("exit %d, want 1 (deviations): %s", code, msg)
	}
	want := []string{"nport.3.1.http", "nport.3.1.tls-legacy", "nport.3.1.moxa-service", "nport.3.1.snmp", "nport.3.1.syslog",
		"nport.3.2.personal-admin", "nport.3.2.default-admin", "nport.3.2.password-policy", "nport.3.2.lockout",
		"nport.3.2.login-message", "nport.3.3.accessible-ip", "nport.3.4.log-events"}
	got := map[string]auditFinding{}
	for _, s := range rep.Steps {
		got[s.ID] = s
	}
	for _, id := range want {
		f, ok := got[id]
		if !ok || f.Outcome != "deviation" || f.Observed == "" || f.Expected == "" || f.Guide == "" {
			t.Errorf("%s: %+v", id, f)
		}
	}
	if len(rep.Steps) != 22 || rep.Device.Model != "NPort 5150A" || rep.Device.Firmware == "" {
		t.Errorf("%d steps, device %+v", len(rep.Steps), rep.Device)
	}
	if lab.nport().Restarts() != 0 {
		t.Error("the audit changed the device")
	}
	// the GA console serves one session at a time: an audit that ends
	// logged in would lock the technician's browser out
	if n := lab.nport().Sessions(); n != 0 {
		t.Errorf("the audit ended with %d console sessions still logged in", n)
	}
}

func TestAuditHardenedIsCompliant_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	lab.nport().Harden(simnport.HardenOptions{AdminUser: "tech1", AdminPassword: "Fld#Tech2026!abc"})
	args := withPins(t, lab.first("nport").AuditArgs)
	for i, a := range args {
		if a == "--user" {
			args[i+1] = "tech1"
		}
	}
	rep, code, msg := runAuditArgs(t, args, "Fld#Tech2026!abc")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0: %s\n%+v", code, msg, rep.Summary)
	}
	for _, s := range rep.Steps {
		if s.Kind == "automatic" && s.Outcome != "compliant" && (s.Outcome != "not_applicable" || s.Reason == "") {
			t.Errorf("%s: %s %s", s.ID, s.Outcome, s.Reason)
		}
	}
}

func TestAuditBadInput(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	d := lab.first("nport")
	// Wrong password: exit 2 and a message that says what to do.
	_, code, msg := runAuditArgs(t, withPins(t, d.AuditArgs), "wrong")
	if code != ExitError || !strings.Contains(msg, "check the user name and password") {
		t.Errorf("wrong password: exit %d %q", code, msg)
	}
	// A fingerprint that does not match: stop, name the risk.
	args := withPins(t, d.AuditArgs)
	for i, a := range args {
		if a == "--fingerprint" {
			args[i+1] = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
	}
	_, code, msg = runAuditArgs(t, args, d.Password)
	if code != ExitTrustChanged || !strings.Contains(msg, "impostor") {
		t.Errorf("wrong fingerprint: exit %d %q, want %d", code, msg, ExitTrustChanged)
	}
	// No password on stdin.
	var out, errb bytes.Buffer
	err = run(context.Background(), withPins(t, d.AuditArgs), strings.NewReader(""), &out, &errb)
	if codeOf(err) != ExitError || !strings.Contains(err.Error(), "no password") {
		t.Errorf("empty stdin: %v", err)
	}
	// Bad flags.
	for _, args := range [][]string{
		{"audit", "--device", "toaster", "--address", "127.0.0.1", "--user", "u", "--password-stdin"},
		{"audit", "--device", "nport", "--user", "u", "--password-stdin"},
		{"audit", "--device", "nport", "--address", "127.0.0.1", "--user", "u", "--password-stdin", "--port", "http=99999"},
	} {
		err := run(context.Background(), args, strings.NewReader("x\n"), &out, &errb)
		if codeOf(err) != ExitError {
			t.Errorf("%v: exit %d (%v), want 2", args, codeOf(err), err)
		}
	}
}

func TestAuditUnreachableWithinToolTimeout(t *testing.T) {
	// A loopback listener that accepts and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	args := withPins(t, []string{"audit", "--device", "nport", "--address", "127.0.0.1", "--port", "https=" + p, "--port", "http=" + p,
		"--user", "admin", "--password-stdin", "--json", "--tofu", "--timeout", "1s"})
	start := time.Now()
	_, code, msg := runAuditArgs(t, args, "moxa")
	if code != ExitError {
		t.Fatalf("exit %d, want 2: %s", code, msg)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("unreachable reported after %v, want within 3 s", el)
	}
	if !strings.Contains(msg, "127.0.0.1") {
		t.Errorf("message does not name the address: %q", msg)
	}
}

// BenchmarkAuditFactory_Simulator measures a full audit (login, every page,
// UDP 4800, SNMP, all port and TLS probes, every check) against the
// loopback simulator. Target: at most 150 ms.
func BenchmarkAuditFactory_Simulator(b *testing.B) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	defer lab.Close()
	args := withPins(b, lab.first("nport").AuditArgs)
	b.ResetTimer()
	for b.Loop() {
		_, code, msg := runAuditArgs(b, args, "moxa")
		if code != ExitDeviation {
			b.Fatalf("exit %d: %s", code, msg)
		}
	}
}

// BenchmarkAuditUnreachable measures how long an unreachable device takes
// to be reported with the default timeout. Target: within 3 s.
func BenchmarkAuditUnreachable(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	args := withPins(b, []string{"audit", "--device", "nport", "--address", "127.0.0.1", "--port", "https=" + p, "--port", "http=" + p,
		"--user", "admin", "--password-stdin", "--tofu"})
	for b.Loop() {
		if _, code, _ := runAuditArgs(b, args, "moxa"); code != ExitError {
			b.Fatalf("exit %d", code)
		}
	}
}

// TestDemoAuditRecordsSaySimulated_Simulator: the audit_args that
// "demo --headless" prints carry --simulated, so a record signed from
// them says SIMULATED DEVICE; the same audit without the flag does not.
func TestDemoAuditRecordsSaySimulated_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	key := testKey(t)
	for _, d := range lab.devices {
		if !slices.Contains(d.AuditArgs, "--simulated") {
			t.Errorf("%s: audit_args lack --simulated: %q", d.Label, d.AuditArgs)
		}
	}
	d := lab.first("nport")
	for _, simulated := range []bool{true, false} {
		dd := d
		if !simulated {
			dd.AuditArgs = slices.DeleteFunc(slices.Clone(d.AuditArgs), func(a string) bool { return a == "--simulated" })
		}
		dir := recordFresh(t, dd, filepath.Join(t.TempDir(), "pins"), key)
		rec, _, err := record.Load(filepath.Join(dir, bundle.RecordFile))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Simulated != simulated || (rec.Status.State == record.StatusSimulated) != simulated {
			t.Errorf("--simulated %v: record simulated %v, status %s", simulated, rec.Simulated, rec.Status.State)
		}
	}
}

// TestAuditFirstSightWithFingerprintOpensOnce_Simulator: the demo's
// audit_args give --fingerprint; on a fresh pin file the first audit
// pins the matching certificate during its first connection and reads
// the device once, as every later audit does (it used to be refused as
// unknown, pin, and start again: its UDP 4800 asks and TLS handshakes
// were made twice), and it still says what it pinned.
func TestAuditFirstSightWithFingerprintOpensOnce_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	sim := lab.nport()
	d := lab.first("nport")
	args := withPins(t, d.AuditArgs)
	audit := func() (asks int, msg string) {
		t.Helper()
		before := len(sim.MoxaUDPSenders())
		_, code, msg := runAuditArgs(t, args, d.Password)
		if code != ExitDeviation {
			t.Fatalf("exit %d, want 1: %s", code, msg)
		}
		return len(sim.MoxaUDPSenders()) - before, msg
	}
	first, msg := audit()
	if !strings.Contains(msg, "pinned the certificate of 127.0.0.1:") {
		t.Errorf("the first audit does not say what it pinned:\n%s", msg)
	}
	second, msg := audit()
	if strings.Contains(msg, "pinned the certificate") {
		t.Errorf("the second audit pinned again:\n%s", msg)
	}
	if first != second || first == 0 {
		t.Errorf("UDP 4800 asks: %d in the first audit, %d in the second; want the same, one read each", first, second)
	}
}
