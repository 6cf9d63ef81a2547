package nport

import (
	"context"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/probe"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
)

// TestDerivedWaits checks the waits derived from a round trip: bounded
// below and by the timeout, growing with the round trip.
func TestDerivedWaits(t *testing.T) {
	for _, c := range []struct {
		rtt, timeout, snmp, poll, dial time.Duration
	}{
		{500 * time.Microsecond, 3 * time.Second, minSNMPWait, minPollEvery, minDialFor},
		{10 * time.Millisecond, 3 * time.Second, 200 * time.Millisecond, 100 * time.Millisecond, 80 * time.Millisecond},
		{100 * time.Millisecond, 3 * time.Second, 2 * time.Second, maxPollEvery, 800 * time.Millisecond},
		{time.Second, 3 * time.Second, 3 * time.Second, maxPollEvery, 3 * time.Second},
		{0, 1200 * time.Millisecond, minSNMPWait, 200 * time.Millisecond, 1200 * time.Millisecond},
	} {
		if got := snmpWait(c.rtt, c.timeout); got != c.snmp {
			t.Errorf("snmpWait(%s, %s) = %s, want %s", c.rtt, c.timeout, got, c.snmp)
		}
		if got := pollEvery(c.rtt, c.timeout); got != c.poll {
			t.Errorf("pollEvery(%s, %s) = %s, want %s", c.rtt, c.timeout, got, c.poll)
		}
		if got := dialFor(c.rtt, c.timeout); got != c.dial {
			t.Errorf("dialFor(%s, %s) = %s, want %s", c.rtt, c.timeout, got, c.dial)
		}
	}
	rt := newRoundTrip()
	rt.observe(time.Second) // one with a handshake
	if rt.recent() != 0 {
		t.Fatal("a wait derived from one round trip")
	}
	for _, d := range []time.Duration{3, 1, 7} {
		rt.observe(d * time.Millisecond)
	}
	if rt.get() != time.Millisecond || rt.recent() != 7*time.Millisecond {
		t.Fatalf("best %s recent %s", rt.get(), rt.recent())
	}
}

// TestReadChangedCommunitiesNoTimeoutWait_Simulator: with SNMP on and the
// communities changed, no ask is answered; the wait for them follows the
// round trip of what the device does answer, not the timeout (5 s here).
func TestReadChangedCommunitiesNoTimeoutWait_Simulator(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{}, "admin", "moxa")
	dev.Harden(simnport.HardenOptions{SNMPCommunities: [2]string{"Pl4nt-r3ad", "Pl4nt-wr1te"}})
	const timeout = 5 * time.Second
	d := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "tech", Password: "Str0ng!Passw0rd#",
		Pins: drv.o.Pins, Timeout: timeout}})
	defer d.Close(context.Background())
	start := time.Now()
	st, err := d.Read(context.Background())
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !st.SNMP.Enabled || st.SNMP.DefaultCommunities || st.Observed.Ports["snmp"].State != probe.Filtered {
		t.Fatalf("snmp %+v probe %+v", st.SNMP, st.Observed.Ports["snmp"])
	}
	if el >= timeout/2 {
		t.Fatalf("the read took %s, the timeout is %s: it waited for the unanswered asks", el, timeout)
	}
	t.Logf("read with changed communities: %s (timeout %s); %s", el, timeout, st.Observed.Ports["snmp"].Detail)
}

// TestRestartDetected_Simulator commits with the simulator's restart
// delay and reports how long after the device served again the driver
// was back in; the poll interval comes from the measured round trip.
func TestRestartDetected_Simulator(t *testing.T) {
	lag := restartLag(t, 300*time.Millisecond)
	t.Logf("back %s after the device served again", lag)
}

func restartLag(tb testing.TB, delay time.Duration) time.Duration {
	tb.Helper()
	dev, drv := startSim(tb, simnport.Config{RestartDelay: delay}, "admin", "moxa")
	ctx := context.Background()
	if _, err := drv.Read(ctx); err != nil {
		tb.Fatal(err)
	}
	if p := pollEvery(drv.rtt.get(), drv.o.Timeout); p > 100*time.Millisecond {
		tb.Fatalf("poll interval %s for a round trip of %s", p, drv.rtt.get())
	}
	var back time.Time
	n := dev.Restarts()
	if err := drv.Commit(ctx, func(s string) {
		if s == "device is back" {
			back = time.Now()
		}
	}); err != nil {
		tb.Fatal(err)
	}
	served := dev.ServingSince()
	if dev.Restarts() != n+1 || served.IsZero() || back.Before(served) {
		tb.Fatalf("restarts %d, served at %v, back at %v", dev.Restarts(), served, back)
	}
	return back.Sub(served)
}

// BenchmarkRestartDetect reports the time from the device serving again
// to the driver's new login (ms-after-serving), restart delay 200 ms.
func BenchmarkRestartDetect(b *testing.B) {
	var total time.Duration
	n := 0
	for b.Loop() {
		total += restartLag(b, 200*time.Millisecond)
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "ms-after-serving")
}
