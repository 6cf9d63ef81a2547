package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// errNoReason stands for the record package's sentinel, which the
// command passes in Config.ErrNeedsReason.
var errNoReason = errors.New("the record has open steps: signing it needs a reason")

// finishCalls records the FinishInfo of every Finish call; fail decides
// the error of call n (from 0).
type finishCalls struct {
	mu   sync.Mutex
	got  []FinishInfo
	fail func(n int) error
}

func (fc *finishCalls) finish(_ context.Context, _ Session, fi FinishInfo) (FinishResult, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := len(fc.got)
	fc.got = append(fc.got, fi)
	if fc.fail != nil {
		if err := fc.fail(n); err != nil {
			return FinishResult{}, err
		}
	}
	return FinishResult{Dir: "/tmp/rec"}, nil
}

func (fc *finishCalls) all() []FinishInfo {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]FinishInfo(nil), fc.got...)
}

// A record whose steps are all closed asks for no reason: the read-back
// says it is commissioned, and shows the plant's acceptance.
func TestFinishAllClosedAsksNoReason(t *testing.T) {
	f := newFake()
	for _, r := range f.results {
		r.Outcome = steps.Compliant
	}
	fc := &finishCalls{}
	cfg := testConfig(f)
	cfg.Finish = fc.finish
	h := start(t, cfg, f)
	h.connect()
	h.press("f")
	h.waitFor("write the signed record")
	h.burst("{enter}Ada{enter}ada@vendor.example{enter}Acme{enter}Plant 3{enter}Eve Plant{enter}Shift lead{enter}")
	h.waitArmed("Sign the record as", "Accepted by Eve Plant, Shift lead", "Status      commissioned: all 6 steps closed",
		"Identity    ada@vendor.example", "NPort 5150A")
	if contains(h.screen(), "INCOMPLETE") || contains(h.screen(), "Reason") {
		t.Fatalf("a complete record's read-back mentions open steps:\n%s", h.screen())
	}
	h.press("y")
	h.waitFor("The record is written")
	got := fc.all()
	if len(got) != 1 || got[0].IncompleteReason != "" || got[0].AcceptedBy != "Eve Plant" || got[0].AcceptedRole != "Shift lead" {
		t.Fatalf("finish info = %+v", got)
	}
}

// Choosing "no" to signing with open steps does not sign: the form says
// what to do, and esc goes back to the summary.
func TestFinishOpenStepsNeedsDeliberateYes(t *testing.T) {
	f := newFake()
	fc := &finishCalls{}
	cfg := testConfig(f)
	cfg.Finish = fc.finish
	h := start(t, cfg, f)
	h.connect()
	h.press("f")
	h.waitFor("write the signed record")
	h.burst("{enter}Ada{enter}ada@vendor.example{enter}Acme{enter}Plant 3{enter}{enter}{enter}")
	h.waitFocus("5 of 6 steps are open: the record will say INCOMPLETE")
	h.key(tea.KeyEnter) // "no" is selected
	h.waitFor("close the open steps first")
	h.key(tea.KeyEscape)
	h.waitFor("write the signed record")
	if got := fc.all(); len(got) != 0 {
		t.Fatalf("signed without a yes: %+v", got)
	}
}

// When Finish refuses a record with open steps for want of a reason
// (Config.ErrNeedsReason), the wizard asks for the reason again, and the
// key's passphrase, instead of failing; the second signing carries them.
func TestFinishAsksReasonAgainOnSentinel(t *testing.T) {
	f := newFake()
	fc := &finishCalls{fail: func(n int) error {
		if n == 0 {
			return fmt.Errorf("write the record: %w (INCOMPLETE: 5 of 6 steps open)", errNoReason)
		}
		return nil
	}}
	cfg := testConfig(f)
	cfg.Finish = fc.finish
	cfg.ErrNeedsReason = errNoReason
	cfg.SigningKey = func() KeyStatus {
		return KeyStatus{Description: "/home/ada/.ssh/id_ed25519", Found: true, Encrypted: true}
	}
	h := start(t, cfg, f)
	h.connect()
	h.press("f")
	h.waitFor("Signing key: /home/ada/.ssh/id_ed25519")
	h.burst("{enter}Ada{enter}ada@vendor.example{enter}Acme{enter}Plant 3{enter}{enter}{enter}y{enter} {enter}")
	// The form refuses a blank reason itself.
	h.waitFor("enter the reason for signing with open steps")
	h.burst("x{enter}pass-1{enter}")
	h.waitArmed("Sign the record as", "Reason:     x")
	h.press("y")
	h.d.WaitForText("The record was not signed", "signing it needs a reason", "Give the reason.")
	h.waitFocus("5 of 6 steps are open")
	h.burst("y{enter}{backspace}the remaining steps need the vendor's firmware{enter}pass-2{enter}")
	h.waitArmed("Sign the record as", "the remaining steps need the vendor's firmware")
	h.press("y")
	h.waitFor("The record is written", "/tmp/rec")
	got := fc.all()
	if len(got) != 2 || got[0].IncompleteReason != "x" || got[1].IncompleteReason != "the remaining steps need the vendor's firmware" ||
		got[1].Passphrase != "pass-2" || got[1].Technician != "Ada" {
		t.Fatalf("finish calls = %+v", got)
	}
}

