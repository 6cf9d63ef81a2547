package tui

import (
	"context"
	"reflect"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/tui/tuitest"
)

// The tests below type at full speed: every key of a form, and the
// Enters between its fields, go out in one burst without waiting for a
// frame. Each value must land in the field it was typed for (issue 10:
// an e-mail became "...example.comO" and the site lost its first letter
// when huh moved the focus in a command).

func TestTypeaheadAddressAndLoginForms(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var targets []Target
	cfg := testConfig(f)
	cfg.Families = []string{"nport", "thingspro", "kepware"}
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
	h.waitFor("enter start")
	// Welcome, device list, address form (family, address), login form
	// (user replaced, password): one burst.
	h.burst("{enter}{enter}{down}{enter}127.0.0.1:8443{enter}" +
		"{backspace}{backspace}{backspace}{backspace}{backspace}tech1{enter}Factory-Pa55{enter}")
	h.waitFor("requires a new password", "Confirm new password")
	h.waitFocus("User")
	// The first-login form: user kept, password, new password twice.
	h.burst("{enter}Factory-Pa55{enter}N3w-Gw-Pass!{enter}N3w-Gw-Pass!{enter}")
	h.waitFor("decided")
	mu.Lock()
	defer mu.Unlock()
	want := Target{Family: "thingspro", Address: "127.0.0.1:8443", User: "tech1", Password: "Factory-Pa55"}
	if len(targets) != 2 || targets[0] != want {
		t.Fatalf("first login = %+v, want %+v", targets, want)
	}
	want.NewPassword = "N3w-Gw-Pass!"
	if targets[1] != want {
		t.Fatalf("second login = %+v, want %+v", targets[1], want)
	}
}

func TestTypeaheadStepInputsReasonAndAttestForms(t *testing.T) {
	f := newFake()
	f.metas[0].Inputs = append(f.metas[0].Inputs,
		steps.Input{Key: "confirm", Label: "Confirm password", Secret: true},
		steps.Input{Key: "mode", Label: "Policy", Options: []string{"relaxed", "normal", "strict"}},
		steps.Input{Key: "remark", Label: "Remark"})
	h := start(t, testConfig(f), f)
	h.connect()

	// A step's inputs: two secrets, a choice and a line, then a stray y
	// that must not apply the change (the preview is not armed yet).
	h.burst("{enter}xPa55-word-1{enter}Pa55-word-2{enter}{down}{down}{enter}" + "kept as typed{enter}y")
	h.waitArmed("This will change on the device")
	in := f.planned1("nport.2.1.password")
	if in["password"] != "Pa55-word-1" || in["confirm"] != "Pa55-word-2" || in["mode"] != "strict" || in["remark"] != "kept as typed" {
		t.Fatalf("plan inputs = %v", in)
	}
	if got := f.called("apply"); len(got) != 0 {
		t.Fatalf("a key typed before the preview appeared applied it: %v", got)
	}
	h.key(tea.KeyEscape)
	h.waitFor("Cancelled; nothing was sent.")

	// A waiver's reason (multi-line field), typed and ended at once,
	// then straight on with the next step's attestation.
	h.burst("{esc}{home}{down}{down}{down}{down}{enter}wno syslog server{enter}J. Smith, OT security{enter}2099-01-31{enter}")
	h.waitFor("Recorded as waived")
	if got := f.called("waived nport.6.1.syslog"); len(got) != 1 || got[0] != "waived nport.6.1.syslog no syslog server" {
		t.Fatalf("waive calls = %v", got)
	}
	h.burst("{esc}{end}{enter}a/tmp/fw.rom{enter}from moxa.com{enter}")
	h.waitFor("Attested.")
	if got := f.called("attest"); len(got) != 1 || got[0] != "attest nport.7.1.firmware file=/tmp/fw.rom note=from moxa.com" {
		t.Fatalf("attest calls = %v", got)
	}
}

func TestTypeaheadFinishFormAndReadBack(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var mu sync.Mutex
	var got []FinishInfo
	cfg.Finish = func(_ context.Context, _ Session, fi FinishInfo) (FinishResult, error) {
		mu.Lock()
		got = append(got, fi)
		mu.Unlock()
		return FinishResult{Dir: "/tmp/rec"}, nil
	}
	cfg.SigningKey = func() KeyStatus {
		return KeyStatus{Description: "/home/ada/.ssh/id_ed25519", Found: true, Encrypted: true}
	}
	h := start(t, cfg, f)
	h.connect()
	h.press("f")
	h.waitFor("Signing key: /home/ada/.ssh/id_ed25519")
	// Technician, e-mail, company (pasted), site, passphrase, and a y
	// that must not sign: the read-back is not armed yet.
	msgs := tuitest.Keys("{enter}Ada Field{enter}ada@vendor.example{enter}")
	msgs = append(msgs, tea.PasteMsg{Content: "Acme Integrators"})
	msgs = append(msgs, tuitest.Keys("{enter}Plant 3{enter}Eve Plant{enter}Shift lead{enter}y{enter}no syslog server yet{enter}key-pass{enter}y")...)
	h.d.Burst(msgs...)
	h.waitArmed("Sign the record as")
	for _, w := range []string{"Technician  Ada Field", "Identity    ada@vendor.example", "Company     Acme Integrators",
		"Site        Plant 3", "Accepted by Eve Plant, Shift lead", "Key         /home/ada/.ssh/id_ed25519",
		"Status      INCOMPLETE: 5 of 6 steps open", "Reason:     no syslog server yet"} {
		if !contains(h.screen(), w) {
			t.Fatalf("the read-back lacks %q:\n%s", w, h.screen())
		}
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 0 {
		t.Fatal("a key typed before the read-back appeared signed the record")
	}
	h.press("y")
	h.waitFor("The record is written", "/tmp/rec")
	mu.Lock()
	defer mu.Unlock()
	want := FinishInfo{Technician: "Ada Field", Email: "ada@vendor.example", Company: "Acme Integrators", Site: "Plant 3",
		AcceptedBy: "Eve Plant", AcceptedRole: "Shift lead", IncompleteReason: "no syslog server yet", Passphrase: "key-pass"}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("finish info = %+v, want %+v", got, want)
	}
}

func TestTypeaheadFinishFormCreatesKey(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var mu sync.Mutex
	var got []FinishInfo
	cfg.Finish = func(_ context.Context, _ Session, fi FinishInfo) (FinishResult, error) {
		mu.Lock()
		got = append(got, fi)
		mu.Unlock()
		return FinishResult{Dir: "/tmp/rec"}, nil
	}
	cfg.SigningKey = func() KeyStatus { return KeyStatus{Found: false, CreatePath: "/home/ada/.ssh/id_ed25519"} }
	h := start(t, cfg, f)
	h.connect()
	h.press("f")
	h.waitFor("Signing key: none found yet")
	h.burst("{enter}Ada{enter}ada@vendor.example{enter}Acme{enter}Plant 3{enter}{enter}{enter}y{enter}open on purpose{enter}{enter}y")
	h.waitArmed("Sign the record as", "a new Ed25519 key at /home/ada/.ssh/id_ed25519", "Site        Plant 3")
	h.press("y")
	h.waitFor("The record is written")
	mu.Lock()
	defer mu.Unlock()
	want := FinishInfo{Technician: "Ada", Email: "ada@vendor.example", Company: "Acme", Site: "Plant 3",
		IncompleteReason: "open on purpose", CreateKey: true}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("finish info = %+v, want %+v", got, want)
	}
}
