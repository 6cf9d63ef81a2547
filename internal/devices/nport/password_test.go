package nport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transcript"
)

const newAdminPW = "N3w!Adm1nPw"

// TestPasswordAnswerIpchange checks the GA change-password encoding on
// the values ipchange's formula gives: pwd = hex MD5(old), newpwd =
// MD5(old) with the new password XORed over its first bytes.
func TestPasswordAnswerIpchange(t *testing.T) {
	pr := profileNamed(t, "GA")
	oldH, newH, err := pr.passwordAnswer("moxa", "ab")
	if err != nil {
		t.Fatal(err)
	}
	if len(oldH) != 32 || len(newH) != 32 || oldH[4:] != newH[4:] {
		t.Fatalf("old %s new %s: past the new password the bytes must be MD5(old)'s", oldH, newH)
	}
	for i, c := range []byte("ab") {
		o, _ := strconv.ParseUint(oldH[2*i:2*i+2], 16, 8)
		n, _ := strconv.ParseUint(newH[2*i:2*i+2], 16, 8)
		if byte(o)^byte(n) != c {
			t.Fatalf("byte %d: %02x ^ %02x != %q", i, o, n, c)
		}
	}
	if _, _, err := pr.passwordAnswer("moxa", strings.Repeat("x", 17)); err == nil {
		t.Fatal("a 17-character password was encoded")
	}
}

func profileNamed(t *testing.T, name string) *Profile {
	t.Helper()
	for i := range Profiles {
		if Profiles[i].Name == name {
			return &Profiles[i]
		}
	}
	t.Fatalf("no profile %s", name)
	return nil
}

// TestGAChangeOwnPasswordThroughChPassword_Simulator changes admin's
// password on the GA console: Stage goes through ChPassword.htm (not the
// User Account page), Commit logs in with the new password after the
// restart, and the old one no longer works. The exchanges are recorded;
// a replay of the recording takes the same requests from a new driver
// (device to driver), and a recording whose request was changed is
// refused (driver to device).
func TestGAChangeOwnPasswordThroughChPassword_Simulator(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{Generation: simnport.GenGA}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := transcript.NewRecorder()
	drv.o.Recorder = rec
	drv.drop()
	if _, err := drv.Read(ctx); err != nil { // the login, recorded
		t.Fatal(err)
	}
	to := from.Clone()
	to.Secrets = map[string]string{"admin": newAdminPW}
	if err := drv.Stage(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	if pw := accountPW(dev.Saved(), "admin"); pw != newAdminPW {
		t.Fatalf("saved admin password %q", pw)
	}
	if pw := accountPW(dev.Effective(), "admin"); pw != "moxa" {
		t.Fatal("the new password took effect before Save/Restart")
	}
	ex := rec.Exchanges()
	var ch *transcript.Exchange
	for i, e := range ex {
		if e.Kind != "http" {
			continue
		}
		if strings.Contains(e.Request.URL, "account_edit") {
			t.Fatalf("the own password went through the User Account page: %s", e.Request.URL)
		}
		if e.Request.Method == http.MethodPost && e.Request.URL == "/ChPassword.htm" {
			ch = &ex[i]
		}
	}
	if ch == nil {
		t.Fatal("no POST /ChPassword.htm")
	}
	body := ch.Request.Body
	for _, want := range []string{"old_passwd=&", "passwd=&", "conf_passwd=&", "pwd=" + url.QueryEscape(transcript.Masked), "newpwd=" + url.QueryEscape(transcript.Masked), "Submit=Submit"} {
		if !strings.Contains(body, want) {
			t.Fatalf("ChPassword body %q lacks %q", body, want)
		}
	}
	if err := drv.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if drv.o.Password != newAdminPW || !strings.Contains(strings.Join(drv.proven, ","), "admin") {
		t.Fatalf("after commit the driver logs in with %q, proven %v", drv.o.Password, drv.proven)
	}
	old := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "moxa", Timeout: time.Second}, HTTPSOnly: true})
	old.o.Pins = drv.o.Pins
	if err := old.Open(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("the old password after the restart: %v", err)
	}

	// replay: a new driver, same login and Stage, against the recording
	replayStage := func(ex []transcript.Exchange) (*transcript.Replay, error) {
		rp := transcript.NewReplay(ex)
		srv := httptest.NewServer(rp)
		defer srv.Close()
		port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
		closed := closedPort(t)
		ports := map[string]int{"http": port, "https": closed, "telnet": closed, "snmp": closed, "moxa-udp": closed, "moxa-tcp": closed, "moxa-tcp2": closed}
		d := New(Options{Options: access.Options{Host: "127.0.0.1", Ports: ports, User: "admin", Password: "moxa", Timeout: time.Second}})
		if _, err := d.Read(ctx); err != nil {
			return rp, err
		}
		return rp, d.Stage(ctx, from, to)
	}
	rp, err := replayStage(ex)
	if err != nil || len(rp.Mismatches()) > 0 {
		t.Fatalf("replay: %v, mismatches %q", err, rp.Mismatches())
	}
	bad := append([]transcript.Exchange(nil), ex...)
	for i, e := range bad {
		if e.Kind == "http" && e.Request.URL == "/ChPassword.htm" && e.Request.Method == http.MethodPost {
			q := *e.Request
			q.Body = strings.Replace(q.Body, "newpwd=", "newpasswd=", 1)
			bad[i].Request = &q
		}
	}
	if rp, err := replayStage(bad); err == nil || len(rp.Mismatches()) == 0 {
		t.Fatalf("a changed ChPassword request was accepted: %v", err)
	}
}

