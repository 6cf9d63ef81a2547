package nport

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/commission-tool/commission/internal/probe"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transport"
)

// startSim starts a simulator and returns a driver for it whose HTTPS pin
// is already trusted.
func startSim(tb testing.TB, cfg simnport.Config, user, pw string) (*simnport.Device, *Driver) {
	tb.Helper()
	if cfg.RestartDelay == 0 {
		cfg.RestartDelay = 100 * time.Millisecond
	}
	dev, err := simnport.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dev.Close() })
	pins, err := transport.OpenPins(filepath.Join(tb.TempDir(), "known_devices"))
	if err != nil {
		tb.Fatal(err)
	}
	drv := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: user, Password: pw, Pins: pins, Timeout: time.Second}, RestartWait: 10 * time.Second})
	// trust on first use, as the wizard does after asking
	_, err = drv.Read(context.Background())
	var tofu interface{ UnknownFingerprint() (string, string) }
	if !errors.As(err, &tofu) {
		tb.Fatalf("first read: want an unknown fingerprint, got %v", err)
	}
	if err := pins.Trust(tofu.UnknownFingerprint()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { drv.Close(context.Background()) })
	return dev, drv
}

func TestReadFactoryDefaults(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) { testReadFactoryDefaults(t, g) })
	}
}

func testReadFactoryDefaults(t *testing.T, g simnport.Generation) {
	_, drv := startSim(t, simnport.Config{Generation: g}, "admin", "moxa")
	st, err := drv.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Generation != string(g) {
		t.Errorf("generation %q, want %q", st.Generation, g)
	}
	if !st.Time.NoServer || st.Time.Zone == "" {
		t.Errorf("the 5150A has no Time server row: %+v", st.Time)
	}
	if g == simnport.GenSec && !st.DefaultPasswordNag {
		t.Error("the default-password nag was not seen")
	}
	if st.Via != "https" || !st.HTTPSProven || st.User != "admin" || !st.ClientAddr.IsLoopback() {
		t.Errorf("via %q proven %v user %q client %v", st.Via, st.HTTPSProven, st.User, st.ClientAddr)
	}
	id := st.Identity
	if id.Family != "nport" || id.Model != "NPort 5150A" || id.Firmware != "1.6 Build 21051010" || id.MAC == "" || id.Serial != "6621" {
		t.Errorf("identity %+v", id)
	}
	if !strings.Contains(strings.Join(id.Sources, ","), "web,udp4800") {
		t.Errorf("sources %v", id.Sources)
	}
	if !st.Console.HTTP || !st.Console.HTTPS || !st.Console.MoxaService || st.Console.Telnet {
		t.Errorf("console %+v", st.Console)
	}
	if !st.SNMP.Enabled || st.Policy.MinLength != 4 || st.AccessList.Enabled {
		t.Errorf("snmp %+v policy %+v acl %+v", st.SNMP, st.Policy, st.AccessList)
	}
	if a, ok := st.Account("admin"); !ok || !a.Active || !a.Admin {
		t.Errorf("accounts %+v", st.Accounts)
	}
	if len(st.Ports) != 1 || st.Ports[0].Mode != "Real COM" {
		t.Errorf("ports %+v", st.Ports)
	}
	if st.DefaultLogin == nil || !*st.DefaultLogin {
		t.Errorf("default login %v", st.DefaultLogin)
	}
	if len(st.LogEvents) != 4 {
		t.Errorf("log events %v", st.LogEvents)
	}
	if len(st.LogLines) == 0 || !strings.Contains(st.LogLines[len(st.LogLines)-1], "Login Success") {
		t.Errorf("log lines %q", st.LogLines)
	}
	for _, svc := range []string{"http", "https", "moxa-udp"} {
		if st.Observed.Ports[svc].State != probe.Open {
			t.Errorf("%s probe: %+v", svc, st.Observed.Ports[svc])
		}
	}
	if st.Observed.Ports["telnet"].State != probe.Closed {
		t.Errorf("telnet probe %+v", st.Observed.Ports["telnet"])
	}
	// the login's HTTPS connection (TLS 1.2 chosen of 1.2-1.3) answered
	// for 1.2 and 1.3; only the older versions were probed
	if got := strings.Join(st.Observed.TLS.FromSession, ","); got != probe.TLS13+","+probe.TLS12 || !st.Observed.TLS.Versions[probe.TLS12] || st.Observed.TLS.Versions[probe.TLS13] {
		t.Errorf("TLS FromSession %q, versions %v: want 1.3 and 1.2 from the session, 1.2 accepted", got, st.Observed.TLS.Versions)
	}
	if st.Observed.DSCILeak {
		t.Error("non-vulnerable device leaks")
	}
	if !st.SNMP.DefaultCommunities || !strings.Contains(strings.Join(id.Sources, ","), "snmp") || st.Observed.Ports["snmp"].State != probe.Open {
		t.Errorf("snmp: default %v sources %v probe %+v", st.SNMP.DefaultCommunities, id.Sources, st.Observed.Ports["snmp"])
	}
}

