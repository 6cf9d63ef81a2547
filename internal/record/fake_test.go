package record

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/steps"
)

// testPassword is a secret that must never reach a journal or a record.
const testPassword = "Tr0ub4dor&3-never-written"

// fakeState is a tiny device family for driving the real engine.
type fakeState struct {
	Telnet bool
	HTTP   bool
	Secret string // a password the plan sets; never serialised by the family
}

// fakeDevice keeps a fakeState behind Read/Stage/Commit, as a simulator would.
type fakeDevice struct {
	mu        sync.Mutex
	saved     fakeState // what Read returns
	staged    fakeState
	hasStaged bool
	failStage bool
}

func (d *fakeDevice) Read(context.Context) (fakeState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.saved, nil
}

func (d *fakeDevice) Stage(_ context.Context, _, to fakeState) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failStage {
		return errors.New("device said no")
	}
	d.staged, d.hasStaged = to, true
	return nil
}

func (d *fakeDevice) Commit(_ context.Context, progress func(string)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	progress("restarting")
	if d.hasStaged {
		d.saved, d.hasStaged = d.staged, false
	}
	return nil
}

func fakeCatalog() steps.Catalog[fakeState] {
	return steps.Catalog[fakeState]{
		Family: "fake",
		Guide:  "Fake hardening guide v1",
		Steps: []steps.Step[fakeState]{
			{
				Meta: steps.Meta{ID: "fake.1.telnet", Section: "1", Group: "services", Title: "Disable telnet",
					SRs: []string{"SR 7.7"}, Kind: steps.Automatic,
					Inputs: []steps.Input{
						{Key: "admin_password", Label: "Admin password", Secret: true},
						{Key: "note", Label: "Note"},
					}},
				Check: func(s fakeState) steps.Finding {
					return steps.Finding{Compliant: !s.Telnet, Applicable: true,
						Observed: fmt.Sprintf("telnet %v", s.Telnet), Expected: "telnet false"}
				},
				Plan: func(cur fakeState, in steps.Values) (steps.Plan[fakeState], error) {
					return steps.Plan[fakeState]{
						Changes: []steps.Change{{Setting: "Telnet", From: "on", To: "off"}},
						Mutate: func(s *fakeState) error {
							s.Telnet = false
							s.Secret = in["admin_password"]
							return nil
						},
					}, nil
				},
			},
			{
				Meta: steps.Meta{ID: "fake.2.http", Section: "2", Group: "services", Title: "Disable HTTP",
					SRs: []string{"SR 4.1", "SR 7.7"}, Kind: steps.Automatic},
				Check: func(s fakeState) steps.Finding {
					return steps.Finding{Compliant: !s.HTTP, Applicable: true,
						Observed: fmt.Sprintf("http %v", s.HTTP), Expected: "http false"}
				},
			},
			{
				Meta: steps.Meta{ID: "fake.3.firmware", Section: "3", Group: "firmware", Title: "Firmware is current",
					SRs: []string{"SR 3.4"}, Kind: steps.Manual, Attest: "the firmware is the latest",
					Inputs: []steps.Input{{Key: "release", Label: "Release notes seen"}}},
			},
			{
				Meta: steps.Meta{ID: "fake.4.compliant", Section: "4", Group: "accounts", Title: "Already fine",
					SRs: []string{"SR 1.1"}, Kind: steps.Automatic},
				Check: func(fakeState) steps.Finding {
					return steps.Finding{Compliant: true, Applicable: true, Observed: "ok", Expected: "ok"}
				},
			},
		},
		Clone: func(s fakeState) fakeState { return s },
		Identity: func(fakeState) devices.Identity {
			return devices.Identity{Family: "fake", Model: "F-1", Address: "127.0.0.1"}
		},
	}
}

// runSession drives a real session through every kind of decision and
// reports to rep. It does not close the session.
func runSession(rep steps.Reporter) (*steps.Session[fakeState], error) {
	dev := &fakeDevice{saved: fakeState{Telnet: true, HTTP: true}}
	s := steps.NewSession(fakeCatalog(), steps.Device[fakeState](dev), rep)
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	if _, err := s.Plan("fake.1.telnet", steps.Values{"admin_password": testPassword, "note": "<ok & done>"}); err != nil {
		return nil, err
	}
	if err := s.Apply(ctx, "fake.1.telnet"); err != nil {
		return nil, err
	}
	if err := s.Commit(ctx); err != nil {
		return nil, err
	}
	if err := s.Waive("fake.2.http", "the plant's HMI needs HTTP until March"); err != nil {
		return nil, err
	}
	if err := s.Attest(ctx, "fake.3.firmware", steps.Values{"release": "2.1"}, "checked the vendor page"); err != nil {
		return nil, err
	}
	return s, nil
}

// metas lists a catalog's step metas.
func metas(c steps.Catalog[fakeState]) []steps.Meta {
	out := make([]steps.Meta, len(c.Steps))
	for i, st := range c.Steps {
		out[i] = st.Meta
	}
	return out
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
