package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/tui/tuitest"
)

// harness runs the wizard on the shared driver (tuitest) at 80x24.
type harness struct {
	t    *testing.T
	d    *tuitest.Driver
	tm   *teatest.TestModel
	fake *fakeSession
}

func (h *harness) raw() string    { return h.d.Raw() }
func (h *harness) screen() string { return h.d.Screen() }

// waitFor waits until the screen shows every one of want.
func (h *harness) waitFor(want ...string) { h.t.Helper(); h.d.WaitFor(want...) }

// waitArmed waits until a yes/no screen showing want accepts keys.
func (h *harness) waitArmed(want ...string) { h.t.Helper(); h.d.WaitArmed(want...) }

// waitFocus waits until the form field titled title has the focus.
func (h *harness) waitFocus(title string) { h.t.Helper(); h.d.WaitFocus(title) }

// waitGone waits until the screen no longer shows s.
func (h *harness) waitGone(s string) { h.t.Helper(); h.d.WaitGone(s) }

func (h *harness) key(code rune)  { h.d.Key(code) }
func (h *harness) press(s string) { h.d.Press(s) }
func (h *harness) typ(s string)   { h.tm.Type(s) }

// burst sends a whole script at once (tuitest.Keys).
func (h *harness) burst(script string) { h.d.Burst(tuitest.Keys(script)...) }

// final waits for the program to end and returns the wizard.
func (h *harness) final() Model {
	h.t.Helper()
	return h.d.Final(5 * time.Second).(Model)
}

func testConfig(f *fakeSession) Config {
	return Config{
		Families: []string{"nport"},
		Connect: func(_ context.Context, _ Target, rep steps.Reporter) (Session, error) {
			f.rep = rep
			return f, nil
		},
		Version: "test",
	}
}

func start(t *testing.T, cfg Config, f *fakeSession) *harness {
	t.Helper()
	m := New(cfg)
	d := tuitest.Start(t, m)
	h := &harness{t: t, d: d, tm: d.TM, fake: f}
	t.Cleanup(func() {
		if f != nil && f.gate != nil {
			select {
			case <-f.gate:
			default:
				close(f.gate)
			}
		}
		_ = h.tm.Quit()
		h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		m.Close()
	})
	return h
}

// connect walks welcome → typed address → credentials → overview.
func (h *harness) connect() {
	h.t.Helper()
	h.waitFor("commission", "enter start")
	h.key(tea.KeyEnter)
	h.waitFor("Type an address")
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Log in to 127.0.0.1", "Password")
	h.key(tea.KeyEnter) // user is prefilled
	h.waitFocus("Password")
	h.typ("moxa-secret")
	h.waitFor(strings.Repeat("*", len("moxa-secret")))
	if strings.Contains(h.screen(), "moxa-secret") {
		h.t.Fatal("the password is echoed")
	}
	h.key(tea.KeyEnter)
	h.waitFor("decided")
}

// openStep moves the overview cursor down n rows and opens that step.
func (h *harness) openStep(n int, title string) {
	h.t.Helper()
	for range n {
		h.key(tea.KeyDown)
	}
	h.waitFor("> ")
	h.key(tea.KeyEnter)
	h.waitFor(title, "esc back")
}

func TestOverviewListsStepsWithBadges(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.waitFor("NPort 5150A", "line-3", "1/6 decided",
		"Accounts and passwords", "Services and ports", "Access allow list",
		"TLS and certificates", "Logging and monitoring", "Firmware",
		"! deviation", "✓ compliant", "? manual",
		"2.1 Change the admin password", "7.1 Install the latest firmware")
	if s := h.screen(); strings.Contains(s, "moxa-secret") {
		t.Fatal("the password reached the screen")
	}
}

