package thingspro

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/transport"
)

func TestRoundTripMedian(t *testing.T) {
	var r roundTrip
	if got := r.get(); got != 0 {
		t.Fatalf("no round trip yet: %s, want 0", got)
	}
	r.observe(9 * time.Millisecond)
	r.observe(2 * time.Millisecond)
	if got := r.get(); got != 2*time.Millisecond {
		t.Errorf("two round trips: %s, want the shortest, 2ms", got)
	}
	r.observe(40 * time.Millisecond)
	r.observe(3 * time.Millisecond)
	if got := r.get(); got != 9*time.Millisecond {
		t.Errorf("2, 3, 9, 40ms: %s, want the median 9ms", got)
	}
	if got := scaled(r.get(), quirks.CertTryRTTs, quirks.CertTryMin, time.Second); got != min(max(time.Duration(quirks.CertTryRTTs)*9*time.Millisecond, quirks.CertTryMin), time.Second) {
		t.Errorf("try bound %s", got)
	}
}

// TestRoundTripMeasured_Simulator: every answered request of a Read is
// a round trip measured, so the waits Commit derives from them follow
// the gateway.
func TestRoundTripMeasured_Simulator(t *testing.T) {
	sim, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Trust(sim.Addr(simthingspro.PortHTTPS), transport.Fingerprint(sim.CertDER())); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := Connect(ctx, Options{Options: access.Options{Host: sim.Host(), User: "admin", Password: "admin@123", Pins: ps,
		Ports: sim.Ports(), Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	count := func() int {
		d.c.rtt.mu.Lock()
		defer d.c.rtt.mu.Unlock()
		return d.c.rtt.n
	}
	before := count()
	if before < 2 || d.c.rtt.get() <= 0 {
		t.Errorf("after the login: %d round trips, %s; want its connect and its request", before, d.c.rtt.get())
	}
	if _, err := d.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count() - before; n < 22 {
		t.Errorf("a Read of 22 requests measured %d round trips", n)
	}
	if rtt := d.c.rtt.get(); rtt <= 0 || rtt >= 2*time.Second {
		t.Errorf("round trip %s", rtt)
	}
}