func TestReadVulnerableLeaks(t *testing.T) {
	_, drv := startSim(t, simnport.Config{Vulnerable: true}, "admin", "moxa")
	st, err := drv.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Observed.DSCILeak {
		t.Fatal("vulnerable device: no leak seen")
	}
}

func TestStageCommitConsole(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) { testStageCommitConsole(t, g) })
	}
}

func testStageCommitConsole(t *testing.T, g simnport.Generation) {
	dev, drv := startSim(t, simnport.Config{Generation: g}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.Console.HTTP = false
	to.Console.MoxaService = false
	to.Policy.MinLength = 8
	to.Accounts = append(to.Accounts, Account{Name: "tech", Active: true, Admin: true})
	to.Secrets = map[string]string{"tech": "Str0ng!Passw0rd#"}
	var tr strings.Builder
	drv.o.Transcript = &tr // used from the next login on
	drv.drop()
	if err := drv.Stage(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	mid, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mid.Console.HTTP || mid.Policy.MinLength != 8 || mid.Observed.Ports["http"].State != probe.Open {
		t.Fatalf("staged: console %+v policy %d http %v", mid.Console, mid.Policy.MinLength, mid.Observed.Ports["http"].State)
	}
	if dev.Restarts() != 0 {
		t.Fatal("Stage restarted the device")
	}
	var lines []string
	if err := drv.Commit(ctx, func(s string) { lines = append(lines, s) }); err != nil {
		t.Fatalf("commit: %v (progress %q)", err, lines)
	}
	if dev.Restarts() != 1 {
		t.Fatalf("restarts = %d", dev.Restarts())
	}
	if !strings.Contains(tr.String(), "POST / -> 200 form:") || strings.Contains(tr.String(), "Passw0rd") ||
		!strings.Contains(tr.String(), "/account_add.htm -> 200 form:") || !strings.Contains(tr.String(), "GET /console.htm") && !strings.Contains(tr.String(), "GET /Set.htm?") {
		t.Fatalf("transcript %q", tr.String())
	}
	if lines[0] != "saving and restarting" || lines[len(lines)-1] != "logged in as tech" {
		t.Fatalf("progress %q", lines)
	}
	after, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Observed.Ports["http"].State != probe.Closed || after.Console.HTTP {
		t.Fatalf("after commit: http %+v", after.Observed.Ports["http"])
	}
	if after.Observed.Ports["moxa-udp"].State == probe.Open || after.User != "tech" {
		t.Fatalf("after commit: moxa-udp %+v user %q", after.Observed.Ports["moxa-udp"], after.User)
	}
	if !strings.Contains(strings.Join(after.ProvenUsers, ","), "tech") {
		t.Fatalf("proven %v", after.ProvenUsers)
	}
	if after.DefaultLogin == nil || !*after.DefaultLogin {
		t.Fatalf("admin/moxa still works, DefaultLogin = %v", after.DefaultLogin)
	}
	if a, ok := after.Account("tech"); !ok || !a.Admin || !a.Active {
		t.Fatalf("accounts %+v", after.Accounts)
	}
}

func TestWrongPasswordAndLockout(t *testing.T) {
	dev, _ := startSim(t, simnport.Config{}, "admin", "moxa")
	dev.Harden(simnport.HardenOptions{})
	ctx := context.Background()
	bad := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "tech", Password: "wrong", Timeout: time.Second}})
	defer bad.Close(ctx)
	// hardened: HTTPS only; the pin store is empty, so trust it first
	pins, _ := transport.OpenPins(filepath.Join(t.TempDir(), "k"))
	bad.o.Pins = pins
	_, err := bad.Read(ctx)
	var tofu interface{ UnknownFingerprint() (string, string) }
	if !errors.As(err, &tofu) {
		t.Fatalf("want unknown fingerprint, got %v", err)
	}
	pins.Trust(tofu.UnknownFingerprint())
	for i := 0; i < 5; i++ {
		_, err = bad.Read(ctx)
		if i < 4 && !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("5th try: %v", err)
	}
	if !strings.Contains(ErrWrongPassword.Error(), "check the user name and password") {
		t.Fatal(ErrWrongPassword)
	}
	good := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "tech", Password: "Str0ng!Passw0rd#", Pins: pins, Timeout: time.Second}})
	defer good.Close(ctx)
	if _, err := good.Read(ctx); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("after 5 failures: %v", err)
	}
}

