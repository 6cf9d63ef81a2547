package thingspro_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

var update = flag.Bool("update", false, "rewrite the checked-in capture transcript under testdata/capture")

// apiView is the part of a State the API gives: what a replay must
// reproduce (the outside probes and the addresses are not replayed).
type apiView struct {
	Identity     devices.Identity
	User         string
	Users        []thingspro.User
	Roles        []thingspro.Role
	DefaultLogin *bool
	Interfaces   []thingspro.Interface
	Services     map[string]bool
	HTTP         thingspro.HTTPServer
	Time         thingspro.Time
	Firewall     []thingspro.FirewallRule
	Log          thingspro.LogStorage
	Cloud        []thingspro.CloudApp
	Unknown      map[string]string
}

func viewOf(s thingspro.State) apiView {
	return apiView{s.Identity, s.User, s.Users, s.Roles, s.DefaultLogin, s.Interfaces, s.Services, s.HTTP, s.Time,
		s.Firewall, s.Log, s.Cloud, s.Unknown}
}

// captureCase is a simulated gateway to capture and its login.
type captureCase struct {
	name     string
	harden   bool
	user, pw string
}

var captureCases = []captureCase{
	{name: "factory", user: "admin", pw: thingspro.DefaultPassword},
	{name: "hardened", harden: true, user: "tech1", pw: "Harden-Test-Pass-2024!"},
}

// rawLog keeps the simulator's raw exchanges (secrets included: tests only).
type rawLog struct {
	mu sync.Mutex
	ex []simthingspro.Exchange
}

func (l *rawLog) add(e simthingspro.Exchange) { l.mu.Lock(); l.ex = append(l.ex, e); l.mu.Unlock() }
func (l *rawLog) all() []simthingspro.Exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]simthingspro.Exchange(nil), l.ex...)
}

// tokens are the session tokens the simulator handed out.
func (l *rawLog) tokens() []string {
	var out []string
	for _, e := range l.all() {
		if e.Path == "/api/v1/auth" && e.Status == http.StatusOK {
			var env struct {
				Data struct {
					Token string `json:"token"`
				} `json:"data"`
			}
			if json.Unmarshal(e.RespBody, &env) == nil && env.Data.Token != "" {
				out = append(out, env.Data.Token)
			}
		}
	}
	return out
}

