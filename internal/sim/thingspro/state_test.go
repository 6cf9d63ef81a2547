package thingspro_test

import (
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/family"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/transport"
)

func startIn(t *testing.T, dir string) *simthingspro.Device {
	t.Helper()
	d, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
	if err != nil {
		t.Fatalf("start from %s: %v", dir, err)
	}
	return d
}

// TestStateDirResumes_Simulator: API writes (the forced password change,
// SSH turned on, a user added) survive Close and a start from the same
// folder, on the same ports with the same certificate: the driver,
// pinned on the first run, connects to the resumed gateway.
func TestStateDirResumes_Simulator(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gw")
	d := startIn(t, dir)
	ports, der := d.Ports(), d.CertDER()
	a := newAPI(t, d)
	if code := a.login("admin", "admin@123"); code != 200 {
		t.Fatalf("login %d", code)
	}
	if code, _ := a.call("PUT", "/users/me/password", map[string]string{"oldPassword": "admin@123", "newPassword": "Resumed-Pass-1"}); code != 200 {
		t.Fatalf("change: %d", code)
	}
	if code, _ := a.call("PUT", "/system/sshserver", map[string]any{"enable": true}); code != 200 {
		t.Fatalf("ssh on: %d", code)
	}
	if code, _ := a.call("POST", "/users", map[string]any{"name": "tech2", "password": "Tech-Pass-22", "isActive": true, "roles": []int{1}}); code != 200 {
		t.Fatalf("create user: %d", code)
	}
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pins.Trust(d.Addr(simthingspro.PortHTTPS), transport.Fingerprint(der)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Stat(filepath.Join(dir, simthingspro.StateFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	d2 := startIn(t, dir)
	defer d2.Close()
	if got := d2.Ports(); !maps.Equal(got, ports) {
		t.Errorf("ports %v, want %v", got, ports)
	}
	if transport.Fingerprint(d2.CertDER()) != transport.Fingerprint(der) {
		t.Error("the certificate changed across runs")
	}
	a2 := newAPI(t, d2)
	if code := a2.login("admin", "admin@123"); code != 401 {
		t.Errorf("the factory password after resume: %d, want 401", code)
	}
	if code := a2.login("tech2", "Tech-Pass-22"); code != 200 {
		t.Errorf("the added user after resume: %d", code)
	}
	if c, err := net.DialTimeout("tcp", d2.Addr(simthingspro.PortSSH), time.Second); err != nil {
		t.Errorf("SSH, turned on before, is closed after resume: %v", err)
	} else {
		c.Close()
	}
	ctx := context.Background()
	drv, err := thingspro.Connect(ctx, thingspro.Options{Options: access.Options{Host: d2.Host(), Ports: d2.Ports(),
		User: "admin", Password: "Resumed-Pass-1", Pins: pins, Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatalf("the driver, pinned on the first run, on the resumed gateway: %v", err)
	}
	drv.Close(ctx)
}

// TestStateDirCorrupt: a state file that is not the simulator's gives an
// error naming the file and the way to a fresh gateway.
func TestStateDirCorrupt(t *testing.T) {
	for name, content := range map[string]string{"not json": "[1,", "empty state": `{"format":1}`} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, simthingspro.StateFileName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
			if err == nil {
				d.Close()
				t.Fatal("started from a corrupt state file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "delete the folder "+dir) {
				t.Errorf("error %q does not name %s and the fix", err, path)
			}
		})
	}
}

// TestStateDirFreshAndPortTaken: an empty folder gives the factory
// gateway (forced change pending); once its port is taken by another
// program, the start from the folder fails naming port and folder.
func TestStateDirFreshAndPortTaken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "gw")
	d := startIn(t, dir)
	a := newAPI(t, d)
	if code := a.login("admin", "admin@123"); code != 200 {
		t.Fatalf("factory login %d", code)
	}
	if code, _ := a.call("GET", "/users", nil); code != 403 {
		t.Errorf("a fresh gateway does not force the change: GET /users %d", code)
	}
	port := d.Ports()[simthingspro.PortSSH] // off: its port must be free too
	d.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("hold the port: %v", err)
	}
	defer ln.Close()
	d2, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
	if err == nil {
		d2.Close()
		t.Fatal("started with its port taken")
	}
	for _, want := range []string{"port " + strconv.Itoa(port) + " (ssh)", "is taken", dir, "delete the folder"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestDemoStateDir_Simulator: the demo keeps its gateway in the
// thingspro subfolder and resumes it on the same ports; without a
// StateDir nothing is written.
func TestDemoStateDir_Simulator(t *testing.T) {
	dir := t.TempDir()
	devs, err := simthingspro.Demo(family.DemoConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ports := devs[0].Ports
	devs[0].Close()
	if _, err := os.Stat(filepath.Join(simthingspro.DemoStateDir(dir), simthingspro.StateFileName)); err != nil {
		t.Fatal(err)
	}
	devs, err = simthingspro.Demo(family.DemoConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer devs[0].Close()
	if !maps.Equal(devs[0].Ports, ports) {
		t.Errorf("ports %v, were %v", devs[0].Ports, ports)
	}

	cwd := t.TempDir()
	t.Chdir(cwd)
	plain, err := simthingspro.Demo(family.DemoConfig{FirstLoginDone: true})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, plain[0].Sim.(*simthingspro.Device))
	a.login("admin", "admin@123")
	if code, _ := a.call("PUT", "/system/sshserver", map[string]any{"enable": true}); code != 200 {
		t.Fatalf("ssh on: %d", code)
	}
	plain[0].Close()
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Errorf("a gateway without StateDir wrote %v", ents)
	}
}
