package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// recordFresh audits a demo device with --record and returns the bundle.
func recordFresh(t *testing.T, d demoDevice, pins, key string) string {
	t.Helper()
	out := t.TempDir()
	args := append(append([]string{}, d.AuditArgs...), "--pins", pins, "--record", out, "--key", key, "--identity", "ada@example.test")
	if _, code, msg := runAuditArgs(t, args, d.Password); code != ExitDeviation {
		t.Fatalf("%s: audit --record: exit %d, want 1 (a factory device deviates): %s", d.Family, code, msg)
	}
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) != 1 {
		t.Fatalf("%s: want one bundle in %s: %v %v", d.Family, out, entries, err)
	}
	return filepath.Join(out, entries[0].Name())
}

// runBaselineArgs runs audit --baseline against a demo device.
func runBaselineArgs(t *testing.T, d demoDevice, bundleDir, pins string) (driftReport, ExitCode, string) {
	t.Helper()
	args := []string{"audit", "--baseline", bundleDir, "--user", d.User, "--password-stdin", "--json", "--pins", pins, "--fingerprint", fingerprintOf(d)}
	args = append(args, portArgs(d.Ports)...)
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(d.Password+"\n"), &out, &errb)
	var rep driftReport
	if out.Len() > 0 {
		if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
			t.Fatalf("not JSON: %v\n%s", jerr, out.String())
		}
	}
	msg := errb.String()
	if err != nil {
		msg += err.Error()
	}
	return rep, codeOf(err), msg
}