// Without the sentinel configured, the same error is a failure.
func TestFinishErrorWithoutSentinelFails(t *testing.T) {
	f := newFake()
	fc := &finishCalls{fail: func(int) error { return fmt.Errorf("write the record: %w", errNoReason) }}
	cfg := testConfig(f)
	cfg.Finish = fc.finish
	h := start(t, cfg, f)
	h.connect()
	h.press("f")
	h.waitFor("write the signed record")
	h.burst("{enter}Ada{enter}ada@vendor.example{enter}Acme{enter}Plant 3{enter}{enter}{enter}y{enter}why{enter}")
	h.waitArmed("Sign the record as")
	h.press("y")
	h.waitFor("The record was not written", "write the signed record")
}

func TestValidExpiry(t *testing.T) {
	now := mustDate(t, "2026-12-02")
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"2026-12-02", true}, {"2026-12-03", true}, {"2099-01-31", true},
		{"2026-12-01", false}, {"2020-01-31", false}, {"2026-13-01", false}, {"02.12.2027", false}, {"", false},
	} {
		if err := validExpiry(tt.in, now); (err == nil) != tt.ok {
			t.Errorf("validExpiry(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Add(15 * time.Hour)
}

// The read-back of an incomplete record with long answers fits 80x24 and
// keeps its keys on screen.
func TestReadBackFits80x24(t *testing.T) {
	f := newFake()
	m := connected(t, f)
	m.sh.cfg.Finish = (&finishCalls{}).finish
	m.sh.cfg.SigningKey = nil
	m, _ = upd(t, m, runeKey('f'))
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	long := strings.Repeat("a long reason for the open steps ", 20)
	m.sum.formDone(&m.sh, map[string]string{"technician": "Ada", "email": "a@b.example", "company": strings.Repeat("Company ", 20),
		"site": "S", "acceptedby": "Eve", "acceptedrole": "Shift lead", "signopen": signOpenYes, "reason": long})
	m = armNow(t, m)
	checkFits(t, "read-back", m)
	got := plain(m)
	for _, w := range []string{"Sign the record as", "Accepted by Eve, Shift lead", "INCOMPLETE: 5 of 6 steps open", "Reason:", "Device:", "y sign and write the record"} {
		if !strings.Contains(got, w) {
			t.Errorf("read-back lacks %q:\n%s", w, got)
		}
	}
}

// The finish form, with the acceptance, the yes to sign with open steps,
// the reason and the key's passphrase, fits 80x24 on every field.
func TestFinishFormFits80x24(t *testing.T) {
	f := newFake()
	m := connected(t, f)
	m.sh.cfg.Finish = (&finishCalls{}).finish
	m.sum.keyStat, m.sum.keyKnown = &KeyStatus{Description: "/home/ada/.ssh/id_ed25519", Found: true, Encrypted: true}, true
	m, _ = upd(t, m, runeKey('f'))
	m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	for _, v := range []string{"Ada", "ada@vendor.example", "Acme", "Plant 3", "Eve", "Shift lead", "y", "why", "pass"} {
		for _, r := range v {
			m, _ = upd(t, m, runeKey(r))
		}
		checkFits(t, "finish form", m)
		if got := plain(m); !strings.Contains(got, "esc cancel") {
			t.Fatalf("the form's help is cut off:\n%s", got)
		}
		m, _ = upd(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	}
	if m.sum.mode != sumConfirm || m.sum.info.IncompleteReason != "why" || m.sum.info.AcceptedBy != "Eve" || m.sum.info.Passphrase != "pass" {
		t.Fatalf("mode %d, info %+v", m.sum.mode, m.sum.info)
	}
}
