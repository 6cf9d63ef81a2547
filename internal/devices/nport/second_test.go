package nport_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"

	"github.com/commission-tool/commission/internal/access"
	npcatalog "github.com/commission-tool/commission/internal/catalog/nport"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/sim/nport/second"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

// These tests drive the real driver against a second NPort console,
// written by someone else from the same public evidence with its own
// field names, URLs, frame names and confirmation texts. The driver may
// only rely on what the evidence and the guide say.

func portOf(t *testing.T, raw string) int {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPort is a loopback port nothing serves on, held (simnet.Hold)
// until the test ends, so that no other socket on the machine takes it.
func closedPort(t *testing.T) int {
	t.Helper()
	h, err := simnet.HoldPort("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h.Port()
}

// secondDriver starts the second console and a driver for it. With HTTPS
// its certificate is trusted first, as the technician would.
func secondDriver(t *testing.T, cfg second.Config) (*second.Console, *nport.Driver) {
	t.Helper()
	c, err := second.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	closed := closedPort(t)
	ports := map[string]int{"http": portOf(t, c.URL()), "https": closed, "telnet": closed, "snmp": closed,
		"moxa-udp": closed, "moxa-tcp": closed, "moxa-tcp2": closed}
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "pins"))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPSURL() != "" {
		ports["https"] = portOf(t, c.HTTPSURL())
	}
	user := cfg.User
	if user == "" {
		user = "admin"
	}
	pw := cfg.Password
	if pw == "" {
		pw = "moxa"
	}
	d := nport.New(nport.Options{Options: access.Options{Host: "127.0.0.1", Ports: ports, User: user, Password: pw, Pins: pins, Timeout: 2 * time.Second}})
	t.Cleanup(func() { d.Close(context.Background()) })
	if c.HTTPSURL() != "" {
		_, err := d.Read(context.Background())
		var tofu interface{ UnknownFingerprint() (string, string) }
		if !errors.As(err, &tofu) {
			t.Fatalf("first read over HTTPS: want an unknown certificate, got %v", err)
		}
		if err := pins.Trust(tofu.UnknownFingerprint()); err != nil {
			t.Fatal(err)
		}
	}
	return c, d
}

func TestSecondConsoleRead(t *testing.T) {
	for _, g := range []second.Generation{second.GA, second.GSec} {
		for _, https := range []bool{false, true} {
			name := string(g) + map[bool]string{false: "/http", true: "/https"}[https]
			t.Run(name, func(t *testing.T) {
				c, d := secondDriver(t, second.Config{Generation: g, HTTPS: https})
				st, err := d.Read(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				want := map[second.Generation]string{second.GA: "GA", second.GSec: "G-sec"}[g]
				if st.Generation != want {
					t.Errorf("generation %q, want %q", st.Generation, want)
				}
				id := st.Identity
				if id.Model != "NPort 5150A" || id.MAC == "" || id.Firmware == "" || id.Serial != "4711" {
					t.Errorf("identity %+v", id)
				}
				set := c.Settings()
				// what the driver read, against what the console holds
				for key, got := range map[string]string{"http": onOff(st.Console.HTTP), "telnet": onOff(st.Console.Telnet),
					"moxa_service": onOff(st.Console.MoxaService), "snmp": onOff(st.SNMP.Enabled), "lockout": onOff(st.Policy.Lockout),
					"pw_min_len": strconv.Itoa(st.Policy.MinLength), "lockout_minutes": strconv.Itoa(st.Policy.LockoutMinutes),
					"timezone": st.Time.Zone, "login_fail_message": st.Notice.FailureMessage, "acl": map[bool]string{true: "on", false: "off"}[st.AccessList.Enabled]} {
					if set[key] != got {
						t.Errorf("%s: read %q, the console holds %q", key, got, set[key])
					}
				}
				if https != !st.Console.NoHTTPS || https && onOff(st.Console.HTTPS) != set["https"] {
					t.Errorf("https row: read %v (absent %v), the console holds %q", st.Console.HTTPS, st.Console.NoHTTPS, set["https"])
				}
				if len(st.Ports) == 0 || st.Ports[0].Mode == "" {
					t.Errorf("serial ports %+v", st.Ports)
				}
				if a, ok := st.Account("admin"); !ok || !a.Admin || !a.Active {
					t.Errorf("accounts %+v", st.Accounts)
				}
				if set["cleartext_password_seen"] == "yes" {
					t.Error("the driver sent the password in clear")
				}
				if https && (st.Via != "https" || !st.HTTPSProven) {
					t.Errorf("via %q proven %v", st.Via, st.HTTPSProven)
				}
				t.Logf("settings held by the second console: %v", set)
				t.Logf("state read: console %+v policy %+v acl %+v ports %+v time %+v", st.Console, st.Policy, st.AccessList, st.Ports, st.Time)
			})
		}
	}
}

func onOff(b bool) string {
	if b {
		return "enable"
	}
	return "disable"
}

func TestSecondConsoleAudit(t *testing.T) {
	for _, g := range []second.Generation{second.GA, second.GSec} {
		t.Run(string(g), func(t *testing.T) {
			_, d := secondDriver(t, second.Config{Generation: g, HTTPS: true})
			s := steps.NewSession(npcatalog.Catalog(), d, nil)
			if err := s.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Results() {
				if r.Outcome == steps.Error {
					t.Errorf("%s: error %s", r.StepID, r.Reason)
				}
			}
			got := map[string]steps.Outcome{}
			for _, r := range s.Results() {
				got[r.StepID] = r.Outcome
			}
			if got["nport.3.2.default-admin"] != steps.Deviation || got["nport.3.2.password-policy"] != steps.Deviation {
				t.Errorf("factory audit %v", got)
			}
		})
	}
}

func TestSecondConsoleFaults(t *testing.T) {
	for fault, want := range map[string]string{
		second.FaultRefuse:              "refused the login",
		second.FaultLockout:             "locked",
		second.FaultFull:                "maximum number of logged-in users",
		second.FaultStrangeInterstitial: "does not know",
		second.FaultUnknownConsole:      "commission capture",
		second.FaultMissingControl:      "Telnet console",
	} {
		for _, g := range []second.Generation{second.GA, second.GSec} {
			t.Run(fault+"/"+string(g), func(t *testing.T) {
				c, d := secondDriver(t, second.Config{Generation: g, Fault: fault})
				before := c.Settings()
				_, err := d.Read(context.Background())
				w := want
				if fault == second.FaultFull && g == second.GSec {
					// the words of a full session table on this firmware are
					// not public: the driver shows the device's own message
					w = "nothing was changed"
				}
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("fault %s: %v, want %q", fault, err, w)
				}
				after := c.Settings()
				for k, v := range before {
					if k != "sessions" && k != "failed_logins" && after[k] != v {
						t.Errorf("%s changed from %q to %q", k, v, after[k])
					}
				}
			})
		}
	}
}
