package thingspro_test

import (
	"context"
	"errors"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/family"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/transport"
)

// TestDemo_Simulator: Demo starts one gateway whose ports carry the
// family's service names, whose login works (with the forced change
// unless FirstLoginDone), and which Close stops.
func TestDemo_Simulator(t *testing.T) {
	for _, done := range []bool{false, true} {
		devs, err := simthingspro.Demo(family.DemoConfig{FirstLoginDone: done})
		if err != nil {
			t.Fatal(err)
		}
		if len(devs) != 1 {
			t.Fatalf("%d devices, want 1", len(devs))
		}
		dd := devs[0]
		sim, ok := dd.Sim.(*simthingspro.Device)
		if !ok || dd.Label != "ThingsPro Edge (simulated)" || dd.Host != "127.0.0.1" || dd.User != "admin" || dd.Close == nil {
			t.Fatalf("demo device %+v", dd)
		}
		names := slices.Sorted(maps.Keys(dd.Ports))
		if want := slices.Sorted(maps.Keys(thingspro.DefaultPorts)); !slices.Equal(names, want) {
			t.Errorf("ports named %v, want the family's %v", names, want)
		}
		ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
		if err != nil {
			t.Fatal(err)
		}
		https := net.JoinHostPort(dd.Host, strconv.Itoa(dd.Ports["https"]))
		if err := ps.Trust(https, transport.Fingerprint(sim.CertDER())); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		d, err := thingspro.Connect(ctx, thingspro.Options{Options: access.Options{Host: dd.Host, Ports: dd.Ports,
			User: dd.User, Password: dd.Password, Pins: ps, Timeout: 2 * time.Second}})
		switch {
		case done && err != nil:
			t.Errorf("FirstLoginDone: the demo's login: %v", err)
		case !done && !errors.Is(err, thingspro.ErrPasswordMustChange):
			t.Errorf("factory gateway: the demo's login gave %v, want the forced change", err)
		}
		if d != nil {
			d.Close(ctx)
		}
		dd.Close()
		if c, err := net.DialTimeout("tcp", https, time.Second); err == nil {
			c.Close()
			t.Errorf("the gateway still answers on %s after Close", https)
		}
	}
}