func TestFixStepPreviewApplyStaged(t *testing.T) {
	f := newFake()
	f.gate = make(chan struct{})
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(1, "Disable the Telnet console")
	h.waitFor("Observed: observed for nport.3.1.telnet", "Caution", "x fix")
	h.press("x")
	h.waitFor("Telnet console", "disabled", "enabled")
	h.key(tea.KeyEnter) // select "disabled", the last field: submit
	h.waitArmed("This will change on the device", "Setting", "Now", "After")
	if !regexp.MustCompile(`Telnet console +enabled +disabled`).MatchString(h.screen()) {
		t.Fatalf("the preview is not a setting / now / after table:\n%s", h.screen())
	}
	if got := f.called("apply"); len(got) != 0 {
		t.Fatalf("apply before confirmation: %v", got)
	}
	h.press("y")
	// Apply is blocked on the gate: the UI must still draw its spinner.
	select {
	case <-f.applyStarted:
	case <-time.After(5 * time.Second):
		t.Fatal("Apply was never called")
	}
	h.waitFor("Applying the change")
	close(f.gate)
	// Applied: the wizard goes on to the next undecided step.
	h.waitFor("Change sent for 3.1 Disable the Telnet console", "4.1 Restrict access with the allow list")
	if f.outcome("nport.3.1.telnet") != steps.Staged {
		t.Fatal("the step is not staged")
	}
	if got := f.called("plan nport.3.1.telnet"); len(got) != 1 || !strings.Contains(got[0], "telnet=disabled") {
		t.Fatalf("plan calls = %v", got)
	}
	h.key(tea.KeyEscape)
	h.waitFor("1 change waiting for restart")
}

func TestRefusalShowsAndAllowsEdit(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(2, "Restrict access with the allow list")
	h.press("x")
	h.waitFor("Allowed network", "192.168.1.0/24") // default from the session
	h.key(tea.KeyEnter)
	h.waitFor("Refused, nothing was sent", "your own address 127.0.0.1 would no longer", "e edit inputs")
	if got := f.called("apply"); len(got) != 0 {
		t.Fatalf("apply after a refusal: %v", got)
	}
	h.press("e")
	h.waitFor("Allowed network")
	h.typ(",127.0.0.1/32")
	h.key(tea.KeyEnter)
	h.waitFor("This will change on the device", "192.168.1.0/24,127.0.0.1/32")
}

func TestWaiveRequiresReason(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(4, "Send events to syslog")
	h.press("w")
	h.waitFor("Why do you waive this step?")
	h.key(tea.KeyEnter)
	h.waitFor("a reason is required")
	if f.outcome("nport.6.1.syslog") != steps.Deviation {
		t.Fatal("waived without a reason")
	}
	h.typ("no syslog server on this site")
	h.key(tea.KeyEnter)
	h.waitFocus("Approved by (name and role)")
	h.key(tea.KeyEnter)
	h.waitFor("enter the approver's name and role")
	h.typ("J. Smith, OT security")
	h.key(tea.KeyEnter)
	h.waitFocus("Waiver holds until (YYYY-MM-DD)")
	h.typ("30.06.2099")
	h.key(tea.KeyEnter)
	h.waitFor("write the date as YYYY-MM-DD")
	for range len("30.06.2099") {
		h.key(tea.KeyBackspace)
	}
	h.typ("2020-01-31")
	h.key(tea.KeyEnter)
	h.waitFor("the date has passed")
	if got := f.called("waived"); len(got) != 0 {
		t.Fatalf("waived with a past expiry: %v", got)
	}
	for range len("2020-01-31") {
		h.key(tea.KeyBackspace)
	}
	h.typ("2099-06-30")
	h.key(tea.KeyEnter)
	h.waitFor("~ waived", "Recorded as waived", "no syslog server on this site",
		"Approved by J. Smith, OT security, until 2099-06-30")
	if got := f.called("waived nport.6.1.syslog no syslog"); len(got) != 1 {
		t.Fatalf("waive calls = %v", f.called("waived"))
	}
}