func drifted(rep driftReport) []string {
	var ids []string
	for _, s := range rep.Steps {
		if s.Status == "drifted" {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func TestBaselineFreshBundleHasNoDrift_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	key := testKey(t)
	for _, d := range lab.devices {
		t.Run(d.Family, func(t *testing.T) {
			pins := filepath.Join(t.TempDir(), "known_devices")
			dir := recordFresh(t, d, pins, key)
			rep, code, msg := runBaselineArgs(t, d, dir, pins)
			if code != ExitOK || rep.Drifted != 0 {
				t.Fatalf("exit %d, drifted %v, want 0 and none: %s", code, drifted(rep), msg)
			}
			if rep.Unchanged == 0 || rep.Unchanged+rep.Manual != len(rep.Steps) || rep.RecordSHA256 == "" {
				t.Errorf("%d unchanged and %d manual of %d steps, sha %q", rep.Unchanged, rep.Manual, len(rep.Steps), rep.RecordSHA256)
			}
			if !strings.Contains(msg, "checked only against the bundle's own allowed_signers") {
				t.Errorf("no warning about the untrusted signer: %s", msg)
			}
		})
	}
}

// putKepwareProject changes project properties through the simulated
// server's Configuration API, as any API client would.
func putKepwareProject(t *testing.T, d demoDevice, props map[string]any) {
	t.Helper()
	body, _ := json.Marshal(props)
	url := "https://" + d.Address + ":" + strconv.Itoa(d.Ports["config-https"]) + "/config/v1/project"
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(d.User, d.Password)
	req.Header.Set("Content-Type", "application/json")
	// The test talks to its own loopback simulator; its certificate is
	// the one the audit pins by fingerprint.
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT project: %s", resp.Status)
	}
}

func TestBaselineReportsExactlyTheChangedStep_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	d := lab.first("kepware")
	if d.Family != "kepware" {
		t.Fatalf("lab device 1 is %s", d.Family)
	}
	pins := filepath.Join(t.TempDir(), "known_devices")
	dir := recordFresh(t, d, pins, testKey(t))
	if _, code, msg := runBaselineArgs(t, d, dir, pins); code != ExitOK {
		t.Fatalf("before the change: exit %d: %s", code, msg)
	}
	putKepwareProject(t, d, map[string]any{"FORCE_UPDATE": true,
		"opcdaserver.PROJECT_OPC_DA_1_ENABLED": false, "opcdaserver.PROJECT_OPC_DA_2_ENABLED": false, "opcdaserver.PROJECT_OPC_DA_3_ENABLED": false})
	rep, code, msg := runBaselineArgs(t, d, dir, pins)
	if code != ExitDeviation {
		t.Fatalf("after the change: exit %d, want 1: %s", code, msg)
	}
	ids := drifted(rep)
	if len(ids) != 1 || ids[0] != "kepware.5.2.opc-da" {
		t.Fatalf("drifted %v, want exactly kepware.5.2.opc-da", ids)
	}
	for _, s := range rep.Steps {
		if s.ID != "kepware.5.2.opc-da" {
			continue
		}
		if s.Before == nil || s.Now == nil || s.Before.Outcome != "deviation" || s.Now.Outcome != "compliant" ||
			!strings.Contains(s.Before.Observed, "1.0 Enabled") || strings.Contains(s.Now.Observed, "Enabled") {
			t.Errorf("before/now: %+v %+v", s.Before, s.Now)
		}
	}
	// The human output names the step with before and now.
	args := []string{"audit", "--baseline", dir, "--user", d.User, "--password-stdin", "--pins", pins, "--fingerprint", fingerprintOf(d)}
	args = append(args, portArgs(d.Ports)...)
	var out, errb bytes.Buffer
	run(context.Background(), args, strings.NewReader(d.Password+"\n"), &out, &errb)
	for _, want := range []string{"drifted   kepware.5.2.opc-da", "before:  deviation: OPC DA 1.0 Enabled", "now:     compliant:", "unchanged kepware.", "1 step(s) drifted"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBaselineRefusesABundleThatDoesNotVerify_Simulator(t *testing.T) {
	lab, err := startLab(context.Background(), 50*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	d := lab.first("nport")
	pins := filepath.Join(t.TempDir(), "known_devices")
	dir := recordFresh(t, d, pins, testKey(t))
	path := filepath.Join(dir, "record.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Claim a compliant device where the signed record says otherwise.
	tampered := bytes.Replace(data, []byte(`"outcome": "deviation"`), []byte(`"outcome": "compliant"`), 1)
	if bytes.Equal(tampered, data) {
		tampered = bytes.Replace(data, []byte(`"outcome":"deviation"`), []byte(`"outcome":"compliant"`), 1)
	}
	if bytes.Equal(tampered, data) {
		t.Fatal("found no outcome to tamper with")
	}
	os.WriteFile(path, tampered, 0o644)
	_, code, msg := runBaselineArgs(t, d, dir, pins)
	if code != ExitError || !strings.Contains(msg, "does not verify") {
		t.Errorf("tampered baseline: exit %d %s, want 2", code, msg)
	}
	for _, args := range [][]string{
		{"audit", "--baseline", dir, "--password-stdin"},
		{"audit", "--baseline", dir, "--user", "admin"},
		{"audit", "--baseline", filepath.Join(t.TempDir(), "none"), "--user", "admin", "--password-stdin"},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, strings.NewReader("x\n"), &out, &errb); codeOf(err) != ExitError {
			t.Errorf("%v: exit %d %v", args, codeOf(err), err)
		}
	}
}

func TestCompareBaseline(t *testing.T) {
	fnd := func(ok bool, obs string) *steps.Finding {
		return &steps.Finding{Applicable: true, Compliant: ok, Observed: obs}
	}
	rec := record.Record{Device: devices.Identity{Model: "M", MAC: "00:01", Firmware: "1.0"}, Steps: []record.Step{
		{ID: "fixed", Kind: steps.Automatic, Outcome: steps.Fixed, Before: fnd(false, "telnet on"), After: fnd(true, "telnet off")},
		{ID: "same-class", Kind: steps.Automatic, Outcome: steps.Compliant, Before: fnd(true, "syslog 10.0.0.5")},
		{ID: "clock", Kind: steps.Automatic, Outcome: steps.Deviation, Before: fnd(false, "clock 2026-12-01T21:35:39Z")},
		{ID: "manual", Kind: steps.Manual, Outcome: steps.Attested, Before: fnd(false, "12 log lines")},
		{ID: "waived", Kind: steps.Automatic, Outcome: steps.Waived, Before: fnd(false, "SNMP on")},
		{ID: "gone", Kind: steps.Automatic, Outcome: steps.Compliant, Before: fnd(true, "x")},
	}}
	live := auditReport{Device: devices.Identity{Model: "M", MAC: "00:01", Firmware: "1.1"}, Steps: []auditFinding{
		{ID: "fixed", Kind: steps.Automatic, Outcome: steps.Compliant, Observed: "telnet off"},
		{ID: "same-class", Kind: steps.Automatic, Outcome: steps.Compliant, Observed: "syslog 10.0.0.6"},
		{ID: "clock", Kind: steps.Automatic, Outcome: steps.Deviation, Observed: "clock 2026-12-01T21:35:40Z"},
		{ID: "manual", Kind: steps.Manual, Outcome: steps.ManualPending, Observed: "13 log lines"},
		{ID: "waived", Kind: steps.Automatic, Outcome: steps.Deviation, Observed: "SNMP on"},
		{ID: "added", Kind: steps.Automatic, Outcome: steps.Compliant, Observed: "y"},
	}}
	rep := compareBaseline(rec, live)
	got := map[string]string{}
	for _, s := range rep.Steps {
		got[s.ID] = s.Status
	}
	want := map[string]string{"device": "drifted", "fixed": "unchanged", "same-class": "drifted", "clock": "unchanged",
		"manual": "manual", "waived": "unchanged", "gone": "drifted", "added": "new"}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("%s: %s, want %s", id, got[id], st)
		}
	}
	if rep.Drifted != 3 || rep.Unchanged != 3 || rep.Manual != 1 {
		t.Errorf("drifted %d unchanged %d manual %d", rep.Drifted, rep.Unchanged, rep.Manual)
	}
}