// captureSim captures a simulated gateway and checks that the walk sent
// only the login and GETs.
func captureSim(t *testing.T, c captureCase) (*transcript.Recorder, thingspro.State, *rawLog) {
	t.Helper()
	raw := &rawLog{}
	sim := startSim(t, simthingspro.Config{NoForcedChange: true, Observe: raw.add})
	if c.harden {
		if err := sim.Harden(simthingspro.HardenOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rec := transcript.NewRecorder()
	live, err := thingspro.Capture(context.Background(), options(t, sim, c.user, c.pw), rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range raw.all() {
		if e.Method != http.MethodGet && (e.Method != http.MethodPost || e.Path != "/api/v1/auth") {
			t.Errorf("capture sent %s %s", e.Method, e.Path)
		}
	}
	return rec, live, raw
}

// closedPort is a loopback port nothing serves on, held (simnet.Hold)
// until the test ends, so that no other socket on the machine takes it.
func closedPort(t testing.TB) int {
	t.Helper()
	h, err := simnet.HoldPort("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h.Port()
}

// replayRead drives a fresh driver against a replay of ex, served over
// HTTPS with a pinned certificate, and returns what it parsed.
func replayRead(t *testing.T, ex []transcript.Exchange, user, pw string) (thingspro.State, *transcript.Replay, error) {
	t.Helper()
	rp := transcript.NewReplay(ex)
	srv := httptest.NewTLSServer(rp)
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Trust(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), transport.Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	closed := closedPort(t)
	d := thingspro.New(thingspro.Options{Options: access.Options{Host: "127.0.0.1", User: user, Password: pw, Pins: ps,
		Ports: map[string]int{"https": port, "http": closed, "ssh": closed, "discovery": closed}, Timeout: 2 * time.Second}})
	defer d.Close(context.Background())
	st, err := d.Read(context.Background())
	return st, rp, err
}

// TestCaptureReplaysBothWays_Simulator captures a factory and a hardened
// gateway, then replays each capture: the driver must send what was
// recorded (masked values aside) and parse the same State as the live
// read; a driver that sends another login is caught.
func TestCaptureReplaysBothWays_Simulator(t *testing.T) {
	for _, c := range captureCases {
		t.Run(c.name, func(t *testing.T) {
			rec, live, raw := captureSim(t, c)
			dir := filepath.Join(t.TempDir(), "capture")
			if err := rec.Write(dir, transcript.Manifest{Family: "thingspro", Target: "127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
			secrets := append(raw.tokens(), c.pw, "s3cr3t-mqtt")
			if len(secrets) < 3 {
				t.Fatalf("no token seen in the simulator's replies")
			}
			grepFolder(t, dir, secrets)
			_, ex, err := transcript.Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, rp, err := replayRead(t, ex, c.user, c.pw)
			if err != nil {
				t.Fatalf("replay read: %v (%s)", err, rp)
			}
			if m := rp.Mismatches(); len(m) > 0 {
				t.Fatalf("the driver sent requests the capture does not hold: %q", m)
			}
			if u := rp.Unused(); len(u) > 0 {
				t.Fatalf("the driver did not send recorded requests: %q", u)
			}
			if !reflect.DeepEqual(viewOf(got), viewOf(live)) {
				t.Fatalf("replayed state differs:\n got %+v\nlive %+v", viewOf(got), viewOf(live))
			}
			// a driver that logs in as someone else is caught
			bad := append([]transcript.Exchange(nil), ex...)
			for i, e := range bad {
				if e.Kind == "http" && e.Request.Method == http.MethodPost && e.Request.URL == "/api/v1/auth" {
					q := *e.Request
					q.Body = strings.Replace(q.Body, `"name":"`+c.user+`"`, `"name":"someone"`, 1)
					bad[i].Request = &q
				}
			}
			if _, rp2, err := replayRead(t, bad, c.user, "x"); err == nil || len(rp2.Mismatches()) == 0 {
				t.Fatalf("a changed login request was accepted: %v", err)
			}
		})
	}
}

// TestCaptureChangesNothingOnFirstLogin_Simulator: a factory gateway
// that forces a new password at first login ends the walk with
// ErrPasswordMustChange; the password is not changed.
func TestCaptureChangesNothingOnFirstLogin_Simulator(t *testing.T) {
	raw := &rawLog{}
	sim := startSim(t, simthingspro.Config{Observe: raw.add})
	rec := transcript.NewRecorder()
	o := options(t, sim, "admin", thingspro.DefaultPassword) // NewPassword is set: capture must not use it
	if _, err := thingspro.Capture(context.Background(), o, rec); !errors.Is(err, thingspro.ErrPasswordMustChange) {
		t.Fatalf("capture of a gateway that forces a change: %v, want ErrPasswordMustChange", err)
	}
	for _, e := range raw.all() {
		if e.Method != http.MethodPost || e.Path != "/api/v1/auth" {
			t.Errorf("capture sent %s %s", e.Method, e.Path)
		}
	}
	o.NewPassword = ""
	if _, err := thingspro.Connect(context.Background(), o); !errors.Is(err, thingspro.ErrPasswordMustChange) {
		t.Fatalf("after the capture the factory login gives %v, want the forced change still pending", err)
	}
	dir := filepath.Join(t.TempDir(), "capture")
	if err := rec.Write(dir, transcript.Manifest{Family: "thingspro"}); err != nil {
		t.Fatal(err)
	}
	grepFolder(t, dir, append(raw.tokens(), thingspro.DefaultPassword, "Gateway-Setup-2024!"))
}

// grepFolder fails when any secret appears in any file of dir.
func grepFolder(t *testing.T, dir string, secrets []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("%s: %v (%d files)", dir, err, len(ents))
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("%s/%s holds the secret %q", dir, e.Name(), s)
			}
		}
		if strings.Contains(string(b), "Bearer ") {
			t.Errorf("%s/%s holds an Authorization header", dir, e.Name())
		}
	}
}

// TestCheckedInTranscript replays the transcript made by capture
// (regenerate with go test -run TestCheckedInTranscript -update).
func TestCheckedInTranscript(t *testing.T) {
	c := captureCases[0]
	dir := filepath.Join("testdata", "capture", c.name)
	want := filepath.Join("testdata", "capture", c.name+".state.json")
	if *update {
		rec, live, _ := captureSim(t, c)
		os.RemoveAll(dir)
		if err := rec.Write(dir, transcript.Manifest{Family: "thingspro", Target: "127.0.0.1 (simulator)",
			Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Tool: "commission capture"}); err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(viewOf(live), "", "  ")
		if err := os.WriteFile(want, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	man, ex, err := transcript.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if man.Family != "thingspro" || len(ex) < 15 {
		t.Fatalf("manifest %+v, %d exchanges", man, len(ex))
	}
	got, rp, err := replayRead(t, ex, c.user, c.pw)
	if err != nil {
		t.Fatalf("replay read: %v (%s)", err, rp)
	}
	if m := rp.Mismatches(); len(m) > 0 {
		t.Fatalf("mismatched requests %q", m)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	var exp apiView
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(viewOf(got))
	expJSON, _ := json.Marshal(exp)
	if string(gotJSON) != string(expJSON) {
		t.Fatalf("replayed state\n %s\nwant\n %s", gotJSON, expJSON)
	}
}

// TestCheckedInTranscriptHoldsNoSecret greps the checked-in transcript
// for the passwords it was made with and checks that every token, password
// and key value in it is masked.
func TestCheckedInTranscriptHoldsNoSecret(t *testing.T) {
	dir := filepath.Join("testdata", "capture", captureCases[0].name)
	grepFolder(t, dir, []string{thingspro.DefaultPassword, "s3cr3t-mqtt"})
	ents, _ := os.ReadDir(dir)
	masked := 0
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		var x transcript.Exchange
		if e.Name() == "manifest.json" || json.Unmarshal(b, &x) != nil || x.Request == nil {
			continue
		}
		for _, body := range []string{x.Request.Body, x.Response.Body} {
			var v any
			if json.Unmarshal([]byte(body), &v) != nil {
				continue
			}
			masked += checkSecretKeys(t, e.Name(), v)
		}
	}
	if masked < 3 { // the login's password, its token, the MQTT client's password
		t.Errorf("only %d masked values: the login and the MQTT client are not in the transcript", masked)
	}
}

// checkSecretKeys fails on a secret key (password, token, key) whose
// value is neither empty nor masked, and counts the masked ones.
func checkSecretKeys(t *testing.T, name string, v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "password") || lk == "token" || lk == "key" {
				switch s, _ := val.(string); {
				case s == transcript.Masked:
					n++
					continue
				case s == "":
					continue
				}
				t.Errorf("%s: %s is %v, not masked", name, k, val)
				continue
			}
			n += checkSecretKeys(t, name, val)
		}
	case []any:
		for _, val := range x {
			n += checkSecretKeys(t, name, val)
		}
	}
	return n
}