func TestAttestManualStep(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(5, "Install the latest firmware")
	h.press("a")
	h.waitFor("Firmware file", "Note (optional)")
	h.typ("/tmp/fw.rom")
	h.key(tea.KeyEnter)
	h.waitFocus("Note (optional)")
	h.typ("from moxa.com")
	h.key(tea.KeyEnter)
	h.waitFor("✓ attested", "Attested.")
	if got := f.called("attest"); len(got) != 1 || got[0] != "attest nport.7.1.firmware file=/tmp/fw.rom note=from moxa.com" {
		t.Fatalf("attest calls = %v", got)
	}
}

func TestRestartAndVerifyShowsProgressThenFixed(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(1, "Disable the Telnet console")
	h.press("x")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change on the device")
	h.press("y")
	h.waitFor("Change sent")
	h.key(tea.KeyEscape)
	h.waitFor("1 change waiting for restart")
	h.press("r")
	h.waitArmed("Restart the device now?", "1 staged change takes effect")
	if got := f.called("commit"); len(got) != 0 {
		t.Fatal("r alone restarted the device")
	}
	h.press("y")
	h.waitFor("Restart and verify", "Saving settings and restarting", "Device answers again after 3 s",
		"Verified against a fresh read", "✓ fixed", "3.1 Disable the Telnet console")
	if got := f.called("commit"); len(got) != 1 {
		t.Fatalf("commit calls = %v", got)
	}
	h.key(tea.KeyEnter)
	h.waitFor("2/6 decided")
}

// fpErr is a connect error carrying an unknown fingerprint.
type fpErr struct{ host, fp string }

func (e fpErr) Error() string                             { return "unknown certificate" }
func (e fpErr) UnknownFingerprint() (hostport, fp string) { return e.host, e.fp }

// fpDetailErr is an unknown fingerprint that also describes its certificate.
type fpDetailErr struct{ fpErr }

func (fpDetailErr) CertificateLines() []string {
	return []string{"SHA-256:    12:34:56:78", "OpenSSH:    SHA256:EjRWeA", "Valid:      2020-01-01 to 2021-01-01",
		"Signature:  SHA1-RSA", "Key:        RSA 1024 bits", "Warning:    expired on 2021-01-01\x1b[2J"}
}

// The trust screen shows the certificate's expiry, signature, key and both
// fingerprint forms, and its warnings, with device text made printable.
func TestTrustScreenShowsCertificateDetails(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	cfg.Connect = func(context.Context, Target, steps.Reporter) (Session, error) {
		return nil, fmt.Errorf("connect: %w", fpDetailErr{fpErr{"127.0.0.1:443", "12:34:56:78"}})
	}
	h := start(t, cfg, f)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Password")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitArmed("Confirm the device's certificate", "OpenSSH:    SHA256:EjRWeA", "2020-01-01 to 2021-01-01",
		"SHA1-RSA", "RSA 1024 bits", "expired on 2021-01-01", "they match")
}

// fpChanged is a connect error for a changed certificate.
type fpChanged struct{}

func (fpChanged) Error() string { return "certificate changed" }
func (fpChanged) TrustChanged() (subject, pinned, seen string) {
	return "127.0.0.1:443", "AA:BB:CC", "DD:EE:FF"
}

// The contract the transport and sshconn errors satisfy.
var _ TrustChangedError = fpChanged{}

func TestUnknownFingerprintAsksAndTrusts(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var mu sync.Mutex
	var trusted []string
	pinned := false
	cfg.Connect = func(_ context.Context, _ Target, rep steps.Reporter) (Session, error) {
		mu.Lock()
		defer mu.Unlock()
		if !pinned {
			return nil, fmt.Errorf("connect: %w", fpErr{"127.0.0.1:443", "12:34:56:78"})
		}
		f.rep = rep
		return f, nil
	}
	cfg.Trust = func(host, fp string) error {
		mu.Lock()
		defer mu.Unlock()
		trusted = append(trusted, host+" "+fp)
		pinned = true
		return nil
	}
	h := start(t, cfg, f)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Password")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitArmed("Confirm the device's certificate", "12:34:56:78", "they match")
	h.press("y")
	h.waitFor("decided")
	mu.Lock()
	defer mu.Unlock()
	if len(trusted) != 1 || trusted[0] != "127.0.0.1:443 12:34:56:78" {
		t.Fatalf("trusted = %v", trusted)
	}
}