func TestDroppedSubmitIsAnError(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.Console.Telnet = true
	// many drops: the HTTP client itself resends a GET that failed on a
	// reused connection (once per idle connection); the driver must still
	// report the failure
	dev.DropNextSubmits(8)
	err = drv.Stage(ctx, from, to)
	if err == nil || !strings.Contains(err.Error(), quirks.MenuConsole) {
		t.Fatalf("dropped submit: %v", err)
	}
	// a retry goes through once the drops are spent
	for range 10 {
		if err = drv.Stage(ctx, from, to); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !dev.Saved().Console.Telnet {
		t.Fatal("the staged change is not saved")
	}
}

func TestRejectedSubmitCarriesDeviceMessage(t *testing.T) {
	_, drv := startSim(t, simnport.Config{}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.Console = Console{} // every console off: the device refuses
	err = drv.Stage(ctx, from, to)
	var de *DeviceError
	if !errors.As(err, &de) || de.Page != quirks.MenuConsole || !strings.Contains(de.Message, "console") {
		t.Fatalf("got %v", err)
	}
}

func TestBannerAndDiscover(t *testing.T) {
	dev, _ := startSim(t, simnport.Config{Telnet: true}, "admin", "moxa")
	ctx := context.Background()
	model, fw, err := Banner(ctx, dev.Addr("telnet"), time.Second)
	if err != nil || model != "NPort 5150A" || fw != "1.6 Build 21051010" {
		t.Fatalf("banner %q %q %v", model, fw, err)
	}
	found, err := Discover(ctx, []string{dev.Addr("moxa-udp")}, 300*time.Millisecond)
	if err != nil || len(found) != 1 || found[0].IP == "" || !strings.HasPrefix(strings.ToUpper(found[0].MAC), "00:90:E8") {
		t.Fatalf("discover %+v %v", found, err)
	}
}

func TestUnreachableFailsWithinTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accepts and never answers
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	drv := New(Options{Options: access.Options{Host: "127.0.0.1", Ports: map[string]int{"https": port}, User: "admin", Password: "moxa", Timeout: 200 * time.Millisecond}})
	start := time.Now()
	_, err = drv.Read(context.Background())
	var ue *transport.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %s", el)
	}
}

