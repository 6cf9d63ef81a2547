package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// testState is a tiny state type for the compile-time check below.
type testState struct{}

// The engine's session must satisfy the wizard's interface.
var _ Session = (*steps.Session[testState])(nil)

// fakeSession is a Session that records calls. Apply blocks on gate when
// gate is set, so tests can prove the UI does not wait on it.
type fakeSession struct {
	mu      sync.Mutex
	metas   []steps.Meta
	results map[string]*steps.Result
	calls   []string
	rep     steps.Reporter
	planned map[string][]steps.Change
	planIn  map[string]steps.Values // the inputs of each step's last plan

	gate         chan struct{} // Apply waits for it when set
	applyStarted chan struct{} // closed when Apply was called
	startOnce    sync.Once
	progress     []string // DeviceProgress messages Commit reports
	attestNote   string
	family       string // "nport" when empty
	// changes, when set for a step, is the preview its Plan returns.
	changes map[string][]steps.Change
}

func newFake() *fakeSession {
	minLen := func(s string) error {
		if len(s) < 8 {
			return errors.New("use at least 8 characters")
		}
		return nil
	}
	metas := []steps.Meta{
		{ID: "nport.2.1.password", Section: "2.1", Group: "accounts", Title: "Change the admin password",
			Why: "A default password is public.", SRs: []string{"SR 1.5"}, Kind: steps.Automatic,
			Inputs: []steps.Input{{Key: "password", Label: "New password", Secret: true, Validate: minLen}}},
		{ID: "nport.3.1.telnet", Section: "3.1", Group: "services", Title: "Disable the Telnet console",
			Why: "Telnet sends passwords in clear text.", SRs: []string{"SR 7.7", "SR 4.1"}, Kind: steps.Automatic,
			Inputs:  []steps.Input{{Key: "telnet", Label: "Telnet console", Options: []string{"disabled", "enabled"}}},
			Caution: "Scripts that use Telnet stop working."},
		{ID: "nport.4.1.allowlist", Section: "4.1", Group: "allowlist", Title: "Restrict access with the allow list",
			Why: "Only the control network should reach the device.", Kind: steps.Automatic,
			Inputs: []steps.Input{{Key: "allow", Label: "Allowed network"}}},
		{ID: "nport.5.1.tls", Section: "5.1", Group: "tls", Title: "Use TLS 1.2 or later", Kind: steps.Automatic},
		{ID: "nport.6.1.syslog", Section: "6.1", Group: "logging", Title: "Send events to syslog", Kind: steps.Automatic},
		{ID: "nport.7.1.firmware", Section: "7.1", Group: "firmware", Title: "Install the latest firmware",
			Kind: steps.Manual, Attest: "The firmware file came from the vendor's site.",
			Inputs: []steps.Input{{Key: "file", Label: "Firmware file"}}},
	}
	f := &fakeSession{metas: metas, results: map[string]*steps.Result{}, planned: map[string][]steps.Change{},
		applyStarted: make(chan struct{}),
		progress:     []string{"Saving settings and restarting", "Device answers again after 3 s"}}
	outcomes := []steps.Outcome{steps.Deviation, steps.Deviation, steps.Deviation, steps.Compliant, steps.Deviation, steps.ManualPending}
	for i, m := range metas {
		f.results[m.ID] = &steps.Result{Meta: m, StepID: m.ID, Outcome: outcomes[i],
			Before: &steps.Finding{Applicable: true, Compliant: outcomes[i] == steps.Compliant,
				Observed: "observed for " + m.ID + "\x1b[31m", Expected: "expected for " + m.ID}}
	}
	return f
}

func (f *fakeSession) record(format string, args ...any) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// called reports the calls whose text starts with prefix.
func (f *fakeSession) called(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSession) outcome(id string) steps.Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.results[id].Outcome
}

func (f *fakeSession) Family() string {
	if f.family != "" {
		return f.family
	}
	return "nport"
}
func (f *fakeSession) Guide() string       { return "Moxa NPort 5000 hardening guide v2.0" }
func (f *fakeSession) Steps() []steps.Meta { return append([]steps.Meta(nil), f.metas...) }
func (f *fakeSession) Identity() devices.Identity {
	return devices.Identity{Family: "nport", Model: "NPort 5150A", Firmware: "1.6", Address: "127.0.0.1", Name: "line-3"}
}

func (f *fakeSession) Result(id string) steps.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.results[id]; ok {
		return *r
	}
	return steps.Result{StepID: id, Outcome: steps.Error}
}