func TestUnknownFingerprintNoGoesBack(t *testing.T) {
	cfg := testConfig(nil)
	trustCalls := 0
	cfg.Connect = func(context.Context, Target, steps.Reporter) (Session, error) {
		return nil, fpErr{"127.0.0.1:443", "12:34"}
	}
	cfg.Trust = func(string, string) error { trustCalls++; return nil }
	h := start(t, cfg, nil)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Password")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitArmed("12:34")
	h.press("n")
	h.waitFor("Log in to 127.0.0.1")
	if trustCalls != 0 {
		t.Fatal("Trust called after no")
	}
}

func TestChangedFingerprintStops(t *testing.T) {
	cfg := testConfig(nil)
	cfg.Connect = func(context.Context, Target, steps.Reporter) (Session, error) {
		return nil, fmt.Errorf("connect: %w", fpChanged{})
	}
	h := start(t, cfg, nil)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Password")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("STOP", "certificate or host key has changed", "AA:BB:CC", "DD:EE:FF", "The session stops", "cannot")
	if strings.Contains(h.screen(), "Password") {
		t.Fatal("the STOP screen offers the login form")
	}
	h.key(tea.KeyEscape) // no way back to the login: esc ends the session
	fm := h.final()
	if s := fm.Summary(); !s.Stopped || s.Connected {
		t.Fatalf("summary = %+v", s)
	}
	err := fm.stopErr()
	var se *StoppedError
	if !errors.Is(err, ErrTrustChanged) || !errors.As(err, &se) || se.Seen != "DD:EE:FF" || !errors.As(err, new(fpChanged)) {
		t.Fatalf("stop error = %#v", err)
	}
}

func TestConnectErrorLetsEdit(t *testing.T) {
	cfg := testConfig(nil)
	cfg.Connect = func(context.Context, Target, steps.Reporter) (Session, error) {
		return nil, errors.New("login failed: wrong user or password")
	}
	h := start(t, cfg, nil)
	h.waitFor("enter start")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Password")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEnter)
	h.waitFor("login failed: wrong user or password", "User", "Password")
	h.key(tea.KeyEscape)
	h.waitFor("Type the device's address")
}

var colourCode = regexp.MustCompile(`\x1b\[[0-9;]*3[0-9][;m]|\x1b\[[0-9;]*38;`)

func TestNoColor(t *testing.T) {
	for _, noColor := range []bool{true, false} {
		f := newFake()
		cfg := testConfig(f)
		cfg.NoColor = noColor
		h := start(t, cfg, f)
		h.connect()
		h.waitFor("! deviation")
		has := colourCode.MatchString(h.raw())
		if noColor && has {
			t.Fatalf("NO_COLOR frame has colour codes: %q", h.raw())
		}
		if !noColor && !has {
			t.Fatal("coloured frame has no colour codes; the check cannot fail")
		}
		if noColor {
			_ = h.tm.Quit()
			out, err := io.ReadAll(h.tm.FinalOutput(t, teatest.WithFinalTimeout(5*time.Second)))
			if err != nil {
				t.Fatal(err)
			}
			if colourCode.Match(out) {
				t.Fatal("NO_COLOR output has colour codes")
			}
		}
	}
}

