package thingspro_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// raw sends a request and returns the status, the headers and the body.
func (a *api) raw(method, path, ctype string, body []byte) (int, http.Header, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, b
}

// errorShape checks the API's {"error": {"code", "message"}} body.
func errorShape(t *testing.T, what string, status int, h http.Header, b []byte) {
	t.Helper()
	var env struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Error.Code != status || env.Error.Message == "" {
		t.Errorf("%s: body %q is not the JSON error shape with code %d", what, b, status)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("%s: Content-Type %q", what, h.Get("Content-Type"))
	}
}

func TestJSONErrorsEverywhere(t *testing.T) {
	d, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := newAPI(t, d)
	for _, loggedIn := range []bool{false, true} {
		if loggedIn && a.login("admin", "admin@123") != 200 {
			t.Fatal("login")
		}
		code, h, b := a.raw("GET", "/no/such/path", "", nil)
		if code != 404 {
			t.Errorf("unknown path: %d", code)
		}
		errorShape(t, "unknown path", code, h, b)
		code, h, b = a.raw("GET", "/../../outside", "", nil)
		errorShape(t, "path outside the API", code, h, b)
		code, h, b = a.raw("DELETE", "/device/general", "", nil)
		if code != 405 || !strings.Contains(h.Get("Allow"), "GET") {
			t.Errorf("wrong method: %d, Allow %q", code, h.Get("Allow"))
		}
		errorShape(t, "wrong method", code, h, b)
	}
	// a login without a password is invalid input (400), not a wrong password (401)
	a.token = ""
	code, h, b := a.raw("POST", "/auth", "application/json", []byte(`{"name":"admin"}`))
	if code != 400 {
		t.Errorf("login without a password: %d, want 400", code)
	}
	errorShape(t, "login without a password", code, h, b)
	code, h, b = a.raw("POST", "/auth", "application/json", []byte(`{"name":"admin","password":"wrong"}`))
	if code != 401 {
		t.Errorf("wrong password: %d", code)
	}
	errorShape(t, "wrong password", code, h, b)
	code, h, b = a.raw("POST", "/auth", "application/json", []byte(`not json`))
	errorShape(t, "login that is not JSON", code, h, b)
}