func (f *fakeSession) Results() []steps.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []steps.Result
	for _, m := range f.metas {
		out = append(out, *f.results[m.ID])
	}
	return out
}

func (f *fakeSession) Defaults(id string) steps.Values {
	f.record("defaults %s", id)
	if id == "nport.4.1.allowlist" {
		return steps.Values{"allow": "192.168.1.0/24"}
	}
	return steps.Values{}
}

func (f *fakeSession) meta(id string) steps.Meta {
	for _, m := range f.metas {
		if m.ID == id {
			return m
		}
	}
	return steps.Meta{}
}

func (f *fakeSession) Validate(id string, in steps.Values) error {
	for _, inp := range f.meta(id).Inputs {
		if inp.Validate != nil {
			if err := inp.Validate(in[inp.Key]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fakeSession) Plan(id string, in steps.Values) ([]steps.Change, error) {
	keys := make([]string, 0, len(in))
	for k, v := range in {
		if k == "password" {
			v = "***"
		}
		keys = append(keys, k+"="+v)
	}
	f.record("plan %s %s", id, strings.Join(keys, ","))
	f.mu.Lock()
	if f.planIn == nil {
		f.planIn = map[string]steps.Values{}
	}
	f.planIn[id] = in
	f.mu.Unlock()
	if err := f.Validate(id, in); err != nil {
		return nil, err
	}
	var cs []steps.Change
	switch id {
	case f.overridden(id):
		cs = f.changes[id]
	case "nport.4.1.allowlist":
		if !strings.Contains(in["allow"], "127.0.0.1") {
			return nil, &steps.RefusedError{Err: errors.New("your own address 127.0.0.1 would no longer be allowed")}
		}
		cs = []steps.Change{{Setting: "Accessible IP list", From: "off", To: in["allow"]}}
	case "nport.2.1.password":
		cs = []steps.Change{{Setting: "Admin password", From: "(default)", To: "(new, hidden)"}}
	default:
		cs = []steps.Change{{Setting: "Telnet console", From: "enabled", To: in["telnet"]}}
	}
	f.mu.Lock()
	f.planned[id] = cs
	f.mu.Unlock()
	return cs, nil
}

func (f *fakeSession) Apply(ctx context.Context, id string) error {
	f.record("apply %s", id)
	f.startOnce.Do(func() { close(f.applyStarted) })
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.planned[id]; !ok {
		return fmt.Errorf("step %s has no plan to apply", id)
	}
	r := f.results[id]
	r.Outcome, r.Changes = steps.Staged, f.planned[id]
	delete(f.planned, id)
	return nil
}

func (f *fakeSession) Cancel(id string) error {
	f.record("cancel %s", id)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.planned, id)
	return nil
}

func (f *fakeSession) AwaitingRestart() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.metas {
		if f.results[m.ID].Outcome == steps.Staged {
			out = append(out, m.ID)
		}
	}
	return out
}

func (f *fakeSession) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.results {
		if r.Outcome == steps.Staged {
			n++
		}
	}
	return n
}

func (f *fakeSession) Commit(ctx context.Context) error {
	f.record("commit")
	for _, p := range f.progress {
		f.rep.Report(steps.Event{Time: time.Now(), Kind: steps.DeviceProgress, Message: p})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.results {
		if r.Outcome == steps.Staged {
			r.Outcome = steps.Fixed
		}
	}
	return ctx.Err()
}

func (f *fakeSession) Recheck(context.Context) error { f.record("recheck"); return nil }

func (f *fakeSession) decide(id string, o steps.Outcome, reason string) error {
	f.record("%s %s %s", o, id, reason)
	if strings.TrimSpace(reason) == "" {
		return errors.New("a reason is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results[id].Outcome, f.results[id].Reason = o, reason
	return nil
}

func (f *fakeSession) Waive(id, reason string) error { return f.decide(id, steps.Waived, reason) }
func (f *fakeSession) NotApplicable(id, reason string) error {
	return f.decide(id, steps.NotApplicable, reason)
}

func (f *fakeSession) Attest(_ context.Context, id string, in steps.Values, note string) error {
	f.record("attest %s file=%s note=%s", id, in["file"], note)
	f.mu.Lock()
	f.attestNote = note
	f.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results[id].Outcome = steps.Attested
	return nil
}

// overridden returns id when the test set the step's preview, "" otherwise.
func (f *fakeSession) overridden(id string) string {
	if _, ok := f.changes[id]; ok {
		return id
	}
	return "\x00"
}

// planned1 is the inputs of step id's last plan.
func (f *fakeSession) planned1(id string) steps.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.planIn[id]
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
