package thingspro_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// api is a raw client for the simulator (no driver), to test the
// gateway's behaviour itself.
type api struct {
	t     *testing.T
	base  string
	hc    *http.Client
	token string
}

func newAPI(t *testing.T, d *simthingspro.Device) *api {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // test against our own simulator
	t.Cleanup(tr.CloseIdleConnections)
	return &api{t: t, base: "https://" + d.Addr(simthingspro.PortHTTPS) + "/api/v1", hc: &http.Client{Transport: tr, Timeout: 3 * time.Second}}
}

func (a *api) call(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
	return resp.StatusCode, out
}

func (a *api) login(user, pw string) int {
	code, out := a.call("POST", "/auth", map[string]any{"name": user, "password": pw})
	if code == 200 {
		a.token = out["data"].(map[string]any)["token"].(string)
	}
	return code
}

func TestForcedChangeAndLastAdmin(t *testing.T) {
	d, err := simthingspro.Start(simthingspro.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := newAPI(t, d)
	if code := a.login("admin", "admin@123"); code != 200 {
		t.Fatalf("login %d", code)
	}
	if code, _ := a.call("GET", "/users", nil); code != 403 {
		t.Errorf("before the forced change: GET /users = %d, want 403", code)
	}
	if code, _ := a.call("PUT", "/users/me/password", map[string]string{"oldPassword": "admin@123", "newPassword": "admin@123"}); code != 400 {
		t.Errorf("keeping the default password: %d, want 400", code)
	}
	if code, _ := a.call("PUT", "/users/me/password", map[string]string{"oldPassword": "admin@123", "newPassword": "Another-Pass-1"}); code != 200 {
		t.Fatalf("change: %d", code)
	}
	if code, _ := a.call("DELETE", "/users/1", nil); code != 403 {
		t.Errorf("deleting the last admin: %d, want 403", code)
	}
	if code, _ := a.call("PUT", "/users/1", map[string]any{"isActive": false}); code != 403 {
		t.Errorf("deactivating the last admin: %d, want 403", code)
	}
	if code, _ := a.call("POST", "/users", map[string]any{"name": "second", "password": "Second-Pass-1", "isActive": true, "roles": []any{map[string]int{"id": 1}}, "expiredAfter": nil}); code != 200 {
		t.Fatalf("create second admin: %d", code)
	}
	if code, _ := a.call("DELETE", "/users/1", nil); code != 204 {
		t.Errorf("deleting admin once another admin exists: %d, want 204", code)
	}
	if code, _ := a.call("GET", "/users", nil); code != 401 {
		t.Errorf("the deleted account's token still works: %d", code)
	}
}

func TestServicesOpenAndCloseAndFaults(t *testing.T) {
	d, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, d)
	if code := a.login("admin", "admin@123"); code != 200 {
		t.Fatalf("login %d", code)
	}
	dial := func(name string) error {
		c, err := net.DialTimeout("tcp", d.Addr(name), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if dial(simthingspro.PortSSH) == nil {
		t.Error("SSH answers at factory settings")
	}
	if dial(simthingspro.PortHTTP) != nil {
		t.Error("HTTP does not answer at factory settings")
	}
	a.call("PUT", "/system/sshserver", map[string]any{"enable": true, "port": 22})
	a.call("PUT", "/system/services/httpservice/disable", nil)
	if err := dial(simthingspro.PortSSH); err != nil {
		t.Errorf("SSH enabled but closed: %v", err)
	}
	if dial(simthingspro.PortHTTP) == nil {
		t.Error("HTTP disabled but still answers")
	}
	d.FailNext("PUT", "/system/serialconsole", 1)
	if code, out := a.call("PUT", "/system/serialconsole", map[string]bool{"enable": false}); code != 500 || !strings.Contains(fmt.Sprint(out), "internal") {
		t.Errorf("fault: %d %v", code, out)
	}
	if code, out := a.call("GET", "/system/serialconsole", nil); code != 200 || out["data"].(map[string]any)["enable"] != true {
		t.Errorf("a failed call changed the setting: %v", out)
	}
	if code, _ := a.call("PUT", "/system/serialconsole", map[string]bool{"enable": false}); code != 200 {
		t.Errorf("the fault fired twice: %d", code)
	}
	d.Close()
	for _, name := range []string{simthingspro.PortHTTPS, simthingspro.PortSSH} {
		if dial(name) == nil {
			t.Errorf("%s still answers after Close", name)
		}
	}
}
