package kepware_test

import (
	"context"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/family"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	"github.com/commission-tool/commission/internal/transport"
)

// TestDemo_Simulator: Demo starts one server whose ports carry the
// family's service names, whose Administrator login works, and which
// Close stops.
func TestDemo_Simulator(t *testing.T) {
	devs, err := simkepware.Demo(family.DemoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 {
		t.Fatalf("%d devices, want 1", len(devs))
	}
	dd := devs[0]
	sim, ok := dd.Sim.(*simkepware.Device)
	if !ok || dd.Label != "Kepware Server (simulated)" || dd.Host != "127.0.0.1" || dd.User != "Administrator" ||
		dd.Password != simkepware.DefaultAdminPassword || dd.Close == nil {
		t.Fatalf("demo device %+v", dd)
	}
	names := slices.Sorted(maps.Keys(dd.Ports))
	want := []string{kepware.SvcConfigHTTP, kepware.SvcConfigHTTPS, kepware.SvcOPCUA, kepware.SvcRESTServer}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("ports named %v, want the family's %v", names, want)
	}
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	https := net.JoinHostPort(dd.Host, strconv.Itoa(dd.Ports[kepware.SvcConfigHTTPS]))
	if err := ps.Trust(https, sim.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := kepware.New(kepware.Options{Options: access.Options{Host: dd.Host, Ports: dd.Ports, User: dd.User,
		Password: dd.Password, Pins: ps, Timeout: 2 * time.Second}})
	if err := d.Open(ctx); err != nil {
		t.Errorf("the demo's login: %v", err)
	}
	d.Close(ctx)
	dd.Close()
	if c, err := net.DialTimeout("tcp", https, time.Second); err == nil {
		c.Close()
		t.Errorf("the server still answers on %s after Close", https)
	}
}
