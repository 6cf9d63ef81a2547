package thingspro_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/probe"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// BenchmarkCommit is a Commit with nothing staged that needs settling:
// it should cost no round trip at all.
func BenchmarkCommit(b *testing.B) {
	sim := startSim(b, simthingspro.Config{NoForcedChange: true})
	ctx := context.Background()
	d, err := thingspro.Connect(ctx, options(b, sim, "admin", "admin@123"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close(ctx)
	for b.Loop() {
		if err := d.Commit(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCommitWaitsOnNothing_Simulator: after a service is switched off
// Commit sends nothing, opens no connection and lets no time pass: it
// runs in a synctest bubble, whose clock moves only when Commit sleeps
// or waits on a timer, so a fixed settle, however short, shows as a
// clock that moved. The verifying read then sees the port closed.
func TestCommitWaitsOnNothing_Simulator(t *testing.T) {
	sim, d, buf := transcribed(t, simthingspro.Config{NoForcedChange: true})
	ctx := context.Background()
	from, err := d.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if from.Observed.Ports["http"].State != probe.Open {
		t.Fatalf("the HTTP port is %s before the change, want open", from.Observed.Ports["http"].State)
	}
	to := from.Clone()
	to.Services[thingspro.SvcHTTP] = false
	if err := d.Stage(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	sent, conns := buf.String(), sim.APIConnections()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var said []string
		if err := d.Commit(ctx, func(s string) { said = append(said, s) }); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("Commit waited %s with nothing to settle", waited)
		}
		if len(said) != 1 || !strings.Contains(said[0], "at once") {
			t.Errorf("Commit said %q", said)
		}
	})
	if got := buf.String(); got != sent {
		t.Errorf("Commit sent requests:\n%s", strings.TrimPrefix(got, sent))
	}
	if n := sim.APIConnections(); n != conns {
		t.Errorf("Commit opened %d connections that carried a request", n-conns)
	}
	after, err := d.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Services[thingspro.SvcHTTP] || after.Observed.Ports["http"].State == probe.Open {
		t.Errorf("after commit: HTTP service %t, port %s; want off and not open", after.Services[thingspro.SvcHTTP], after.Observed.Ports["http"].State)
	}
}

// stageCert imports a plant certificate for the simulator's address.
func stageCert(t *testing.T, sim *simthingspro.Device, d *thingspro.Driver) thingspro.State {
	t.Helper()
	ctx := context.Background()
	ca, err := sim.PlantCA()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("gateway-01", simthingspro.IssueOptions{Hosts: []string{sim.Host()}})
	if err != nil {
		t.Fatal(err)
	}
	from, err := d.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.NewCert = &thingspro.CertImport{CertPEM: certPEM, KeyPEM: keyPEM}
	if err := d.Stage(ctx, from, to); err != nil {
		t.Fatalf("stage the certificate: %v", err)
	}
	return to
}

// TestCommitWaitsForImportedCert_Simulator: a gateway that keeps its old
// certificate on the HTTPS port for a few handshakes after answering the
// import: Commit returns once the port presents the new one, so the
// verifying read, which pins it, is not refused.
func TestCommitWaitsForImportedCert_Simulator(t *testing.T) {
	sim := startSim(t, simthingspro.Config{NoForcedChange: true, CertSwapLate: 3})
	ctx := context.Background()
	d, err := thingspro.Connect(ctx, options(t, sim, "admin", "admin@123"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	stageCert(t, sim, d)
	var said []string
	if err := d.Commit(ctx, func(s string) { said = append(said, s) }); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if len(said) != 1 || !strings.Contains(said[0], "imported certificate") {
		t.Errorf("Commit said %q", said)
	}
	st, err := d.Read(ctx)
	if err != nil {
		t.Fatalf("the read after the commit: %v", err)
	}
	if c := st.Observed.TLS.Cert; c == nil || !strings.Contains(c.Issuer, "Example Plant") {
		t.Errorf("served certificate after the commit: %+v", c)
	}
}

// TestCommitCertNeverShown_Simulator: a gateway that never shows the
// imported certificate: Commit gives up within its bound and says why.
func TestCommitCertNeverShown_Simulator(t *testing.T) {
	sim := startSim(t, simthingspro.Config{NoForcedChange: true, CertSwapLate: 1 << 30})
	ctx := context.Background()
	o := options(t, sim, "admin", "admin@123")
	o.Timeout = 500 * time.Millisecond
	d, err := thingspro.Connect(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	stageCert(t, sim, d)
	err = d.Commit(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "still presents the certificate it had before the import") {
		t.Fatalf("commit: %v, want the old certificate named", err)
	}
}
