package nport_test

import (
	"context"
	"testing"
	"time"

	npcatalog "github.com/commission-tool/commission/internal/catalog/nport"
	"github.com/commission-tool/commission/internal/sim/nport/second"
	"github.com/commission-tool/commission/internal/steps"
)

// TestSecondConsoleStageAndCommit changes settings on the second console
// and proves them by a fresh read after its Save/Restart.
func TestSecondConsoleStageAndCommit(t *testing.T) {
	for _, g := range []second.Generation{second.GA, second.GSec} {
		t.Run(string(g), func(t *testing.T) {
			c, d := secondDriver(t, second.Config{Generation: g, HTTPS: true})
			ctx := context.Background()
			from, err := d.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			to := from.Clone()
			to.Console.Telnet = false
			to.Policy.MinLength = 16
			to.Policy.Lockout = true
			to.Notice.LoginMessage = "Authorised use only"
			if err := d.Stage(ctx, from, to); err != nil {
				t.Fatalf("stage: %v", err)
			}
			set := c.Settings()
			if set["telnet"] != "disable" || set["pw_min_len"] != "16" || set["pending"] != "yes" {
				t.Fatalf("held after stage: telnet %q min %q pending %q", set["telnet"], set["pw_min_len"], set["pending"])
			}
			if err := d.Commit(ctx, nil); err != nil {
				t.Fatalf("commit: %v", err)
			}
			after, err := d.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after.Console.Telnet || after.Policy.MinLength != 16 || !after.Policy.Lockout || after.Notice.LoginMessage != "Authorised use only" {
				t.Fatalf("after commit: console %+v policy %+v notice %+v", after.Console, after.Policy, after.Notice)
			}
			if c.Settings()["restarts"] != "1" {
				t.Fatalf("restarts %q", c.Settings()["restarts"])
			}
			_ = time.Second
		})
	}
}

// TestSecondConsoleHardenByCatalog walks the catalog's automatic steps on
// the second console from factory defaults, with one Save/Restart.
func TestSecondConsoleHardenByCatalog(t *testing.T) {
	const techPw, adminPw = "Fld#Tech2026!abc", "Vault#Adm1n!Key9"
	inputs := map[string]steps.Values{
		"nport.3.1.syslog":          {"server": "127.0.0.1"},
		"nport.3.2.personal-admin":  {"name": "tech1", "password": techPw, "confirm": techPw},
		"nport.3.2.default-admin":   {"password": adminPw, "confirm": adminPw},
		"nport.3.2.password-policy": {"lifetime": "30"},
		"nport.3.2.login-message":   {"message": npcatalog.DefaultBanner},
		"nport.3.3.accessible-ip":   {"rules": "127.0.0.1\n10.10.0.0/16"},
	}
	for _, g := range []second.Generation{second.GA, second.GSec} {
		t.Run(string(g), func(t *testing.T) {
			c, d := secondDriver(t, second.Config{Generation: g, HTTPS: true})
			ctx := context.Background()
			s := steps.NewSession(npcatalog.Catalog(), d, nil)
			if err := s.Open(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Results() {
				if r.Outcome != steps.Deviation || r.Meta.Kind != steps.Automatic {
					continue
				}
				if _, err := s.Plan(r.StepID, inputs[r.StepID]); err != nil {
					// no Network Settings page on this console; firmware is by hand
					if r.StepID != "nport.3.1.dhcp" && r.StepID != "nport.4.2.firmware" {
						t.Errorf("plan %s: %v", r.StepID, err)
					}
					continue
				}
				if err := s.Apply(ctx, r.StepID); err != nil {
					t.Fatalf("apply %s: %v", r.StepID, err)
				}
			}
			if err := s.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if c.Settings()["restarts"] != "1" {
				t.Errorf("restarts %q, want one Save/Restart", c.Settings()["restarts"])
			}
			// left as they are, each for a reason the test states:
			known := map[string]string{
				// this console keeps accepting TCP on a disabled console's port
				// (it closes the connection unanswered): the probe sees it open
				"nport.3.1.http": "failed",
				// no Network Settings page: the address setting is not read
				"nport.3.1.dhcp": "deviation",
				// its firmware (1.4 / 1.6) is below the advisories' fixes
				"nport.4.2.firmware": "deviation",
			}
			for _, r := range s.Results() {
				if r.Meta.Kind != steps.Automatic {
					continue
				}
				ok := r.Outcome == steps.Compliant || r.Outcome == steps.Fixed || r.Outcome == steps.NotApplicable
				if want, isKnown := known[r.StepID]; isKnown {
					ok = ok || string(r.Outcome) == want
				}
				if !ok {
					t.Errorf("%s: %s (%s) %+v", r.StepID, r.Outcome, r.Reason, r.After)
				}
			}
			if !c.PasswordIs("tech1", techPw) || !c.PasswordIs("admin", adminPw) {
				t.Error("the new passwords did not reach the console")
			}
		})
	}
}
