//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

// crashAction is one thing the technician does in a crash test.
type crashAction struct {
	kind, id, text string
	in             steps.Values
}

// crashPlan is the session both the crashing child and the resuming
// parent follow: the same actions in the same order.
var crashPlan = []crashAction{
	{kind: "fix", id: "nport.3.1.http"},
	{kind: "waive", id: "nport.3.1.snmp", text: "the plant's NMS polls this unit until 2027"},
	{kind: "fix", id: "nport.3.1.moxa-service"},
	{kind: "attest", id: "nport.3.1.opmodes", text: "port 1 feeds the weighbridge"},
	{kind: "fix", id: "nport.3.2.lockout"},
	{kind: "na", id: "nport.4.2.firmware-hash", text: "no firmware upload at commissioning"},
	{kind: "fix", id: "nport.3.2.login-message", in: steps.Values{"message": "Authorised access only."}},
	{kind: "commit"},
}

// restartBoundPlan stages only NPort settings that take effect at the
// Save/Restart: the console shows them saved long before they run.
var restartBoundPlan = []crashAction{
	{kind: "fix", id: "nport.3.2.password-policy", in: steps.Values{"lifetime": "30"}},
	{kind: "fix", id: "nport.3.2.lockout"},
	{kind: "fix", id: "nport.3.2.login-message", in: steps.Values{"message": "Authorised access only."}},
}

type crashEnv struct {
	Address    string         `json:"address"`
	Ports      map[string]int `json:"ports"`
	Pins       string         `json:"pins"`
	Journal    string         `json:"journal"` // folder for a new journal; or a file to resume
	CrashAfter int            `json:"crash_after"`
	Plan       string         `json:"plan,omitempty"` // "restart-bound": restartBoundPlan; else crashPlan
}

func (e crashEnv) actions() []crashAction {
	if e.Plan == "restart-bound" {
		return restartBoundPlan
	}
	return crashPlan
}

func doAction(ctx context.Context, eng engine, i int) error {
	return do(ctx, eng, crashPlan[i])
}

func do(ctx context.Context, eng engine, a crashAction) error {
	switch a.kind {
	case "fix":
		if _, err := eng.Plan(a.id, a.in); err != nil {
			return err
		}
		return eng.Apply(ctx, a.id)
	case "waive":
		return eng.Waive(a.id, a.text)
	case "na":
		return eng.NotApplicable(a.id, a.text)
	case "attest":
		return eng.Attest(ctx, a.id, nil, a.text)
	case "commit":
		return eng.Commit(ctx)
	}
	return fmt.Errorf("unknown action %q", a.kind)
}

// done reports whether action i is already reflected in the restored results.
func done(eng engine, i int) bool {
	a := crashPlan[i]
	if a.kind == "commit" {
		return eng.Pending() == 0 && eng.Result(crashPlan[0].id).Outcome == steps.Fixed
	}
	switch eng.Result(a.id).Outcome {
	case steps.Staged, steps.Fixed, steps.Waived, steps.NotApplicable, steps.Attested:
		return true
	}
	return false
}

func openCrashEngine(ctx context.Context, env crashEnv) (engine, *record.Journal, error) {
	pins, err := transport.OpenPins(env.Pins)
	if err != nil {
		return nil, nil, err
	}
	t := target{Family: "nport", Address: env.Address, User: "admin", Password: "moxa", Ports: env.Ports, Pins: pins, Timeout: 2 * time.Second}
	var j *record.Journal
	var restored []steps.Result
	if strings.HasSuffix(env.Journal, record.JournalExt) {
		if _, restored, err = record.Replay(env.Journal); err != nil {
			return nil, nil, err
		}
		j, err = record.OpenJournal(env.Journal)
	} else {
		j, err = record.CreateJournal(env.Journal, record.Header{Family: "nport", Address: env.Address, Started: time.Now().UTC()})
	}
	if err != nil {
		return nil, nil, err
	}
	eng, err := newEngine(t, j)
	if err != nil {
		return nil, nil, err
	}
	eng.Restore(restored)
	if err := eng.Open(ctx); err != nil {
		return nil, nil, err
	}
	return eng, j, nil
}

// crashChild is the process that crashes (TestMain runs it instead of
// the tests when COMMISSION_CRASH_CHILD holds its crashEnv): it runs the
// first CrashAfter actions, says so, and waits to be killed.
func crashChild(raw string) {
	var env crashEnv
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	ctx := context.Background()
	eng, _, err := openCrashEngine(ctx, env)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	for i := range env.CrashAfter {
		if err := do(ctx, eng, env.actions()[i]); err != nil {
			fmt.Println("ERROR", err)
			os.Exit(3)
		}
	}
	fmt.Println("READY")
	time.Sleep(time.Minute) // killed here, with SIGKILL: no cleanup runs
	os.Exit(4)
}

