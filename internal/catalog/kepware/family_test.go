package kepware

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	device "github.com/commission-tool/commission/internal/devices/kepware"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// TestFamilyDescriptor: every field the contract requires is set, and
// set to this family's values.
func TestFamilyDescriptor(t *testing.T) {
	f := Family
	if f.Name != "kepware" || f.Label != "PTC Kepware" || f.Guide == nil || f.Open == nil || f.Recheck == nil || f.Capture == nil {
		t.Fatalf("incomplete descriptor %+v", f)
	}
	if f.Discovery != nil {
		t.Error("Kepware has no discovery")
	}
	want := []string{device.SvcConfigHTTPS, device.SvcConfigHTTP, device.SvcOPCUA, device.SvcRESTServer}
	if f.Main != device.SvcConfigHTTPS || !slices.Equal(f.Services, want) {
		t.Errorf("main %q, services %v", f.Main, f.Services)
	}
	tm := Timing()
	if f.Timing().Apply != tm.Apply || f.Timing().Restart != tm.Commit || f.Timing().Delete != tm.Delete || f.Timing().Apply == "" || f.Timing().Restart == "" || f.Timing().Delete == "" {
		t.Errorf("timing %+v", f.Timing())
	}
	metas, title := f.Guide()
	cat := Catalog()
	if title != cat.Guide || len(metas) != len(cat.Steps) {
		t.Fatalf("guide %q with %d steps", title, len(metas))
	}
	for i, m := range metas {
		if m.ID != cat.Steps[i].ID || m.Section != cat.Steps[i].Section || m.Title != cat.Steps[i].Title {
			t.Errorf("guide step %d: %s %s %q", i, m.ID, m.Section, m.Title)
		}
	}
}

// TestFamilyOpenDoesNoIO: Open builds the session without a connection;
// the session's own Open is what connects (the same listener sees it, so
// the first half can fail).
func TestFamilyOpenDoesNoIO(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]int{}
	for _, s := range Family.Services {
		ports[s] = port
	}
	o := access.Options{Host: "127.0.0.1", Ports: ports, User: "Administrator", Password: "not-used-here", Pins: pins, Timeout: 500 * time.Millisecond}
	sess, err := Family.Open(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Family() != "kepware" || len(sess.Steps()) != len(Catalog().Steps) {
		t.Errorf("session %s with %d steps", sess.Family(), len(sess.Steps()))
	}
	tl := l.(*net.TCPListener)
	if err := tl.SetDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if c, err := tl.Accept(); err == nil {
		c.Close()
		t.Fatal("Family.Open connected to the server")
	} else if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal(err)
	}
	if err := sess.Open(context.Background()); err == nil {
		t.Error("the session opened on a listener that never answers")
	}
	if err := tl.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c, err := tl.Accept()
	if err != nil {
		t.Fatalf("the session's Open did not connect either: %v", err)
	}
	c.Close()
	sess.Close()
}

// TestFamilyRecheck_Simulator: Recheck on a session's observations finds
// what the session found, and refuses observations of another shape.
func TestFamilyRecheck_Simulator(t *testing.T) {
	_, dev := startKepware(t, simkepware.Config{Edge: true})
	s := audit(t, dev)
	obs, err := s.Observations()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Family.Recheck(obs)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range s.Results() {
		if r.Before == nil {
			continue
		}
		n++
		if f, ok := got[r.StepID]; !ok || f.Compliant != r.Before.Compliant || f.Observed != r.Before.Observed {
			t.Errorf("%s: recheck %+v, session %+v", r.StepID, f, *r.Before)
		}
	}
	if n < 10 || len(got) != n {
		t.Errorf("%d findings rechecked, %d in the session", len(got), n)
	}
	if _, err := Family.Recheck(json.RawMessage(`{"no_such_field": true}`)); err == nil {
		t.Error("observations of another shape were accepted")
	}
}

// TestFamilyCapture_Simulator: the capture walk reads the server and
// sums it up without the password reaching the transcript.
func TestFamilyCapture_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{Edge: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	p := sim.Ports()
	if err := pins.Trust(net.JoinHostPort(sim.Host(), strconv.Itoa(p[simkepware.SvcConfigHTTPS])), sim.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	rec := transcript.NewRecorder()
	sum, err := Family.Capture(context.Background(), access.Options{Host: sim.Host(), Ports: p, User: "Administrator",
		Password: simkepware.DefaultAdminPassword, Pins: pins, Timeout: 2 * time.Second}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum, "Kepware Edge, version ") {
		t.Errorf("summary %q", sum)
	}
	ex := rec.Exchanges()
	if len(ex) == 0 {
		t.Fatal("nothing captured")
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), simkepware.DefaultAdminPassword) {
		t.Error("the password reached the transcript")
	}
}