func BenchmarkRead(b *testing.B) {
	_, drv := startSim(b, simnport.Config{}, "admin", "moxa")
	ctx := context.Background()
	if _, err := drv.Read(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := drv.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTimeServerRowOnOtherSeries(t *testing.T) {
	_, drv := startSim(t, simnport.Config{Model: "NPort 5410"}, "admin", "moxa")
	st, err := drv.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Time.NoServer {
		t.Fatal("the 5400 has a Time server row")
	}
}

func TestFailedLoginRecordKept_Simulator(t *testing.T) {
	dev, _ := startSim(t, simnport.Config{Generation: simnport.GenSec}, "admin", "moxa")
	ctx := context.Background()
	pins, _ := transport.OpenPins(filepath.Join(t.TempDir(), "k"))
	bad := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "wrong", Pins: pins, Timeout: time.Second}, HTTPSOnly: true})
	_, err := bad.Read(ctx)
	var tofu interface{ UnknownFingerprint() (string, string) }
	if !errors.As(err, &tofu) {
		t.Fatalf("want unknown fingerprint, got %v", err)
	}
	pins.Trust(tofu.UnknownFingerprint())
	if _, err := bad.Read(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	n := dev.FailedLogins()
	if n == 0 {
		t.Fatal("the simulator kept no failure")
	}
	good := New(Options{Options: access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "moxa", Pins: pins, Timeout: time.Second}})
	defer good.Close(ctx)
	st, err := good.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.FailedLogins) == 0 || !strings.Contains(strings.Join(st.FailedLogins, "\n"), "admin") {
		t.Fatalf("failed logins not shown: %q", st.FailedLogins)
	}
	if dev.FailedLogins() != n {
		t.Fatal("the tool cleared the failure record")
	}
}

func TestLifecycleFromSharedOptions(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{}, "admin", "moxa")
	d := FromOptions(access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "moxa", Pins: drv.o.Pins, Timeout: time.Second})
	ctx := context.Background()
	if err := d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	bad := FromOptions(access.Options{Host: dev.Host(), Ports: dev.Ports(), User: "admin", Password: "nope", Pins: drv.o.Pins, Timeout: time.Second})
	if err := bad.Open(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("open with a wrong password: %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := bad.Close(done); err == nil {
		t.Fatal("close with an ended context reported success")
	}
}

// TestFactoryCommunityOverV1 turns v2c off on the agent: the factory
// community must still be found, over v1.
func TestFactoryCommunityOverV1(t *testing.T) {
	_, drv := startSim(t, simnport.Config{}, "admin", "moxa")
	ctx := context.Background()
	from, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.SNMP.V2, to.SNMP.V3 = false, false
	if err := drv.Stage(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	if err := drv.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	st, err := drv.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.SNMP.V2 || !st.SNMP.V1 || !st.SNMP.DefaultCommunities {
		t.Fatalf("v1 only: %+v", st.SNMP)
	}
}

// TestDSCICheckMadeWithServiceOff: with Moxa Service off the discovery
// gets no answer, and the community request is still sent.
func TestDSCICheckMadeWithServiceOff(t *testing.T) {
	dev, _ := startSim(t, simnport.Config{}, "admin", "moxa")
	info, err := readDSCI(context.Background(), dev.Addr("moxa-udp"), 200*time.Millisecond, nil, nil)
	if err != nil || !info.asked || info.leak {
		t.Fatalf("service on: %+v %v", info, err)
	}
	dev.Harden(simnport.HardenOptions{})
	info, err = readDSCI(context.Background(), dev.Addr("moxa-udp"), 200*time.Millisecond, nil, nil)
	if err == nil || !info.asked || info.leak {
		t.Fatalf("service off: %+v %v", info, err)
	}
}

// TestSessionExpiredPage: the security firmware answers a session it no
// longer knows with a "Session Expired" page; the driver logs in again.
func TestSessionExpiredPage(t *testing.T) {
	dev, drv := startSim(t, simnport.Config{Generation: simnport.GenSec}, "admin", "moxa")
	ctx := context.Background()
	if _, err := drv.Read(ctx); err != nil {
		t.Fatal(err)
	}
	dev.Harden(simnport.HardenOptions{AdminUser: "admin", AdminPassword: "moxa"}) // forgets every session
	_, err := drv.Read(ctx)
	if !errors.Is(err, errSessionEnded) {
		t.Fatalf("read on a forgotten session: %v", err)
	}
	if _, err := drv.Read(ctx); err != nil {
		t.Fatalf("the next read logs in again: %v", err)
	}
}
