package nport

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/family"
)

// fingerprint is the SHA-256 of the certificate the HTTPS console serves.
func fingerprint(t *testing.T, d *Device) [32]byte {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", d.Addr(SvcHTTPS), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS to %s: %v", d.Addr(SvcHTTPS), err)
	}
	defer c.Close()
	return sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
}

func startIn(t *testing.T, dir string, delay time.Duration) *Device {
	t.Helper()
	d, err := Start(Config{StateDir: dir, RestartDelay: delay})
	if err != nil {
		t.Fatalf("start from %s: %v", dir, err)
	}
	return d
}

// TestStateDirResumes: a device with a StateDir, changed through its web
// console (a setting made effective by Save/Restart, another only saved,
// a password changed), comes back from the folder with the same ports,
// the same certificate and both changes where they were.
func TestStateDirResumes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	d := startIn(t, dir, 20*time.Millisecond)
	ports, fp := d.Ports(), fingerprint(t, d)
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	w.mustSubmit("/basic.htm", url.Values{"srvname": {"Line3-Gateway"}})
	w.saveRestart(d)
	w.login("admin", "moxa")
	w.mustSubmit("/notice.htm", url.Values{"msg_login": {"plant-ot"}})
	d.Close()

	fi, err := os.Stat(filepath.Join(dir, StateFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}

	d2 := startIn(t, dir, 20*time.Millisecond)
	defer d2.Close()
	if got := d2.Ports(); !mapsEqual(got, ports) {
		t.Errorf("ports %v, want %v", got, ports)
	}
	if fingerprint(t, d2) != fp {
		t.Error("the certificate changed across runs")
	}
	if e := d2.Effective(); e.ServerName != "Line3-Gateway" || e.LoginMessage != "" {
		t.Errorf("effective: server name %q, login message %q", e.ServerName, e.LoginMessage)
	}
	if s := d2.Saved(); s.ServerName != "Line3-Gateway" || s.LoginMessage != "plant-ot" {
		t.Errorf("saved: server name %q, login message %q", s.ServerName, s.LoginMessage)
	}
	if d2.Restarts() != 1 {
		t.Errorf("restarts %d, want 1", d2.Restarts())
	}
	if d2.cfg.MAC != d.cfg.MAC || d2.cfg.Serial != d.cfg.Serial {
		t.Errorf("identity %s/%s, was %s/%s", d2.cfg.MAC, d2.cfg.Serial, d.cfg.MAC, d.cfg.Serial)
	}
	// The resumed device serves on its old port and takes its old login.
	w2 := newWeb(t, d2, SvcHTTP, nil)
	if b := w2.login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Error("login on the resumed device failed")
	}
}

// TestStateDirPasswordChange: a password changed through the console's
// Change Password page is the one the resumed device takes.
func TestStateDirPasswordChange(t *testing.T) {
	dir := t.TempDir()
	d := startIn(t, dir, 20*time.Millisecond)
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	old := md5.Sum([]byte("moxa"))
	body, err := w.post("/ChPassword.htm", url.Values{"old_passwd": {""}, "passwd": {""}, "conf_passwd": {""},
		"pwd": {hex.EncodeToString(old[:])}, "newpwd": {ipchangeNewPwd("moxa", "Fresh-Pw1")}, "Submit": {"Submit"}})
	if err != nil || !strings.Contains(body, savedMsg) {
		t.Fatalf("change password: %v %s", err, errorDiv(body))
	}
	w.saveRestart(d)
	d.Close()
	d2 := startIn(t, dir, 20*time.Millisecond)
	defer d2.Close()
	w2 := newWeb(t, d2, SvcHTTP, nil)
	if b := w2.login("admin", "moxa"); strings.Contains(b, "<frameset") {
		t.Error("the factory password still logs in after resume")
	}
	w3 := newWeb(t, d2, SvcHTTP, nil)
	if b := w3.login("admin", "Fresh-Pw1"); !strings.Contains(b, "<frameset") {
		t.Error("the changed password does not log in after resume")
	}
}