// comparable keeps what a record says about each step, without times
// and without the observed text of the device's ever-growing log.
func comparable(rs []steps.Result) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		after := "-"
		if r.After != nil {
			after = fmt.Sprint(r.After.Compliant)
		}
		before := "-"
		if r.Before != nil {
			before = fmt.Sprint(r.Before.Compliant)
		}
		out[r.StepID] = fmt.Sprintf("%s|%s|%v|%v|%s|before=%s|after=%s", r.Outcome, r.Reason, r.Changes, r.Inputs, r.Evidence, before, after)
	}
	return out
}

// observed is what a step's checks saw, for a mismatch's message:
// comparable leaves it out, but it tells which port or page disagreed.
func observed(rs []steps.Result, id string) string {
	var b strings.Builder
	for _, r := range rs {
		if r.StepID != id {
			continue
		}
		for _, f := range []struct {
			name string
			f    *steps.Finding
		}{{"before", r.Before}, {"after", r.After}} {
			if f.f != nil {
				fmt.Fprintf(&b, "\n  %s: observed %q, notes %q", f.name, f.f.Observed, f.f.Notes)
			}
		}
	}
	return b.String()
}

func runToEnd(t *testing.T, ctx context.Context, eng engine) []steps.Result {
	t.Helper()
	for i := range crashPlan {
		if done(eng, i) {
			continue
		}
		if err := doAction(ctx, eng, i); err != nil {
			t.Fatalf("action %d (%s %s): %v", i, crashPlan[i].kind, crashPlan[i].id, err)
		}
	}
	return eng.Results()
}

