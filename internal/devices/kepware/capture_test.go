package kepware_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/commission-tool/commission/internal/devices/kepware"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// TestCaptureReplays_Simulator: a capture of a server records every API
// reply the driver reads, with no secret in the folder, and the driver
// reading the replayed transcript sees the same server.
func TestCaptureReplays_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{Edge: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	p := sim.Ports()
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pins.Trust(sim.Host()+":"+strconv.Itoa(p[simkepware.SvcConfigHTTPS]), sim.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	o := kepware.Options{Options: access.Options{Host: sim.Host(), Ports: p, User: "Administrator", Password: simkepware.DefaultAdminPassword,
		Pins: pins, Timeout: 2 * time.Second, Since: now.Add(-3 * time.Hour)}, Now: clock}
	rec := transcript.NewRecorder()
	live, err := kepware.Capture(context.Background(), o, rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rec.Write(dir, transcript.Manifest{Family: "kepware", Target: sim.Host()}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), simkepware.DefaultAdminPassword) {
			t.Errorf("%s holds the password", filepath.Base(f))
		}
		if strings.Contains(string(b), "Authorization") {
			t.Errorf("%s holds an Authorization header", filepath.Base(f))
		}
	}
	for _, r := range sim.Requests() {
		if r.Method != "GET" {
			t.Errorf("capture sent %s %s", r.Method, r.Path)
		}
	}
	man, ex, err := transcript.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if man.Family != "kepware" || len(ex) < 8 {
		t.Fatalf("manifest %+v, %d exchanges", man, len(ex))
	}
	rp := transcript.NewReplay(ex)
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndex(srv.URL, ":")+1:])
	replay := kepware.New(kepware.Options{Options: access.Options{Host: "127.0.0.1", Ports: map[string]int{kepware.SvcConfigHTTP: port},
		User: "Administrator", Password: "any", Timeout: 2 * time.Second, Since: o.Since}, UseHTTP: true, Now: clock})
	defer replay.Close(context.Background())
	got, err := replay.Read(context.Background())
	if err != nil {
		t.Fatalf("replay: %v (mismatches %v)", err, rp.Mismatches())
	}
	if m := rp.Mismatches(); len(m) > 0 {
		t.Errorf("requests the capture did not hold: %v", m)
	}
	for name, pair := range map[string][2]any{
		"identity": {live.Identity.Model + live.Identity.Firmware + live.ProductID, got.Identity.Model + got.Identity.Firmware + got.ProductID},
		"project":  {live.Project, got.Project}, "groups": {live.Groups, got.Groups}, "users": {live.Users, got.Users},
		"agents": {live.Agents, got.Agents}, "endpoints": {live.UAEndpoints, got.UAEndpoints}, "events": {live.Events, got.Events},
		"default user": {*live.DefaultUserBlank, *got.DefaultUserBlank}, "event log": {live.EventLog, got.EventLog},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s differs on replay:\n live %+v\n replay %+v", name, pair[0], pair[1])
		}
	}
}
