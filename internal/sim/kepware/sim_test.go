package kepware

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

type call struct {
	t    *testing.T
	base string
	user string
	pw   string
}

func (c call) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pw)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

func startSim(t *testing.T, cfg Config) (*Device, call) {
	t.Helper()
	d, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, call{t: t, base: "http://" + d.Host() + ":" + strconv.Itoa(d.Ports()[SvcConfigHTTP]), user: "Administrator", pw: DefaultAdminPassword}
}

// jsonShape checks that body decodes and has every key of the reference example.
func jsonShape(t *testing.T, body []byte, example string) {
	t.Helper()
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	if err := json.Unmarshal([]byte(example), &want); err != nil {
		t.Fatal(err)
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Fatalf("got %T, want an object like %s", got, example)
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				t.Errorf("key %q missing in %s", k, body)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("got %s, want an array like %s", body, example)
		}
		for i := range w {
			b, _ := json.Marshal(g[i])
			e, _ := json.Marshal(w[i])
			jsonShape(t, b, string(e))
		}
	}
}

func TestReferenceShapes(t *testing.T) {
	_, c := startSim(t, Config{})
	anon := c
	anon.user = ""
	// kepware.md §1.8
	st, b := c.do("GET", "/config/v1/status", "")
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	jsonShape(t, b, `[{"Name":"ConfigAPI REST Service","Healthy":true}]`)
	_, b = c.do("GET", "/config/v1/about", "")
	jsonShape(t, b, `{"product_name":"KEPServerEX","product_id":"012","product_version":"V6.17.240.0","product_version_major":6,"product_version_minor":17,"product_version_build":240,"product_version_patch":0}`)
	// §1.2: 401 with a JSON body
	st, b = anon.do("GET", "/config/v1/project", "")
	if st != 401 {
		t.Fatalf("no auth: %d", st)
	}
	jsonShape(t, b, `{"code":401,"message":"Unauthorized"}`)
	// §1.4 GET object carries PROJECT_ID
	st, b = c.do("GET", "/config/v1/project", "")
	if st != 200 {
		t.Fatalf("project %d", st)
	}
	jsonShape(t, b, `{"PROJECT_ID":960924075,"opcdaserver.PROJECT_OPC_DA_1_ENABLED":true,"uaserverinterface.PROJECT_OPC_UA_ANONYMOUS_LOGIN":false}`)
	// POST single: 201
	if st, b = c.do("POST", "/config/v1/admin/server_usergroups", `{"common.ALLTYPES_NAME":"Operators","libadminsettings.USERMANAGER_GROUP_ENABLED":true}`); st != 201 {
		t.Fatalf("create group: %d %s", st, b)
	}
	// POST single duplicate: 400 with the validation body
	st, b = c.do("POST", "/config/v1/admin/server_usergroups", `{"common.ALLTYPES_NAME":"Operators"}`)
	if st != 400 || !bytes.Contains(b, []byte("already used")) {
		t.Fatalf("duplicate: %d %s", st, b)
	}
	jsonShape(t, b, `{"property":"common.ALLTYPES_NAME","description":"x","error_line":1,"code":400,"message":"x"}`)
	// POST array with one failure: 207, one entry per item, in order
	st, b = c.do("POST", "/config/v1/admin/server_usergroups", `[{"common.ALLTYPES_NAME":"Maintenance"},{"common.ALLTYPES_NAME":"Operators"},{"common.ALLTYPES_NAME":"_Hidden"}]`)
	if st != 207 {
		t.Fatalf("partial: %d %s", st, b)
	}
	jsonShape(t, b, `[{"code":201,"message":"Created"},{"property":"p","description":"d","error_line":2,"code":400,"message":"m"},{"property":"p","description":"d","error_line":3,"code":400,"message":"m"}]`)
	// PUT with a stale PROJECT_ID: 400 naming PROJECT_ID
	st, b = c.do("PUT", "/config/v1/project", `{"PROJECT_ID":1,"opcdaserver.PROJECT_OPC_DA_1_ENABLED":false}`)
	if st != 400 || !bytes.Contains(b, []byte(`"property":"PROJECT_ID"`)) {
		t.Fatalf("stale: %d %s", st, b)
	}
	// PUT with a read-only property: 200 with not_applied
	st, b = c.do("PUT", "/config/v1/project", `{"FORCE_UPDATE":true,"servermain.PROJECT_TAGS_DEFINED":"1","opcdaserver.PROJECT_OPC_DA_1_ENABLED":false}`)
	if st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	jsonShape(t, b, `{"code":200,"message":"Not all properties were applied.","not_applied":{"servermain.PROJECT_TAGS_DEFINED":"1"}}`)
	// DELETE: 200; built-in: refused
	if st, _ = c.do("DELETE", "/config/v1/admin/server_usergroups/Operators", ""); st != 200 {
		t.Errorf("delete: %d", st)
	}
	if st, _ = c.do("DELETE", "/config/v1/admin/server_usergroups/Administrators", ""); st != 400 {
		t.Errorf("delete built-in: %d", st)
	}
	// 404 with a JSON body
	st, b = c.do("GET", "/config/v1/admin/server_users/NonExistentUser", "")
	if st != 404 {
		t.Errorf("404: %d", st)
	}
	jsonShape(t, b, `{"code":404,"message":"x"}`)
	// services: 202 with href
	st, b = c.do("PUT", "/config/v1/project/services/ReinitializeRuntime", `{}`)
	if st != 202 {
		t.Errorf("service: %d", st)
	}
	jsonShape(t, b, `{"code":202,"message":"x","href":"x"}`)
	// UA endpoints are Kepware Edge only
	if st, _ = c.do("GET", "/config/v1/admin/ua_endpoints", ""); st != 404 {
		t.Errorf("ua_endpoints on Kepware Server: %d", st)
	}
	// event log entries: timestamp, event, source, message (§6)
	st, b = c.do("GET", "/config/v1/event_log?limit=2", "")
	if st != 200 {
		t.Fatalf("event log %d", st)
	}
	jsonShape(t, b, `[{"timestamp":"","event":"","source":"","message":""},{"timestamp":"","event":"","source":"","message":""}]`)
}

