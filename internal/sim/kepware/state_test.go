package kepware

import (
	"bytes"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/family"
)

// TestStateDirResumes: API writes (a user created, a project property
// set) and the HTTP port's switch survive Close and a start from the same
// folder, on the same ports with the same certificate; numbers come back
// as numbers (a later PUT with PROJECT_ID is accepted).
func TestStateDirResumes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kp")
	d, c := startSim(t, Config{StateDir: dir})
	ports, fp := d.Ports(), d.Fingerprint()
	pw := "Operator-Passw0rd!"
	if st, b := c.do("POST", "/config/v1/admin/server_users", `{"common.ALLTYPES_NAME":"op1","libadminsettings.USERMANAGER_USER_GROUPNAME":"Server Users","libadminsettings.USERMANAGER_USER_PASSWORD":"`+pw+`"}`); st != 201 {
		t.Fatalf("create: %d %s", st, b)
	}
	if st, b := c.do("PUT", "/config/v1/project", `{"FORCE_UPDATE":true,"opcdaserver.PROJECT_OPC_MAX_CONNECTIONS":77}`); st != 200 {
		t.Fatalf("put project: %d %s", st, b)
	}
	pid := d.ProjectID()
	// the file as the replies left it, as a process killed now leaves it
	killed := filepath.Join(t.TempDir(), "killed")
	if err := os.MkdirAll(killed, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(killed, StateFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.SetHTTP(false); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Stat(filepath.Join(dir, StateFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	d2, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := d2.Ports(); !maps.Equal(got, ports) {
		t.Errorf("ports %v, want %v", got, ports)
	}
	if d2.Fingerprint() != fp {
		t.Error("the certificate changed across runs")
	}
	if !d2.Login("op1", pw) || !d2.Login("Administrator", DefaultAdminPassword) {
		t.Error("the created user or the Administrator does not log in after resume")
	}
	if d2.ProjectID() != pid {
		t.Errorf("project id %d, was %d", d2.ProjectID(), pid)
	}
	d2.Close()
	k, err := Start(Config{StateDir: killed})
	if err != nil {
		t.Fatal(err)
	}
	if !k.Login("op1", pw) || k.ProjectID() != pid {
		t.Error("a user created and a property set were not on disk when their replies came")
	}
	k.Close()
	d2, err = Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if conn, err := net.DialTimeout("tcp", c.base[len("http://"):], time.Second); err == nil {
		conn.Close()
		t.Error("the HTTP port, turned off, is open after resume")
	}
	if err := d2.SetHTTP(true); err != nil {
		t.Fatal(err)
	}
	c2 := c
	_, b = c2.do("GET", "/config/v1/project", "")
	if !bytes.Contains(b, []byte(`"opcdaserver.PROJECT_OPC_MAX_CONNECTIONS":77`)) {
		t.Errorf("project after resume: %s", b)
	}
	if st, b := c2.do("PUT", "/config/v1/project", `{"PROJECT_ID":`+strconv.FormatInt(pid, 10)+`,"common.ALLTYPES_DESCRIPTION":"resumed"}`); st != 200 {
		t.Errorf("PUT with the resumed PROJECT_ID: %d %s", st, b)
	}
	// a write whose connection is dropped is still dropped with a StateDir
	d2.DropNext(1)
	req, _ := http.NewRequest("PUT", c2.base+"/config/v1/project", strings.NewReader(`{"FORCE_UPDATE":true,"common.ALLTYPES_DESCRIPTION":"dropped"}`))
	req.SetBasicAuth(c2.user, c2.pw)
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req); err == nil {
		resp.Body.Close()
		t.Error("DropNext answered a write")
	}
}

// TestStateDirCorrupt: a state file that is not the simulator's gives an
// error naming the file and the way to a fresh server.
func TestStateDirCorrupt(t *testing.T) {
	for name, content := range map[string]string{"not json": "{{", "empty": `{"format":1}`, "edge": `{"format":1,"edge":true}`} {
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
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "delete the folder "+dir) {
				t.Errorf("error %q does not name %s and the fix", err, path)
			}
		})
	}
}

// TestStateDirFreshAndPortTaken: an empty folder gives the factory
// server; once its OPC UA port is taken by another program, the start
// from the folder fails naming port, service and folder.
func TestStateDirFreshAndPortTaken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "kp")
	d, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Login("Administrator", DefaultAdminPassword) || d.ProjectID() != newStore(d.cfg, 0).projectID {
		t.Error("a fresh server is not factory-default")
	}
	port := d.Ports()[SvcOPCUA]
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
	for _, want := range []string{"port " + strconv.Itoa(port) + " (opcua)", "is taken", dir, "delete the folder"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestDemoStateDir: the demo keeps its server in the kepware subfolder
// and resumes it on the same ports; without a StateDir nothing is
// written.
func TestDemoStateDir(t *testing.T) {
	dir := t.TempDir()
	devs, err := Demo(family.DemoConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ports := devs[0].Ports
	devs[0].Close()
	if _, err := os.Stat(filepath.Join(DemoStateDir(dir), StateFileName)); err != nil {
		t.Fatal(err)
	}
	devs, err = Demo(family.DemoConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer devs[0].Close()
	if !maps.Equal(devs[0].Ports, ports) {
		t.Errorf("ports %v, were %v", devs[0].Ports, ports)
	}

	cwd := t.TempDir()
	t.Chdir(cwd)
	_, c := startSim(t, Config{})
	if st, _ := c.do("PUT", "/config/v1/project", `{"FORCE_UPDATE":true,"common.ALLTYPES_DESCRIPTION":"x"}`); st != 200 {
		t.Fatalf("put: %d", st)
	}
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Errorf("a server without StateDir wrote %v", ents)
	}
}
