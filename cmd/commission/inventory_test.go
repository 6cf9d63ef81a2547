package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"

	"github.com/commission-tool/commission/internal/record/keys"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
)

// fingerprintOf returns the --fingerprint of a demo device's audit_args.
func fingerprintOf(d demoDevice) string {
	for i, a := range d.AuditArgs {
		if a == "--fingerprint" && i+1 < len(d.AuditArgs) {
			return d.AuditArgs[i+1]
		}
	}
	return ""
}

// closedPort is a loopback port nothing serves on, held (simnet.Hold)
// until the test ends, so that no other socket on the machine takes it.
func closedPort(t testing.TB) int {
	t.Helper()
	h, err := simnet.HoldPort("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h.Port()
}

// inventoryCSV writes an inventory of the lab's devices, each password
// in its own file, and returns its path.
func inventoryCSV(t testing.TB, devs []demoDevice, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("family,address,user,password_file,password_env,fingerprint,ports,name\n")
	for i, d := range devs {
		pw := filepath.Join(dir, fmt.Sprintf("pw%d", i))
		if err := os.WriteFile(pw, []byte(d.Password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var ports []string
		for _, kv := range portArgs(d.Ports) {
			if kv != "--port" {
				ports = append(ports, kv)
			}
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,,%s,%s,sim %d\n", d.Family, d.Address, d.User, pw, fingerprintOf(d), strings.Join(ports, " "), i)
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	path := filepath.Join(dir, "inventory.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readLines(t testing.TB, out []byte) []inventoryLine {
	t.Helper()
	var lines []inventoryLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l inventoryLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("stdout line is not a JSON object: %v\n%s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	return lines
}

func TestAuditInventoryDemoDevicesPlusUnreachable_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	closed := closedPort(t)
	// The unreachable device names no password source: it takes the
	// shared one from standard input.
	inv := inventoryCSV(t, lab.devices, fmt.Sprintf("nport,127.0.0.1:%d,admin,,,,,gone", closed))
	var out, errb bytes.Buffer
	args := []string{"audit", "--inventory", inv, "--password-stdin", "--jobs", "2", "--timeout", "1s",
		"--pins", filepath.Join(t.TempDir(), "known_devices")}
	err = run(context.Background(), args, strings.NewReader("shared-Secret-1\n"), &out, &errb)
	if codeOf(err) != ExitError {
		t.Fatalf("exit %d (%v), want 2: the worst device is unreachable\n%s", codeOf(err), err, errb.String())
	}
	lines := readLines(t, out.Bytes())
	if len(lines) != len(lab.devices)+1 {
		t.Fatalf("%d JSON lines, want %d:\n%s", len(lines), len(lab.devices)+1, out.String())
	}
	byAddr := map[string]inventoryLine{}
	for _, l := range lines {
		byAddr[l.Family+" "+l.Address] = l
	}
	for _, d := range lab.devices {
		l, ok := byAddr[d.Family+" "+d.Address]
		if !ok {
			t.Errorf("no line for %s %s", d.Family, d.Address)
			continue
		}
		// Factory-default simulators deviate; none of them is an error.
		if l.Status != "deviations" || l.Exit != ExitDeviation || len(l.Deviations) == 0 || l.Error != "" || l.Device == nil || l.Device.Model == "" {
			t.Errorf("%s: %+v", d.Family, l)
		}
	}
	gone := byAddr[fmt.Sprintf("nport 127.0.0.1:%d", closed)]
	if gone.Status != "error" || gone.Exit != ExitError || gone.Error == "" || gone.Name != "gone" {
		t.Errorf("unreachable device: %+v", gone)
	}
	stderr := errb.String()
	n := len(lab.devices) + 1
	for _, want := range []string{"[1/" + strconv.Itoa(n) + "]", fmt.Sprintf("[%d/%d]", n, n), "FAMILY", "DEVIATIONS", "STEP ERRORS",
		fmt.Sprintf("%d device(s): 0 compliant, %d with deviations, 1 error(s)", n, n-1)} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, d := range lab.devices {
		if d.Family == "nport" {
			continue // "moxa" is the published factory default: the guide's expected text names it
		}
		for _, s := range []string{out.String(), stderr} {
			if strings.Contains(s, d.Password) || strings.Contains(s, "shared-Secret-1") {
				t.Errorf("a password (of %s) reached the output:\n%s", d.Family, s)
			}
		}
	}
	if lab.nport().Restarts() != 0 {
		t.Error("the inventory audit changed a device")
	}
}

func TestAuditInventoryExitIsTheWorstDevices_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	lab.nport().Harden(simnport.HardenOptions{AdminUser: "tech1", AdminPassword: "Fld#Tech2026!abc"})
	hardened := lab.first("nport")
	hardened.User, hardened.Password = "tech1", "Fld#Tech2026!abc"
	pins := filepath.Join(t.TempDir(), "known_devices")
	for _, c := range []struct {
		devs []demoDevice
		want ExitCode
	}{
		{[]demoDevice{hardened}, ExitOK},
		{[]demoDevice{hardened, lab.first("kepware")}, ExitDeviation}, // factory Kepware
	} {
		var out, errb bytes.Buffer
		err = run(context.Background(), []string{"audit", "--inventory", inventoryCSV(t, c.devs), "--pins", pins}, strings.NewReader(""), &out, &errb)
		if codeOf(err) != c.want {
			t.Fatalf("%d device(s): exit %d (%v), want %d\n%s", len(c.devs), codeOf(err), err, c.want, errb.String())
		}
		lines := readLines(t, out.Bytes())
		if len(lines) != len(c.devs) {
			t.Fatalf("%d lines for %d devices", len(lines), len(c.devs))
		}
		for _, l := range lines {
			if l.Family == "nport" && (l.Exit != ExitOK || l.Status != "compliant") || l.Family == "kepware" && l.Exit != ExitDeviation {
				t.Errorf("%s: %s exit %d", l.Family, l.Status, l.Exit)
			}
		}
	}
}

func TestAuditInventoryRecordsOneBundlePerDevice_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	key := testKey(t)
	recDir := t.TempDir()
	inv := inventoryCSV(t, lab.devices)
	var out, errb bytes.Buffer
	args := []string{"audit", "--inventory", inv, "--record", recDir, "--key", key, "--identity", "ada@example.test",
		"--pins", filepath.Join(t.TempDir(), "known_devices")}
	err = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	if codeOf(err) != ExitDeviation {
		t.Fatalf("exit %d (%v)\n%s", codeOf(err), err, errb.String())
	}
	dirs := map[string]bool{}
	for _, l := range readLines(t, out.Bytes()) {
		if l.Record == "" {
			t.Errorf("%s: no record", l.Family)
			continue
		}
		dirs[l.Record] = true
		rep, err := verifyDir(l.Record, "", "")
		if err != nil || !rep.OK() {
			t.Errorf("%s: the bundle does not verify: %v %+v", l.Family, err, rep.Problems)
		}
	}
	if len(dirs) != len(lab.devices) {
		t.Errorf("%d bundles for %d devices", len(dirs), len(lab.devices))
	}
}

func TestAuditInventoryBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("family,address,user,password\nnport,127.0.0.1,admin,moxa\n"), 0o600)
	noSource := filepath.Join(dir, "nosource.csv")
	os.WriteFile(noSource, []byte("family,address,user\nnport,127.0.0.1,admin\n"), 0o600)
	badAddr := filepath.Join(dir, "addr.csv")
	os.WriteFile(badAddr, []byte("family,address,user\nnport,127.0.0.999,admin\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--inventory", bad}, `bad.csv:1: column "password" looks like a secret`},
		{[]string{"audit", "--inventory", noSource}, "name no password source"},
		{[]string{"audit", "--inventory", badAddr, "--password-stdin"}, "addr.csv:2: address \"127.0.0.999\""},
		{[]string{"audit", "--inventory", noSource, "--jobs", "0"}, "--jobs must be from 1 to 64"},
		{[]string{"audit", "--inventory", noSource, "--record", dir}, "--record needs --identity"},
		{[]string{"audit", "--inventory", filepath.Join(dir, "missing.csv")}, "no such file"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), c.args, strings.NewReader("x\n"), &out, &errb)
		if codeOf(err) != ExitError || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: exit %d %v, want 2 and %q", c.args, codeOf(err), err, c.want)
		}
	}
}

// testKey makes an unencrypted Ed25519 signing key for the test.
func testKey(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := keys.CreateEd25519(path, "ada@example.test", nil); err != nil {
		t.Fatal(err)
	}
	return path
}
