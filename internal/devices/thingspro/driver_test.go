package thingspro_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/probe"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/transport"
)

const newPW = "Gateway-Setup-2024!"

func startSim(t testing.TB, cfg simthingspro.Config) *simthingspro.Device {
	t.Helper()
	d, err := simthingspro.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// pins returns a pin store that trusts the simulator's current certificate.
func pins(t testing.TB, sim *simthingspro.Device) *transport.PinStore {
	t.Helper()
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Trust(sim.Addr(simthingspro.PortHTTPS), transport.Fingerprint(sim.CertDER())); err != nil {
		t.Fatal(err)
	}
	return ps
}

func options(t testing.TB, sim *simthingspro.Device, user, pw string) thingspro.Options {
	return thingspro.Options{Options: access.Options{Host: sim.Host(), User: user, Password: pw, NewPassword: newPW, Pins: pins(t, sim),
		Ports: sim.Ports(), Timeout: 2 * time.Second}}
}

// transcribed starts a simulated gateway with cfg and connects to it as
// admin; the driver's transcript goes into the buffer returned.
func transcribed(t *testing.T, cfg simthingspro.Config) (*simthingspro.Device, *thingspro.Driver, *syncBuffer) {
	t.Helper()
	sim := startSim(t, cfg)
	buf := &syncBuffer{}
	o := options(t, sim, "admin", "admin@123")
	o.Transcript = buf
	ctx := context.Background()
	d, err := thingspro.Connect(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(ctx) })
	return sim, d, buf
}

func TestConnectForcedChangeAndRead(t *testing.T) {
	sim := startSim(t, simthingspro.Config{})
	ctx := context.Background()
	o := options(t, sim, "admin", "admin@123")
	o.NewPassword = ""
	if _, err := thingspro.Connect(ctx, o); !errors.Is(err, thingspro.ErrPasswordMustChange) {
		t.Fatalf("first login without a new password: %v, want ErrPasswordMustChange", err)
	}
	o.NewPassword = newPW
	d, err := thingspro.Connect(ctx, o)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer d.Close(context.Background())
	s, err := d.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if s.Identity.Model != "AIG-301-T-AZU-LTE" || !strings.Contains(s.Identity.Firmware, "2.6.0") || s.Identity.Serial == "" {
		t.Errorf("identity = %+v", s.Identity)
	}
	admin, ok := s.UserByName("admin")
	if !ok || !admin.Admin() || !admin.PasswordChanged {
		t.Errorf("admin = %+v (found %t), want an administrator with a changed password", admin, ok)
	}
	if s.DefaultLogin == nil || *s.DefaultLogin {
		t.Errorf("DefaultLogin = %v, want false after the forced change", s.DefaultLogin)
	}
	if !s.Services[thingspro.SvcHTTP] || !s.Services[thingspro.SvcLocalConsole] || s.Services[thingspro.SvcSSH] || !s.Services[thingspro.SvcNAT] {
		t.Errorf("services = %v", s.Services)
	}
	if s.Observed.Ports["https"].State != probe.Open || s.Observed.Ports["ssh"].State == probe.Open {
		t.Errorf("probes = %+v", s.Observed.Ports)
	}
	if s.Observed.TLS.Cert == nil || !strings.Contains(s.Observed.TLS.Cert.Issuer, "ThingsPro Edge Root CA") {
		t.Errorf("TLS cert = %+v", s.Observed.TLS.Cert)
	}
	if got := s.Observed.TLS.FromSession; len(got) == 0 || !s.Observed.TLS.Versions[got[len(got)-1]] {
		t.Errorf("TLS FromSession %v, versions %v: the API connection's version should be taken as seen", got, s.Observed.TLS.Versions)
	}
	if len(s.Firewall) != 1 || s.Log.SystemMB != 100 || s.Log.EventMB != 100 {
		t.Errorf("firewall %+v log %+v", s.Firewall, s.Log)
	}
	if s.ManagementInterface() < 0 || s.Interfaces[s.ManagementInterface()].Name != "LAN1" {
		t.Errorf("management interface not found in %+v (gateway %s)", s.Interfaces, s.GatewayAddr)
	}
	if !s.ClientAddr.IsLoopback() {
		t.Errorf("client addr %s", s.ClientAddr)
	}
	// the old password no longer works; the new one does
	o2 := options(t, sim, "admin", "admin@123")
	if _, err := thingspro.Connect(ctx, o2); !errors.Is(err, thingspro.ErrBadLogin) {
		t.Errorf("old password: %v, want ErrBadLogin", err)
	}
}

func TestLockout(t *testing.T) {
	sim := startSim(t, simthingspro.Config{LockoutThreshold: 3})
	ctx := context.Background()
	o := options(t, sim, "admin", "wrong-password")
	var err error
	for i := 0; i < 3; i++ {
		_, err = thingspro.Connect(ctx, o)
	}
	if !errors.Is(err, thingspro.ErrLockedOut) || !strings.Contains(err.Error(), "423") {
		t.Fatalf("third wrong password: %v, want ErrLockedOut", err)
	}
	o.Password = "admin@123" // right password, still locked
	if _, err = thingspro.Connect(ctx, o); !errors.Is(err, thingspro.ErrLockedOut) {
		t.Errorf("right password while locked: %v, want ErrLockedOut", err)
	}
}

