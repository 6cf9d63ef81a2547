package nport

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"

	"github.com/commission-tool/commission/internal/access"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transcript"
)

var update = flag.Bool("update", false, "rewrite the checked-in capture transcripts under testdata/capture")

// webView is the part of a State the console pages give: what a replay
// must reproduce.
type webView struct {
	Model, MAC, Serial, Firmware, Name string
	Generation                         string
	Console                            Console
	Time                               TimeSettings
	Network                            Network
	SNMP                               [4]bool
	RemoteLog                          RemoteLog
	Ports                              []SerialPort
	Accounts                           []Account
	Policy                             PasswordPolicy
	Notice                             Notice
	AccessList                         AccessList
	LogEvents                          map[string]LogTarget
	LogLines                           []string
	FailedLogins                       []string
	Nag                                bool
}

func viewOf(st State) webView {
	id := st.Identity
	return webView{id.Model, id.MAC, id.Serial, id.Firmware, id.Name, st.Generation, st.Console, st.Time, st.Network,
		[4]bool{st.SNMP.Enabled, st.SNMP.V1, st.SNMP.V2, st.SNMP.V3}, st.RemoteLog, st.Ports, st.Accounts, st.Policy,
		st.Notice, st.AccessList, st.LogEvents, st.LogLines, st.FailedLogins, st.DefaultPasswordNag}
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

// replayRead drives a fresh driver against a replay of ex over HTTP (the
// HTTPS port refuses, as on a unit without TLS) and returns what it parsed.
func replayRead(t *testing.T, ex []transcript.Exchange, user, pw string) (State, *transcript.Replay) {
	t.Helper()
	rp := transcript.NewReplay(ex)
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	closed := closedPort(t)
	ports := map[string]int{"http": port, "https": closed, "telnet": closed, "snmp": closed, "moxa-udp": closed,
		"moxa-tcp": closed, "moxa-tcp2": closed}
	d := New(Options{Options: access.Options{Host: "127.0.0.1", Ports: ports, User: user, Password: pw, Timeout: time.Second}})
	st, err := d.Read(context.Background())
	if err != nil {
		t.Fatalf("replay read: %v (%s)", err, rp)
	}
	return st, rp
}

// captureSim captures a simulated device of generation g.
func captureSim(t *testing.T, g simnport.Generation) (*transcript.Recorder, State) {
	t.Helper()
	dev, drv := startSim(t, simnport.Config{Generation: g}, "admin", "moxa")
	rec := transcript.NewRecorder()
	o := drv.o
	o.Recorder = rec
	st, err := Capture(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Restarts() != 0 {
		t.Fatal("capture restarted the device")
	}
	return rec, st
}

// TestCaptureReplaysBothWays_Simulator captures each generation, then
// replays the capture: the driver must send what was recorded (modulo
// masked values) and parse the same State as the live read.
func TestCaptureReplaysBothWays_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) {
			rec, live := captureSim(t, g)
			ex := rec.Exchanges()
			got, rp := replayRead(t, ex, "admin", "moxa")
			if m := rp.Mismatches(); len(m) > 0 {
				t.Fatalf("the driver sent requests the capture does not hold: %q", m)
			}
			if !reflect.DeepEqual(viewOf(got), viewOf(live)) {
				t.Fatalf("replayed state differs:\n got %+v\nlive %+v", viewOf(got), viewOf(live))
			}
			// a driver that sent something else is caught
			bad := append([]transcript.Exchange(nil), ex...)
			for i, e := range bad {
				if e.Kind == "http" && e.Request.Method == http.MethodPost && e.Request.URL == "/" {
					q := *e.Request
					q.Body = strings.Replace(q.Body, "FakeChallenge=", "Other=", 1)
					bad[i].Request = &q
				}
			}
			rp2 := transcript.NewReplay(bad)
			srv := httptest.NewServer(rp2)
			defer srv.Close()
			port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
			d := New(Options{Options: access.Options{Host: "127.0.0.1", Ports: map[string]int{"http": port, "https": closedPort(t)}, User: "admin", Password: "moxa", Timeout: time.Second}})
			if _, err := d.Read(context.Background()); err == nil || len(rp2.Mismatches()) == 0 {
				t.Fatalf("a changed login request was accepted: %v", err)
			}
		})
	}
}

// TestCheckedInTranscripts replays the transcripts made by capture
// (regenerate with go test -run TestCheckedInTranscripts -update).
func TestCheckedInTranscripts(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) {
			dir := filepath.Join("testdata", "capture", string(g))
			want := filepath.Join("testdata", "capture", string(g)+".state.json")
			if *update {
				rec, live := captureSim(t, g)
				os.RemoveAll(dir)
				if err := rec.Write(dir, transcript.Manifest{Family: "nport", Target: "127.0.0.1 (simulator)", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Tool: "commission capture"}); err != nil {
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
			if man.Family != "nport" || !strings.Contains(strings.Join(man.Notes, " "), "generation: "+string(g)) {
				t.Fatalf("manifest %+v", man)
			}
			var kinds = map[string]int{}
			for _, e := range ex {
				kinds[e.Kind]++
			}
			if kinds["http"] < 10 || kinds["udp"] < 2 || kinds["snmp"] < 1 {
				t.Fatalf("exchanges by kind %v", kinds)
			}
			got, rp := replayRead(t, ex, "admin", "moxa")
			if m := rp.Mismatches(); len(m) > 0 {
				t.Fatalf("mismatched requests %q", m)
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			var exp webView
			if err := json.Unmarshal(b, &exp); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(viewOf(got))
			expJSON, _ := json.Marshal(exp)
			if string(gotJSON) != string(expJSON) {
				t.Fatalf("replayed state\n %s\nwant\n %s", gotJSON, expJSON)
			}
		})
	}
}

// TestTranscriptHoldsNoSecret greps every checked-in transcript file for
// the password, the login answers and the cookie and token values.
func TestTranscriptHoldsNoSecret(t *testing.T) {
	for _, g := range simnport.Generations() {
		dir := filepath.Join("testdata", "capture", string(g))
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) < 5 {
			t.Fatalf("%s: %v (%d files)", dir, err, len(ents))
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, bad := range []string{"moxa\"", "=moxa", "public", "private"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s/%s holds %q", dir, e.Name(), bad)
				}
			}
			for _, key := range []string{"FakeChallenge", "EncPasswd", "EncUser", "MD5Password", "csrf_token", "token_text", "ChallID"} {
				checkMasked(t, dir+"/"+e.Name(), s, key)
			}
		}
	}
}

// checkMasked fails when key is followed by a value that is not masked
// (key=value in a form or query, or value="..." in markup).
func checkMasked(t *testing.T, name, s, key string) {
	t.Helper()
	for _, sep := range []string{key + "=", key + `\" value=\"`, key + " value=", key + `\",\"`} {
		for i := strings.Index(s, sep); i >= 0; {
			rest := s[i+len(sep):]
			if !strings.HasPrefix(rest, transcript.Masked) && !strings.HasPrefix(rest, "%2A%2Amasked%2A%2A") &&
				!strings.HasPrefix(rest, "&") && !strings.HasPrefix(rest, `\"`) && !strings.HasPrefix(rest, `"`) {
				end := min(len(rest), 40)
				t.Errorf("%s: %s%s is not masked", name, sep, rest[:end])
			}
			j := strings.Index(rest, sep)
			if j < 0 {
				break
			}
			i += len(sep) + j
		}
	}
}