// requestExamples returns every JSON request example of an operation.
func requestExamples(t *testing.T, s specs, method, tmpl string) [][]byte {
	t.Helper()
	for _, doc := range s.docs {
		item := doc.Paths.Value(tmpl)
		if item == nil || item.GetOperation(method) == nil {
			continue
		}
		mt := item.GetOperation(method).RequestBody.Value.Content.Get("application/json")
		var vals []any
		if mt.Example != nil {
			vals = append(vals, mt.Example)
		}
		names := make([]string, 0, len(mt.Examples))
		for n := range mt.Examples {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			vals = append(vals, mt.Examples[n].Value.Value)
		}
		var out [][]byte
		for _, v := range vals {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	t.Fatalf("%s %s is not in the files", method, tmpl)
	return nil
}

// TestPatchedConflictsFollowExamples: for each place where PATCHES.md
// records that Moxa's schema contradicts its own examples, the
// simulator answers the examples as the specification shows, and its
// replies validate against the (patched) schema.
func TestPatchedConflictsFollowExamples(t *testing.T) {
	sp := loadSpecs(t)
	c := &contract{t: t, specs: sp, seen: map[string]int{}}
	d, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true, Observe: c.observe})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := newAPI(t, d)
	if a.login("admin", "admin@123") != 200 {
		t.Fatal("login")
	}
	send := func(method, path string, body []byte) (int, []byte) {
		code, _, b := a.raw(method, path, "application/json", body)
		return code, b
	}
	// 1. time: every example, including GPS with an empty server, and the
	// host-name rule without look-ahead
	for _, ex := range requestExamples(t, sp, "PATCH", "/device/time") {
		if code, b := send("PATCH", "/device/time", ex); code != 200 {
			t.Errorf("PATCH /device/time example %s: %d %s", ex, code, b)
		}
	}
	for _, bad := range []string{"-pool.ntp.org", ".pool", "a", "pool..ntp"} {
		if code, _ := send("PATCH", "/device/time", []byte(`{"ntp":{"enable":true,"source":"timeserver","server":"`+bad+`"}}`)); code != 400 {
			t.Errorf("NTP server %q: %d, want 400", bad, code)
		}
	}
	// 2. firewall list: {"data": [...], "count": N}, as the examples
	code, b := send("GET", "/device/firewall/inbounds", nil)
	var list struct {
		Data  []map[string]any `json:"data"`
		Count *int             `json:"count"`
	}
	if err := json.Unmarshal(b, &list); code != 200 || err != nil || list.Count == nil || *list.Count != len(list.Data) || len(list.Data) == 0 {
		t.Errorf("GET /device/firewall/inbounds: %d %s", code, b)
	}
	// 3. firewall delete: body of ids, reply {"data": [ids]}
	ex := requestExamples(t, sp, "DELETE", "/device/firewall/inbounds")
	var ids []int
	if len(ex) == 0 || json.Unmarshal(ex[0], &ids) != nil || !slices.Contains(ids, 83) {
		t.Fatalf("the DELETE example is %s", ex)
	}
	if code, b := send("DELETE", "/device/firewall/inbounds", []byte(`[83]`)); code != 200 || string(bytes.TrimSpace(b)) != `{"data":[83]}` {
		t.Errorf("DELETE /device/firewall/inbounds [83]: %d %s", code, b)
	}
	// 4. httpserver: multipart with the flags only
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("httpEnable", "false")
	_ = mw.Close()
	if code, _, b := a.raw("PUT", "/system/httpserver", mw.FormDataContentType(), mp.Bytes()); code != 200 || !strings.Contains(string(b), `"httpEnable":false`) {
		t.Errorf("PUT /system/httpserver multipart: %d %s", code, b)
	}
	// 5. users: the POST example, expiredAfter null, and the PUT example
	for _, ex := range requestExamples(t, sp, "POST", "/users") {
		if code, b := send("POST", "/users", ex); code != 200 || !strings.Contains(string(b), `"roles":[{"id":1,"name":"Administrator"}]`) {
			t.Errorf("POST /users example %s: %d %s", ex, code, b)
		}
	}
	if code, b := send("POST", "/users", []byte(`{"name":"never","password":"moxa1234","isActive":true,"roles":[{"id":1}],"expiredAfter":null}`)); code != 200 {
		t.Errorf("POST /users with expiredAfter null: %d %s", code, b)
	}
	for _, ex := range requestExamples(t, sp, "PUT", "/users/{id}") {
		if code, b := send("PUT", "/users/2", ex); code != 200 || !strings.Contains(string(b), `"email":"aa@aaa.aaa"`) {
			t.Errorf("PUT /users/2 example %s: %d %s", ex, code, b)
		}
	}
	// 6. ethernets: the DHCP and the static example both apply
	for _, ex := range requestExamples(t, sp, "PATCH", "/device/ethernets/{id}") {
		code, b := send("PATCH", "/device/ethernets/2", ex)
		if code != 200 {
			t.Errorf("PATCH /device/ethernets/2 example %s: %d %s", ex, code, b)
		}
		var want, got struct {
			Data struct {
				EnableDHCP bool   `json:"enableDhcp"`
				IP         string `json:"ip"`
			} `json:"data"`
		}
		_ = json.Unmarshal([]byte(`{"data":`+string(ex)+`}`), &want)
		_ = json.Unmarshal(b, &got)
		if got.Data.EnableDHCP != want.Data.EnableDHCP || (!want.Data.EnableDHCP && got.Data.IP != want.Data.IP) {
			t.Errorf("PATCH /device/ethernets/2 %s answered %s", ex, b)
		}
	}
	if code, _ := send("PATCH", "/device/ethernets/2", []byte(`{"enable":true,"enableDhcp":false,"wan":false}`)); code != 400 {
		t.Errorf("a static body without ip and netmask: %d, want 400", code)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errs {
		if strings.HasPrefix(e, "request PATCH /device/time") && strings.Contains(e, `/ntp/server`) {
			continue // the bad servers above, and the GPS example's empty server (the example, not the schema, is followed)
		}
		if strings.HasPrefix(e, "request PATCH /device/ethernets/2") && strings.Contains(e, "doesn't match") {
			continue // the deliberately incomplete static body
		}
		t.Error(e)
	}
}

// TestAccountCandidateBehaviours: each candidate behaviour does what its
// name says, so the driver's tests against it mean something.
func TestAccountCandidateBehaviours(t *testing.T) {
	roleOf := func(b []byte) string {
		var env struct {
			Data struct {
				Roles json.RawMessage `json:"roles"`
			} `json:"data"`
		}
		_ = json.Unmarshal(b, &env)
		return string(env.Data.Roles)
	}
	cases := []struct {
		name      string
		cfg       simthingspro.Config
		roles     string
		code      int
		wantRoles string
	}{
		{"ints accepted", simthingspro.Config{}, `[1]`, 200, `[{"id":1,"name":"Administrator"}]`},
		{"ints ignored", simthingspro.Config{IntRoles: simthingspro.RolesIgnored}, `[1]`, 200, `[]`},
		{"ints rejected", simthingspro.Config{IntRoles: simthingspro.RolesRejected}, `[1]`, 400, ``},
		{"objects ignored", simthingspro.Config{ObjectRoles: simthingspro.RolesIgnored}, `[{"id":1}]`, 200, `[]`},
		{"objects rejected", simthingspro.Config{ObjectRoles: simthingspro.RolesRejected}, `[{"id":1}]`, 400, ``},
		{"reply as ids", simthingspro.Config{ReplyRoles: simthingspro.RolesAsIDs}, `[{"id":1}]`, 200, `[1]`},
	}
	for _, c := range cases {
		c.cfg.NoForcedChange = true
		d, err := simthingspro.Start(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		a := newAPI(t, d)
		if a.login("admin", "admin@123") != 200 {
			t.Fatal("login")
		}
		code, _, b := a.raw("POST", "/users", "application/json", []byte(`{"name":"u1","password":"moxa1234","isActive":true,"expiredAfter":null,"roles":`+c.roles+`}`))
		if code != c.code || (code == 200 && roleOf(b) != c.wantRoles) {
			t.Errorf("%s: POST roles %s = %d %s, want %d with roles %s", c.name, c.roles, code, b, c.code, c.wantRoles)
		}
		d.Close()
	}
	// omitted fields on PUT: kept by default, cleared by the candidate
	for _, put := range []simthingspro.Omitted{simthingspro.KeepOmitted, simthingspro.ClearOmitted} {
		d, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true, PutOmitted: put})
		if err != nil {
			t.Fatal(err)
		}
		a := newAPI(t, d)
		a.login("admin", "admin@123")
		a.raw("POST", "/users", "application/json", []byte(`{"name":"u1","password":"moxa1234","email":"u1@example.net","isActive":true,"expiredAfter":null,"roles":[{"id":1}]}`))
		_, _, b := a.raw("PUT", "/users/2", "application/json", []byte(`{"isActive":true}`))
		roles, _, _ := d.UserRoles("u1")
		email, _ := d.UserDetails("u1")
		cleared := len(roles) == 0 && email == ""
		if cleared != (put == simthingspro.ClearOmitted) {
			t.Errorf("%s: after a PUT with isActive only, roles %v email %q (%s)", put, roles, email, b)
		}
		d.Close()
	}
}