func TestUnreachableAndUnpinned(t *testing.T) {
	sim := startSim(t, simthingspro.Config{})
	ctx := context.Background()
	o := options(t, sim, "admin", "admin@123")
	o.Pins, _ = transport.OpenPins(filepath.Join(t.TempDir(), "empty"))
	_, err := thingspro.Connect(ctx, o)
	var unknown *transport.UnknownFingerprintError
	if !errors.As(err, &unknown) {
		t.Errorf("unpinned: %v, want UnknownFingerprintError", err)
	}
	sim.Close()
	o = options(t, sim, "admin", "admin@123")
	_, err = thingspro.Connect(ctx, o)
	var ue *transport.UnreachableError
	if !errors.As(err, &ue) {
		t.Errorf("closed gateway: %v, want UnreachableError", err)
	}
}

func TestCertValidation(t *testing.T) {
	sim := startSim(t, simthingspro.Config{})
	ca, err := sim.PlantCA()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	gw := netip.MustParseAddr("127.0.0.1")
	good, goodKey, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{"127.0.0.1"}})
	_, otherKey, _ := ca.Issue("other", simthingspro.IssueOptions{Hosts: []string{"127.0.0.1"}})
	expired, expiredKey, _ := ca.Issue("old", simthingspro.IssueOptions{Hosts: []string{"127.0.0.1"}, NotAfter: now.Add(-time.Hour)})
	wrongSAN, wrongSANKey, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{"10.0.0.9"}})

	p, err := thingspro.ParseCertKey(good, goodKey, now)
	if err != nil || p.CoversAddress(gw) != nil {
		t.Fatalf("good pair: %v / %v", err, p.CoversAddress(gw))
	}
	cases := []struct {
		name, cert, key, want string
	}{
		{"mismatch", good, otherKey, "do not match"},
		{"expired", expired, expiredKey, "expired"},
		{"not pem", "hello", goodKey, "not PEM"},
	}
	for _, c := range cases {
		_, err := thingspro.ParseCertKey(c.cert, c.key, now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----\n") {
			t.Errorf("%s: error shows the key", c.name)
		}
	}
	p, err = thingspro.ParseCertKey(wrongSAN, wrongSANKey, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CoversAddress(gw); err == nil || !strings.Contains(err.Error(), "do not include the gateway's address 127.0.0.1") {
		t.Errorf("wrong SAN: %v", err)
	}
	sha1Cert, sha1Key, err := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{"127.0.0.1"}, SHA1: true})
	if err != nil {
		t.Skipf("this Go refuses to create SHA-1 certificates: %v", err)
	}
	if _, err := thingspro.ParseCertKey(sha1Cert, sha1Key, now); err == nil || !strings.Contains(err.Error(), "SHA1") {
		t.Errorf("sha1: %v", err)
	}
}

func BenchmarkRead(b *testing.B) {
	sim := startSim(b, simthingspro.Config{NoForcedChange: true})
	ctx := context.Background()
	d, err := thingspro.Connect(ctx, options(b, sim, "admin", "admin@123"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close(context.Background())
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// readPaths is the order of the API requests of one Read, as the
// transcript must list them whatever order the replies come in.
var readPaths = []string{"/device/general", "/roles", "/users", "/system/services", "/system/serialconsole", "/system/sshserver",
	"/system/discovery", "/device/firewall/user/snat", "/system/httpserver", "/device/time", "/device/ethernets", "/device/cellulars",
	"/device/dhcpservers", "/device/wifi", "/device/firewall/inbounds", "/system/log", "/events/configuration",
	"/azure-device", "/azure-iotedge", "/aws", "/mqtt", "/sparkplug/brokers"}

// TestReadOrderedAndReused_Simulator: a Read sends its requests in
// parallel, yet its transcript lists them in one fixed order, the same
// every time; and the client keeps its connections: three Reads, 66
// requests, take no more connections (and TLS handshakes) than the
// requests one Read has in flight at once, at most 8.
func TestReadOrderedAndReused_Simulator(t *testing.T) {
	sim, d, buf := transcribed(t, simthingspro.Config{NoForcedChange: true})
	ctx := context.Background()
	var first []string
	for i := range 3 {
		start := len(buf.String())
		if _, err := d.Read(ctx); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()[start:]), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				t.Fatalf("transcript line %q", l)
			}
			paths = append(paths, f[1])
		}
		if i == 0 {
			first = paths
			if strings.Join(paths, " ") != strings.Join(readPaths, " ") {
				t.Errorf("read %d sent, as the transcript says:\n%v\nwant:\n%v", i, paths, readPaths)
			}
			continue
		}
		if strings.Join(paths, " ") != strings.Join(first, " ") {
			t.Errorf("read %d's transcript differs from the first:\n%v\n%v", i, paths, first)
		}
	}
	if n := sim.APIConnections(); n < 1 || n > 8 {
		t.Errorf("the login and three reads took %d connections, want 1 to 8", n)
	}
}