func TestCrashBetweenStepsLosesNothing_Simulator(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	// The uninterrupted run gives the reference record.
	lab, err := startLab(ctx, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pins := filepath.Join(dir, "known_devices")
	trustLab(t, pins, lab)
	env := crashEnv{Address: lab.first("nport").Address, Ports: lab.first("nport").Ports, Pins: pins, Journal: filepath.Join(dir, "ref")}
	os.MkdirAll(env.Journal, 0o700)
	eng, j, err := openCrashEngine(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	ref := runToEnd(t, ctx, eng)
	want := comparable(ref)
	eng.Close()
	j.Close()
	lab.Close()

	for k := 1; k < len(crashPlan); k++ {
		t.Run(fmt.Sprintf("killed after action %d", k), func(t *testing.T) {
			lab, err := startLab(ctx, 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer lab.Close()
			dir := t.TempDir()
			pins := filepath.Join(dir, "known_devices")
			trustLab(t, pins, lab)
			env := crashEnv{Address: lab.first("nport").Address, Ports: lab.first("nport").Ports, Pins: pins, Journal: dir, CrashAfter: k}
			cmd, out := startChild(t, env)
			waitReady(t, out)
			kill(cmd)

			us, err := record.FindUnfinished(dir)
			if err != nil || len(us) != 1 {
				t.Fatalf("unfinished sessions: %v %v", us, err)
			}
			env.Journal = us[0].Path
			eng, j, err := openCrashEngine(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			defer eng.Close()
			res := runToEnd(t, ctx, eng)
			got := comparable(res)
			if !reflect.DeepEqual(got, want) {
				for id := range want {
					if got[id] != want[id] {
						t.Errorf("%s:\n resumed %s\n     ref %s\n resumed saw:%s\n ref saw:%s", id, got[id], want[id], observed(res, id), observed(ref, id))
					}
				}
			}
			if n := lab.nport().Restarts(); n != 1 {
				t.Errorf("%d restarts, want 1", n)
			}
		})
	}
}

// waitReady reads the child's output until it says READY.
func waitReady(t *testing.T, out io.Reader) {
	t.Helper()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERROR") {
			t.Fatalf("child: %s", line)
		}
		if line == "READY" {
			return
		}
	}
	t.Fatal("the child never got ready")
}

// startChild starts the crashing child for env; its stdout is returned.
func startChild(t *testing.T, env crashEnv) (*exec.Cmd, io.Reader) {
	t.Helper()
	raw, _ := json.Marshal(env)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COMMISSION_CRASH_CHILD="+string(raw))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kill(cmd) })
	return cmd, out
}

// kill SIGKILLs the child (no cleanup runs in it) and reaps it.
func kill(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
}

// The NPort console shows saved values: after a crash between staging
// restart-bound settings and the Save/Restart, a resumed session must not
// call them fixed. It says they await the restart, restarts, and only the
// fresh read after it fixes them. While the child lives, a second writer
// is told which process holds the journal.
func TestCrashBeforeRestartIsNotFixed_Simulator(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	lab, err := startLab(ctx, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	dir := t.TempDir()
	pins := filepath.Join(dir, "known_devices")
	trustLab(t, pins, lab)
	jdir := filepath.Join(dir, "sessions")
	os.MkdirAll(jdir, 0o700)
	env := crashEnv{Address: lab.first("nport").Address, Ports: lab.first("nport").Ports, Pins: pins, Journal: jdir,
		CrashAfter: len(restartBoundPlan), Plan: "restart-bound"}
	cmd, out := startChild(t, env)
	waitReady(t, out)

	us, err := record.FindUnfinished(jdir)
	if err != nil || len(us) != 1 {
		t.Fatalf("unfinished sessions: %v %v", us, err)
	}
	if len(us[0].AwaitingRestart) != len(restartBoundPlan) {
		t.Errorf("the journal lists %v as awaiting the restart, want all %d staged steps", us[0].AwaitingRestart, len(restartBoundPlan))
	}
	_, err = record.OpenJournal(us[0].Path)
	var held *record.HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) ||
		!strings.Contains(err.Error(), "another commission process") {
		t.Fatalf("second writer while the child lives: %v, want a *HeldError naming pid %d", err, cmd.Process.Pid)
	}
	_, err = record.CreateJournal(jdir, record.Header{Family: "nport", Address: env.Address})
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "device nport at "+env.Address) ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Fatalf("second wizard on the device while the child lives: %v, want a *HeldError naming the device and pid %d", err, cmd.Process.Pid)
	}
	kill(cmd)

	saved, eff := lab.nport().Saved(), lab.nport().Effective()
	if saved.Policy == eff.Policy || saved.LoginMessage == eff.LoginMessage || lab.nport().Restarts() != 0 {
		t.Fatalf("the child did not leave staged, unrestarted settings: saved %+v effective %+v", saved.Policy, eff.Policy)
	}
	env.Journal = us[0].Path
	eng, j, err := openCrashEngine(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	defer eng.Close()
	for _, a := range restartBoundPlan {
		if r := eng.Result(a.id); r.Outcome != steps.Staged || r.After != nil || len(r.Changes) == 0 {
			t.Errorf("%s after resume: %s (after %v, changes %v), want staged with its changes, not verified", a.id, r.Outcome, r.After, r.Changes)
		}
	}
	aw, ok := unwrap(eng).(interface{ AwaitingRestart() []string })
	if !ok {
		t.Fatal("the engine does not say what awaits the restart")
	}
	if got := aw.AwaitingRestart(); len(got) != len(restartBoundPlan) {
		t.Fatalf("awaiting restart: %v", got)
	}
	if err := eng.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	if o := eng.Result(restartBoundPlan[0].id).Outcome; o != steps.Staged {
		t.Fatalf("a re-read made it %s", o)
	}
	if err := eng.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := lab.nport().Restarts(); n != 1 {
		t.Fatalf("%d restarts, want 1", n)
	}
	for _, a := range restartBoundPlan {
		if r := eng.Result(a.id); r.Outcome != steps.Fixed || r.After == nil || !r.After.Compliant {
			t.Errorf("%s after the restart: %s %+v, want fixed by the fresh read", a.id, r.Outcome, r.After)
		}
	}
	eff = lab.nport().Effective()
	if eff.Policy.MinLength != 16 || !eff.Policy.Lockout || eff.LoginMessage != "Authorised access only." {
		t.Errorf("the device does not run the settings: %+v %q", eff.Policy, eff.LoginMessage)
	}
	if len(aw.AwaitingRestart()) != 0 {
		t.Errorf("still awaiting: %v", aw.AwaitingRestart())
	}
}

// trustLab pins the lab NPort's certificate.
func trustLab(t *testing.T, path string, lab *demoLab) {
	t.Helper()
	pins, err := transport.OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range lab.first("nport").AuditArgs {
		if strings.HasPrefix(a, "SHA256:") {
			hp := fmt.Sprintf("%s:%d", lab.first("nport").Address, lab.first("nport").Ports["https"])
			if err := pins.Trust(hp, a); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("the lab has no fingerprint")
}