func TestFinishWritesRecord(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var got FinishInfo
	cfg.Finish = func(_ context.Context, s Session, fi FinishInfo) (FinishResult, error) {
		got = fi
		return FinishResult{Dir: "/tmp/record-1", VerifyCommand: "commission verify /tmp/record-1"}, nil
	}
	h := start(t, cfg, f)
	h.connect()
	h.openStep(4, "Send events to syslog")
	h.press("w")
	h.typ("no server")
	h.key(tea.KeyEnter)
	h.waitFocus("Approved by")
	h.typ("J. Smith, OT security")
	h.key(tea.KeyEnter)
	h.waitFocus("Waiver holds until")
	h.typ("2099-06-30")
	h.key(tea.KeyEnter)
	h.waitFor("~ waived")
	h.key(tea.KeyEscape)
	h.press("f")
	h.waitFor("Summary", "~ waived 1", "! deviation 3", "Waived", "no server",
		"Approved by J. Smith, OT security, until 2099-06-30", "write the signed record")
	h.key(tea.KeyEnter)
	h.waitFor("Technician")
	h.typ("Ada")
	h.key(tea.KeyEnter)
	h.waitFocus("E-mail")
	h.typ("not-an-address")
	h.key(tea.KeyEnter)
	h.waitFor("enter an e-mail address")
	for range len("not-an-address") {
		h.key(tea.KeyBackspace)
	}
	h.typ("ada@vendor.example")
	h.key(tea.KeyEnter)
	h.waitFocus("Company")
	h.typ("Acme")
	h.key(tea.KeyEnter)
	h.waitFocus("Site")
	h.typ("Plant 3")
	h.key(tea.KeyEnter)
	h.waitFocus("Accepted for the plant by")
	h.key(tea.KeyEnter) // optional: left empty
	h.waitFocus("Their role")
	h.key(tea.KeyEnter)
	h.waitFocus("4 of 6 steps are open")
	h.press("y") // picks "yes, sign it as incomplete"
	h.key(tea.KeyEnter)
	h.waitFocus("Why is the record signed with open steps?")
	h.typ("the syslog server is not installed yet")
	h.key(tea.KeyEnter)
	h.waitArmed("Sign the record as", "ada@vendor.example", "Acme", "Plant 3", "Ada",
		"Accepted by not given", "INCOMPLETE: 4 of 6 steps open", "the syslog server is not installed yet")
	h.press("y")
	h.waitFor("The record is written", "/tmp/record-1", "commission verify /tmp/record-1")
	h.press("q")
	fm := h.final()
	s := fm.Summary()
	if !s.Finished || s.Counts[steps.Waived] != 1 || s.Total != 6 || s.Dir != "/tmp/record-1" {
		t.Fatalf("summary = %+v", s)
	}
	want := FinishInfo{Technician: "Ada", Email: "ada@vendor.example", Company: "Acme", Site: "Plant 3",
		IncompleteReason: "the syslog server is not installed yet",
		Waivers:          map[string]WaiverInfo{"nport.6.1.syslog": {Approver: "J. Smith, OT security", Expires: "2099-06-30"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("finish info = %+v, want %+v", got, want)
	}
}

func TestQuitConfirmsWhenStaged(t *testing.T) {
	f := newFake()
	h := start(t, testConfig(f), f)
	h.connect()
	h.openStep(1, "Disable the Telnet console")
	h.press("x")
	h.waitFor("Telnet console")
	h.key(tea.KeyEnter)
	h.waitArmed("This will change")
	h.press("y")
	h.waitFor("Change sent")
	h.key(tea.KeyEscape)
	h.press("q")
	h.waitFor("1 change is sent but not verified")
	h.waitFor("Quit anyway? y/n")
	h.press("n")
	h.waitGone("Quit anyway")
	h.waitFor("1 change waiting for restart")
}

func TestRunQuits(t *testing.T) {
	pr, pw := io.Pipe()
	var out bytes.Buffer
	done := make(chan struct{})
	var sum Summary
	var err error
	go func() {
		defer close(done)
		sum, err = Run(context.Background(), Config{Version: "v9", NoColor: true}, pr, &out)
	}()
	// The key may come before the first frame: the welcome screen takes it.
	_, _ = pw.Write([]byte("q"))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end on q")
	}
	_ = pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Connected || sum.Finished {
		t.Fatalf("summary = %+v", sum)
	}
	if !strings.Contains(out.String(), "commission") {
		t.Fatalf("output = %q", out.String())
	}
}

type mustChange struct{}

func (mustChange) Error() string                { return "the gateway requires a new password for this account" }
func (mustChange) PasswordChangeRequired() bool { return true }

func TestFirstLoginAsksForNewPassword(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var targets []Target
	cfg := testConfig(f)
	cfg.Connect = func(_ context.Context, tg Target, rep steps.Reporter) (Session, error) {
		mu.Lock()
		targets = append(targets, tg)
		mu.Unlock()
		if tg.NewPassword == "" {
			return nil, mustChange{}
		}
		f.rep = rep
		return f, nil
	}
	h := start(t, cfg, f)
	h.waitFor("commission", "enter start")
	h.key(tea.KeyEnter)
	h.waitFor("Type an address")
	h.key(tea.KeyEnter)
	h.waitFor("Address")
	h.typ("127.0.0.1")
	h.key(tea.KeyEnter)
	h.waitFor("Password")
	h.key(tea.KeyEnter)
	h.waitFocus("Password")
	h.typ("factory")
	h.key(tea.KeyEnter)
	h.waitFor("requires a new password", "New password")
	h.key(tea.KeyEnter)
	h.waitFocus("Password")
	h.typ("factory")
	h.key(tea.KeyEnter)
	h.waitFocus("New password")
	h.typ("N3w-Gateway-Pass!")
	h.key(tea.KeyEnter)
	h.waitFocus("Confirm new password")
	h.typ("N3w-Gateway-Pass?")
	h.key(tea.KeyEnter)
	h.waitFor("the two new passwords differ")
	for range len("N3w-Gateway-Pass?") {
		h.key(tea.KeyBackspace)
	}
	h.typ("N3w-Gateway-Pass!")
	h.key(tea.KeyEnter)
	h.waitFor("decided")
	mu.Lock()
	defer mu.Unlock()
	if len(targets) != 2 || targets[1].NewPassword != "N3w-Gateway-Pass!" || targets[1].Password != "factory" {
		t.Fatalf("connect targets: %d %+v", len(targets), targets)
	}
	if strings.Contains(h.screen(), "N3w-Gateway") {
		t.Fatal("the new password is echoed")
	}
}

func TestSigningKeyLookupDoesNotBlockTheUI(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	release := make(chan struct{})
	cfg.Finish = func(context.Context, Session, FinishInfo) (FinishResult, error) {
		return FinishResult{Dir: "/tmp/r"}, nil
	}
	cfg.SigningKey = func() KeyStatus {
		<-release // a slow ssh-agent
		return KeyStatus{Found: false, CreatePath: "/home/ada/.ssh/id_ed25519"}
	}
	h := start(t, cfg, f)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	h.connect()
	h.press("f")
	h.waitFor("Summary")
	h.key(tea.KeyEnter)
	// The lookup is blocked, yet the form is there and takes the answers.
	h.waitFocus("Technician")
	h.typ("Ada")
	h.key(tea.KeyEnter)
	h.waitFocus("E-mail")
	h.typ("ada@vendor.example")
	h.key(tea.KeyEnter)
	h.waitFocus("Company")
	h.typ("Acme")
	h.key(tea.KeyEnter)
	h.waitFocus("Site")
	h.typ("Plant 3")
	h.burst("{enter}{enter}{enter}y{enter}not finished{enter}")
	h.waitFor("Looking for your signing key")
	close(release)
	h.waitFor("No SSH key found", "/home/ada/.ssh/id_ed25519")
}
