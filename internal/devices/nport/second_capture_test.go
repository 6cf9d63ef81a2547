package nport_test

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/sim/nport/second"
	"github.com/commission-tool/commission/internal/transcript"
)

// TestSecondConsoleCaptureReplays captures the second console and replays
// the capture: the driver sends what was recorded and parses the same
// settings, and no secret is in the transcript.
func TestSecondConsoleCaptureReplays(t *testing.T) {
	for _, g := range []second.Generation{second.GA, second.GSec} {
		t.Run(string(g), func(t *testing.T) {
			c, err := second.Start(second.Config{Generation: g})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			closed := closedPort(t)
			ports := map[string]int{"http": portOf(t, c.URL()), "https": closed, "telnet": closed, "snmp": closed,
				"moxa-udp": closed, "moxa-tcp": closed, "moxa-tcp2": closed}
			rec := transcript.NewRecorder()
			ctx := context.Background()
			live, err := nport.Capture(ctx, nport.Options{Options: access.Options{Host: "127.0.0.1", Ports: ports, User: "admin", Password: "moxa", Timeout: 2 * time.Second}, Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			ex := rec.Exchanges()
			var all strings.Builder
			for _, e := range ex {
				if e.Request != nil {
					all.WriteString(e.Request.URL + e.Request.Body)
				}
				if e.Response != nil {
					all.WriteString(e.Response.Body + strings.Join(e.Response.Header["Set-Cookie"], ";"))
				}
			}
			// the second console writes its SNMP communities as text fields
			for _, secret := range []string{"=moxa", "\"public\"", "\"private\""} {
				if strings.Contains(all.String(), secret) {
					t.Errorf("the transcript holds %s", secret)
				}
			}
			rp := transcript.NewReplay(ex)
			srv := httptest.NewServer(rp)
			defer srv.Close()
			rports := map[string]int{"http": portOf(t, srv.URL), "https": closed, "telnet": closed, "snmp": closed, "moxa-udp": closed,
				"moxa-tcp": closed, "moxa-tcp2": closed}
			d := nport.New(nport.Options{Options: access.Options{Host: "127.0.0.1", Ports: rports, User: "admin", Password: "moxa", Timeout: 2 * time.Second}})
			got, err := d.Read(ctx)
			if err != nil {
				t.Fatalf("replay: %v (%s)", err, rp)
			}
			if m := rp.Mismatches(); len(m) > 0 {
				t.Fatalf("requests the capture does not hold: %q", m)
			}
			type view struct {
				Gen, Model, MAC string
				Console         nport.Console
				Policy          nport.PasswordPolicy
				Accounts        []nport.Account
				Acl             nport.AccessList
				Ports           []nport.SerialPort
				Notice          nport.Notice
				Nag             bool
			}
			v := func(s nport.State) view {
				return view{s.Generation, s.Identity.Model, s.Identity.MAC, s.Console, s.Policy, s.Accounts, s.AccessList, s.Ports, s.Notice, s.DefaultPasswordNag}
			}
			if !reflect.DeepEqual(v(got), v(live)) {
				t.Fatalf("replayed\n %+v\nlive\n %+v", v(got), v(live))
			}
		})
	}
}
