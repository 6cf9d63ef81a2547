package nport

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// TestFamilyDescriptor: every field of the descriptor is set, and its
// guide, timing and services are the catalog's and the driver's.
func TestFamilyDescriptor(t *testing.T) {
	f := Family
	if f.Name != "nport" || f.Label != "Moxa NPort 5000" || f.Main != "https" {
		t.Errorf("name %q, label %q, main %q", f.Name, f.Label, f.Main)
	}
	if f.Guide == nil || f.Open == nil || f.Recheck == nil || f.Capture == nil || f.Timing == nil || f.Discovery == nil ||
		f.Discovery.Find == nil || f.Discovery.Sends == "" || f.Discovery.Port != 4800 {
		t.Fatalf("a field of the descriptor is missing: %+v", f)
	}
	ft := f.Timing()
	if ft.Apply == "" || ft.Restart == "" || ft.Delete == "" {
		t.Errorf("timing %+v: apply, restart and delete are all needed", ft)
	}
	if tm := Timing(); ft.Apply != tm.Apply || ft.Restart != tm.Restart || ft.Delete != tm.Delete {
		t.Errorf("timing %+v is not steps.toml's %+v", ft, tm)
	}
	metas, title := f.Guide()
	cat := Catalog()
	if title != cat.Guide || len(metas) != len(cat.Steps) {
		t.Fatalf("guide %q with %d steps, want %q with %d", title, len(metas), cat.Guide, len(cat.Steps))
	}
	for i, m := range metas {
		if m.ID != cat.Steps[i].ID || !reflect.DeepEqual(m.SRs, cat.Steps[i].SRs) {
			t.Errorf("guide step %d: %s, want %s", i, m.ID, cat.Steps[i].ID)
		}
	}
	if !strings.Contains(f.Discovery.Sends, "4800") || !strings.Contains(f.Discovery.Sends, "8 bytes") {
		t.Errorf("sends %q does not say what goes out", f.Discovery.Sends)
	}
	// every service the main port and the probes use is one --port accepts
	for _, s := range append([]string{f.Main}, "moxa-udp", "moxa-tcp", "moxa-tcp2", "snmp", "telnet", "http",
		"realcom-data-N", "realcom-cmd-N", "tcp-server-N", "udp-data-N") {
		found := false
		for _, n := range f.Services {
			found = found || n == s
		}
		if !found {
			t.Errorf("service %q is not in %v", s, f.Services)
		}
	}
}

// TestFamilyOpenSendsNothingUntilOpen: Family.Open only builds the
// session; the session's Open is what connects. The first connection the
// listener accepts after Family.Open returns is the test's own marker
// connection, so Family.Open did not dial; the session's Open then dials.
func TestFamilyOpenSendsNothingUntilOpen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	o := access.Options{Host: "127.0.0.1", Ports: map[string]int{"https": port, "http": port}, User: "admin", Password: "moxa",
		Pins: pins, Timeout: 300 * time.Millisecond}
	s, err := Family.Open(o, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if s.Family() != "nport" || len(s.Steps()) != len(Catalog().Steps) {
		t.Fatalf("session of %q with %d steps", s.Family(), len(s.Steps()))
	}
	marker, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	if _, err := marker.Write([]byte{'M'}); err != nil {
		t.Fatal(err)
	}
	first := <-accepted
	defer first.Close()
	buf := make([]byte, 1)
	if err := first.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Read(buf); err != nil || buf[0] != 'M' {
		t.Fatalf("the first connection after Family.Open is not the marker (%q, %v): Family.Open dialed the device", buf, err)
	}
	// the session's Open dials (and fails against a device that never answers)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Open(ctx); err == nil {
		t.Fatal("the session opened against a listener that never answers")
	}
	select {
	case c, ok := <-accepted:
		if !ok {
			t.Fatal("the listener closed")
		}
		c.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("the session's Open did not connect to the device")
	}
}

// TestFamilyRecheckAgreesWithTheSession_Simulator: the descriptor's
// Recheck run on a session's observations gives the findings the session
// recorded; the observations hold no secret, even with a new password
// staged; observations of another shape are refused.
func TestFamilyRecheckAgreesWithTheSession_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	s, _ := session(t, d, "admin", "moxa")
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	id := "nport.3.2.default-admin"
	if _, err := s.Plan(id, hardenInputs[id]); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Observations()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{adminPw, `"moxa"`} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the observations hold a secret (%s)", secret)
		}
	}
	found, err := Family.Recheck(raw)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range s.Results() {
		f := r.After
		if f == nil {
			f = r.Before
		}
		if r.Meta.Kind != steps.Automatic || f == nil {
			continue
		}
		got, ok := found[r.StepID]
		if !ok || got.Compliant != f.Compliant || got.Applicable != f.Applicable || got.Observed != f.Observed {
			t.Errorf("%s: recorded %+v, recomputed %+v", r.StepID, *f, got)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d steps compared", n)
	}
	for _, bad := range []string{`{"console":{"telnet":false},"injected":1}`, `[]`} {
		if _, err := Family.Recheck(json.RawMessage(bad)); err == nil {
			t.Errorf("observations %s were accepted", bad)
		}
	}
}

// TestFamilyCaptureAndDiscovery_Simulator: the descriptor's capture walks
// the simulator into a transcript and sums it up; its discovery finds the
// simulator at the loopback address it is given.
func TestFamilyCaptureAndDiscovery_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	rec := transcript.NewRecorder()
	ctx := context.Background()
	sum, err := Family.Capture(ctx, access.Options{Host: d.Host(), Ports: d.Ports(), User: "admin", Password: "moxa",
		Pins: trustingPins(t, d), Timeout: 2 * time.Second}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum, "NPort") || !strings.Contains(sum, "console generation") || len(rec.Exchanges()) == 0 {
		t.Errorf("summary %q, %d exchanges", sum, len(rec.Exchanges()))
	}
	target := d.Addr(simnport.SvcMoxaUDP)
	for _, from := range []string{"", d.Host()} {
		found, err := Family.Discovery.Find(ctx, from, []string{target}, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].Address != d.Host() || found[0].Label == "" ||
			!strings.Contains(found[0].Detail, "found over UDP 4800 via "+target) {
			t.Fatalf("from %q: found %+v", from, found)
		}
	}
	// the request leaves from the local address given
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := Family.Discovery.Find(ctx, "127.0.0.3", []string{pc.LocalAddr().String()}, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, src, err := pc.ReadFrom(buf)
	if err != nil || n != 8 {
		t.Fatalf("the discovery request: %d bytes, %v", n, err)
	}
	if ip := src.(*net.UDPAddr).IP.String(); ip != "127.0.0.3" {
		t.Errorf("the request came from %s, want 127.0.0.3", ip)
	}
}