func accountPW(s simnport.Settings, name string) string {
	for _, a := range s.Accounts {
		if a.Name == name {
			return a.Password
		}
	}
	return ""
}

// TestGAChPasswordWrongOldRejected_Simulator: a wrong old password is the
// device's rejection, and nothing is saved.
func TestGAChPasswordWrongOldRejected_Simulator(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{Generation: simnport.GenGA}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	drv.o.Password = "not-moxa" // the driver believes another old password
	to := from.Clone()
	to.Secrets = map[string]string{"admin": newAdminPW}
	var de *DeviceError
	if err := drv.Stage(ctx, from, to); !errors.As(err, &de) || !strings.Contains(de.Message, "Old password") {
		t.Fatalf("got %v", err)
	}
	if pw := accountPW(dev.Saved(), "admin"); pw != "moxa" {
		t.Fatalf("saved %q", pw)
	}
}

// TestLoginWithoutSessionCookieFails_Simulator: a console that answers a
// good login without a session cookie opened no session; the driver says
// so with the profile's words, on both generations.
func TestLoginWithoutSessionCookieFails_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) {
			dev, err := simnport.Start(simnport.Config{Generation: g, NoSessionCookie: true, NoHTTPS: true})
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			d := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "moxa", Timeout: time.Second}})
			err = d.Open(context.Background())
			var ns *NoSessionError
			if why := profileNamed(t, string(g)).NoSessionCookie; why != "" {
				if !errors.As(err, &ns) || ns.Generation != string(g) || !strings.HasSuffix(err.Error(), "http: "+why) {
					t.Fatalf("got %v", err)
				}
			} else if err == nil {
				t.Fatal("a login without a session cookie opened a session")
			}
			// a wrong password is still told as such, not as a missing cookie
			w := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "wrong", Timeout: time.Second}})
			if err := w.Open(context.Background()); !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
}

// TestGAChPasswordStagedTwice_Simulator: the engine stages step by step,
// and a later step's Stage still carries the password an earlier one set:
// the second change proves the old password with the one saved last.
func TestGAChPasswordStagedTwice_Simulator(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{Generation: simnport.GenGA}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.Secrets = map[string]string{"admin": newAdminPW}
	for i := range 2 {
		if err := drv.Stage(ctx, from, to); err != nil {
			t.Fatalf("stage %d: %v", i+1, err)
		}
	}
	if err := drv.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if pw := accountPW(dev.Effective(), "admin"); pw != newAdminPW {
		t.Fatalf("effective %q", pw)
	}
}