// TestStateDirKilledMidRestart: the state file as a Save/Restart leaves
// it before the restart has run (the process killed then) brings the
// device back restarted: the saved settings effective.
func TestStateDirKilledMidRestart(t *testing.T) {
	dir := t.TempDir()
	d := startIn(t, dir, 20*time.Millisecond)
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	w.mustSubmit("/basic.htm", url.Values{"srvname": {"Mid-Restart"}})
	d.restartMu.Lock() // the restart cannot start: only the reply's write happens
	body, err := w.submit("/SaveRestart.htm", url.Values{})
	if err != nil || !strings.Contains(body, "Now Save/Restart OK!") {
		d.restartMu.Unlock()
		t.Fatalf("save/restart: %v %s", err, body)
	}
	killed := filepath.Join(t.TempDir(), "killed")
	copyDir(t, dir, killed)
	d.restartMu.Unlock()
	d.Close()

	d2 := startIn(t, killed, 20*time.Millisecond)
	defer d2.Close()
	if e := d2.Effective(); e.ServerName != "Mid-Restart" {
		t.Errorf("effective server name %q: the interrupted restart did not count", e.ServerName)
	}
	if d2.Restarts() != 1 {
		t.Errorf("restarts %d, want 1", d2.Restarts())
	}
}

// TestStateDirCorrupt: a state file that is not the simulator's gives an
// error naming the file and the way to a fresh device.
func TestStateDirCorrupt(t *testing.T) {
	for name, content := range map[string]string{
		"not json":   "{not json",
		"no cert":    `{"format":1,"generation":"GA"}`,
		"other kind": `{"format":1,"generation":"G-sec"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, StateFileName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := Start(Config{StateDir: dir})
			if err == nil {
				d.Close()
				t.Fatal("started from a corrupt state file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), "delete the folder "+dir) {
				t.Errorf("error %q does not name %s and the fix", err, path)
			}
		})
	}
}

// TestStateDirFresh: an empty StateDir gives a factory-default device
// and a state file for it; no StateDir writes nothing.
func TestStateDirFresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dev")
	d := startIn(t, dir, 20*time.Millisecond)
	defer d.Close()
	def := defaultSettings(d.cfg)
	if e, s := d.Effective(), d.Saved(); e.ServerName != def.ServerName || s.ServerName != def.ServerName ||
		len(e.Accounts) != 1 || e.Accounts[0] != def.Accounts[0] || d.Restarts() != 0 {
		t.Errorf("fresh device: effective %+v", e)
	}
	if _, err := os.Stat(filepath.Join(dir, StateFileName)); err != nil {
		t.Errorf("no state file for a fresh device: %v", err)
	}
	if b := newWeb(t, d, SvcHTTP, nil).login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Error("factory login failed")
	}

	cwd := t.TempDir()
	t.Chdir(cwd)
	d0 := start(t, Config{})
	w := newWeb(t, d0, SvcHTTP, nil)
	w.login("admin", "moxa")
	w.mustSubmit("/basic.htm", url.Values{"srvname": {"x"}})
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Errorf("a device without StateDir wrote %v", ents)
	}
}

// TestStateDirPortTaken: a saved port another program holds stops the
// start with an error naming the port, the service and the folder.
func TestStateDirPortTaken(t *testing.T) {
	dir := t.TempDir()
	d := startIn(t, dir, 20*time.Millisecond)
	port := d.Ports()[SvcHTTP]
	d.Close()
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("hold the port: %v", err)
	}
	defer ln.Close()
	d2, err := Start(Config{StateDir: dir})
	if err == nil {
		d2.Close()
		t.Fatal("started with its port taken")
	}
	for _, want := range []string{"port " + strconv.Itoa(port) + " (http)", "is taken", dir, "delete the folder"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestDemoStateDir: the demo gives each generation its own folder and a
// second run resumes both on the same ports.
func TestDemoStateDir(t *testing.T) {
	dir := t.TempDir()
	cfg := family.DemoConfig{RestartDelay: 20 * time.Millisecond, StateDir: dir}
	devs, err := Demo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ports []map[string]int
	for _, dd := range devs {
		ports = append(ports, dd.Ports)
		dd.Close()
	}
	for _, g := range Generations() {
		if _, err := os.Stat(filepath.Join(DemoStateDir(dir, g), StateFileName)); err != nil {
			t.Errorf("%s: %v", g, err)
		}
	}
	devs, err = Demo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, dd := range devs {
		if !mapsEqual(dd.Ports, ports[i]) {
			t.Errorf("%s: ports %v, were %v", dd.Label, dd.Ports, ports[i])
		}
		if g := dd.Sim.(*Device).cfg.Generation; g != Generations()[i] {
			t.Errorf("device %d is %s", i, g)
		}
		dd.Close()
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