func TestUsersAndPasswords(t *testing.T) {
	d, c := startSim(t, Config{})
	// passwords are write-only, and must meet the User Manager's rules
	if st, b := c.do("POST", "/config/v1/admin/server_users", `{"common.ALLTYPES_NAME":"op1","libadminsettings.USERMANAGER_USER_GROUPNAME":"Server Users","libadminsettings.USERMANAGER_USER_PASSWORD":"weak"}`); st != 400 || !bytes.Contains(b, []byte("14 to 512")) {
		t.Fatalf("weak password: %d %s", st, b)
	}
	pw := "Operator-Passw0rd!"
	if st, b := c.do("POST", "/config/v1/admin/server_users", `{"common.ALLTYPES_NAME":"op1","libadminsettings.USERMANAGER_USER_GROUPNAME":"Server Users","libadminsettings.USERMANAGER_USER_PASSWORD":"`+pw+`"}`); st != 201 {
		t.Fatalf("create: %d %s", st, b)
	}
	_, b := c.do("GET", "/config/v1/admin/server_users/op1", "")
	if bytes.Contains(b, []byte("PASSWORD")) || bytes.Contains(b, []byte(pw)) {
		t.Errorf("password returned: %s", b)
	}
	if !d.Login("op1", pw) || d.Login("op1", "other") {
		t.Error("login")
	}
	// a non-administrator is authenticated (403), not refused (401)
	op := c
	op.user, op.pw = "op1", pw
	if st, _ := op.do("GET", "/config/v1/project", ""); st != 403 {
		t.Errorf("non-admin: %d", st)
	}
	if st, _ := c.do("PUT", "/config/v1/admin/server_users/Administrator", `{"libadminsettings.USERMANAGER_USER_ENABLED":false}`); st != 400 {
		t.Errorf("Administrator changed: %d", st)
	}
	// recorded requests mask passwords
	for _, r := range d.Requests() {
		if bytes.Contains(must(json.Marshal(r.Body)), []byte(pw)) {
			t.Errorf("password recorded: %+v", r)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestHardenAndHTTP(t *testing.T) {
	d, c := startSim(t, Config{StrictProjectID: true})
	if st, _ := c.do("PUT", "/config/v1/project", `{"opcdaserver.PROJECT_OPC_DA_1_ENABLED":false}`); st != 400 {
		t.Errorf("strict PROJECT_ID: %d", st)
	}
	if err := d.Harden(); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: time.Second}
	if _, err := hc.Get(c.base + "/config/v1/status"); err == nil {
		t.Error("HTTP port still answers after Harden")
	}
	if err := d.SetHTTP(true); err != nil {
		t.Fatal(err)
	}
	_, b := c.do("GET", "/config/v1/project", "")
	if !bytes.Contains(b, []byte(`"opcdaserver.PROJECT_OPC_DA_1_ENABLED":false`)) {
		t.Errorf("not hardened: %s", b)
	}
	if d.Login("Default User", "") || !d.Login("Default User", HardenedPassword) {
		t.Error("Default User password not set")
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	if _, err := Start(Config{Host: "10.0.0.1"}); err == nil {
		t.Error("non-loopback host accepted")
	}
}
