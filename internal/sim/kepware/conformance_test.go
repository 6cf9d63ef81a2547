package kepware

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The tests in this file encode what PTC's Python SDK (kepconfig) and its
// own test suite expect of a real server, as CONFORMANCE.md records.

func decodeList(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("not a JSON array of objects: %s", b)
	}
	return l
}

func TestEveryEndpointNeedsCredentials_Simulator(t *testing.T) {
	_, c := startSim(t, Config{Edge: true})
	anon := c
	anon.user = ""
	wrong := c
	wrong.pw = "not-the-password"
	for _, p := range []string{"/config/v1/status", "/config/v1/about", "/config/v1/project", "/config/v1/event_log",
		"/config/v1/admin/ua_endpoints", "/config/v1/project/_iot_gateway?content=type_definition", "/config/v1/no_such_endpoint", "/"} {
		for _, cl := range []call{anon, wrong} {
			st, b := cl.do("GET", p, "")
			if st != http.StatusUnauthorized {
				t.Errorf("GET %s as %q: %d, want 401", p, cl.user, st)
				continue
			}
			jsonShape(t, b, `{"code":401,"message":"x"}`) // kepconfig decodes every error body as JSON
		}
	}
	// with credentials, /about and /status answer any enabled user
	pw := "Operator-Passw0rd!"
	if st, b := c.do("POST", "/config/v1/admin/server_users", `{"common.ALLTYPES_NAME":"op1","libadminsettings.USERMANAGER_USER_GROUPNAME":"Server Users","libadminsettings.USERMANAGER_USER_PASSWORD":"`+pw+`"}`); st != 201 {
		t.Fatalf("create: %d %s", st, b)
	}
	op := c
	op.user, op.pw = "op1", pw
	for _, p := range []string{"/config/v1/status", "/config/v1/about"} {
		if st, _ := op.do("GET", p, ""); st != 200 {
			t.Errorf("GET %s as a server user: %d", p, st)
		}
	}
}

func TestMethodNotAllowed_Simulator(t *testing.T) {
	_, c := startSim(t, Config{})
	for _, m := range []struct{ method, path, allow string }{
		{"POST", "/config/v1/about", "GET"},
		{"PUT", "/config/v1/status", "GET"},
		{"DELETE", "/config/v1/project", "GET, PUT"},
		{"POST", "/config/v1/event_log", "GET"},
		{"PUT", "/config/v1/admin/server_users", "GET, POST"},
		{"POST", "/config/v1/admin/server_users/Administrator", "GET, PUT, DELETE"},
		{"GET", "/config/v1/project/services/ReinitializeRuntime", "PUT"},
		{"DELETE", "/config/v1/project/_iot_gateway", "GET"},
	} {
		req, _ := http.NewRequest(m.method, c.base+m.path, strings.NewReader("{}"))
		req.SetBasicAuth(c.user, c.pw)
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != m.allow || err != nil || body["code"] != 405.0 {
			t.Errorf("%s %s: %d Allow %q body %v, want 405 Allow %q with a JSON body", m.method, m.path, resp.StatusCode, resp.Header.Get("Allow"), body, m.allow)
		}
	}
}

func TestEventLogDateForms_Simulator(t *testing.T) {
	_, c := startSim(t, Config{})
	for _, v := range []string{
		"2022-02-21T14:23:23",         // datetime.isoformat() with no microseconds (PTC's tests)
		"2022-02-21T14:23:23.000",     // PTC's documentation
		"2022-02-21T14:23:23.123456",  // datetime.utcnow().isoformat()
		"2022-02-21T14:23:23+00:00",   // an aware datetime's isoformat()
		"2022-02-21T14:23:23.123456Z", // RFC 3339
	} {
		q := url.Values{"start": {v}, "end": {time.Now().UTC().Format("2006-01-02T15:04:05.999999")}}
		if st, b := c.do("GET", "/config/v1/event_log?"+q.Encode(), ""); st != 200 {
			t.Errorf("start=%s: %d %s", v, st, b)
		}
	}
	for _, v := range []string{"21/02/2022", "2022-02-21", "yesterday"} {
		st, b := c.do("GET", "/config/v1/event_log?start="+url.QueryEscape(v), "")
		if st != 400 {
			t.Errorf("start=%s: %d, want 400", v, st)
		}
		jsonShape(t, b, `{"code":400,"message":"x"}`)
	}
}

func TestEventLogWindowAndPages_Simulator(t *testing.T) {
	d, c := startSim(t, Config{})
	base := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	for i := range 5 {
		d.AddEvent(base.Add(time.Duration(i)*time.Minute), "Security", "Test", "event "+string(rune('a'+i)))
	}
	q := "start=2030-01-02T03:01:00&end=2030-01-02T03:03:00.000&event=Security"
	_, b := c.do("GET", "/config/v1/event_log?"+q, "")
	if l := decodeList(t, b); len(l) != 3 || l[0]["message"] != "event d" || l[2]["message"] != "event b" {
		t.Errorf("window: %s", b)
	}
	// pageSize=1: one entry and the pagination element (PTC's test expects 2 elements)
	_, b = c.do("GET", "/config/v1/event_log?"+q+"&pageSize=1", "")
	l := decodeList(t, b)
	if len(l) != 2 || l[0]["message"] != "event d" {
		t.Fatalf("page 1: %s", b)
	}
	pi, _ := l[1][paginationKey].(map[string]any)
	if pi["currentPage"] != 1.0 || pi["pageSize"] != 1.0 || pi["totalPages"] != 3.0 || pi["totalItems"] != 3.0 {
		t.Errorf("pagination element %v", l[1])
	}
	_, b = c.do("GET", "/config/v1/event_log?"+q+"&pageSize=2&pageNumber=2", "")
	if l := decodeList(t, b); len(l) != 2 || l[0]["message"] != "event b" {
		t.Errorf("page 2: %s", b)
	}
	_, b = c.do("GET", "/config/v1/event_log?"+q+"&pageSize=2&pageNumber=9", "")
	if l := decodeList(t, b); len(l) != 1 || l[0][paginationKey] == nil {
		t.Errorf("past the last page: %s", b)
	}
	if st, _ := c.do("GET", "/config/v1/event_log?pageSize=0", ""); st != 400 {
		t.Errorf("pageSize=0: %d", st)
	}
	// limit caps the entries (newest first)
	_, b = c.do("GET", "/config/v1/event_log?limit=2", "")
	if l := decodeList(t, b); len(l) != 2 {
		t.Errorf("limit: %s", b)
	}
}

func TestFilterAndPagesOnCollections_Simulator(t *testing.T) {
	_, c := startSim(t, Config{})
	_, b := c.do("GET", "/config/v1/admin/server_users?filter=admin", "")
	if l := decodeList(t, b); len(l) != 1 || l[0][pName] != "Administrator" {
		t.Errorf("filter: %s", b)
	}
	_, b = c.do("GET", "/config/v1/admin/server_usergroups?pageSize=2&pageNumber=2", "")
	if l := decodeList(t, b); len(l) != 2 || l[0][pName] != "Anonymous Clients" || l[1][paginationKey] == nil {
		t.Errorf("page: %s", b)
	}
	_, b = c.do("GET", "/config/v1/admin/server_usergroups?sortProperty=common.ALLTYPES_NAME&sortOrder=descending", "")
	if l := decodeList(t, b); len(l) != 3 || l[0][pName] != "Server Users" {
		t.Errorf("sort: %s", b)
	}
}

func TestTypeDefinitionAndAgents_Simulator(t *testing.T) {
	_, c := startSim(t, Config{})
	st, b := c.do("GET", "/config/v1/project/_iot_gateway?content=type_definition", "")
	var td map[string]any
	if err := json.Unmarshal(b, &td); st != 200 || err != nil {
		t.Fatalf("type_definition: %d %s", st, b)
	}
	if cc, _ := td["child_collections"].([]any); len(cc) != 3 || cc[0] != "mqtt_clients" || cc[2] != "rest_servers" {
		t.Errorf("child_collections %v", td["child_collections"])
	}
	// an agent with an item; the item is named after its tag
	if st, b := c.do("POST", "/config/v1/project/_iot_gateway/mqtt_clients", `{"common.ALLTYPES_NAME":"MQTT","iot_gateway.AGENTTYPES_TYPE":"MQTT Client","iot_items":[{"common.ALLTYPES_NAME":"_System_Time","iot_gateway.IOT_ITEM_SERVER_TAG":"_System._Time"}]}`); st != 201 {
		t.Fatalf("agent: %d %s", st, b)
	}
	if st, _ := c.do("GET", "/config/v1/project/_iot_gateway/mqtt_clients/MQTT/iot_items/System__Time", ""); st != 200 {
		t.Errorf("item named after its tag: %d", st)
	}
	// a wrong agent type and a missing tag are validation errors
	if st, _ := c.do("POST", "/config/v1/project/_iot_gateway/mqtt_clients", `{"common.ALLTYPES_NAME":"X","iot_gateway.AGENTTYPES_TYPE":"REST Client"}`); st != 400 {
		t.Errorf("wrong type: %d", st)
	}
	st, b = c.do("POST", "/config/v1/project/_iot_gateway/mqtt_clients/MQTT/iot_items", `[{"iot_gateway.IOT_ITEM_SERVER_TAG":"_System._Time_Minute"},{"iot_gateway.IOT_ITEM_SERVER_TAG":"_System._Time_Seconds"}]`)
	if st != 207 || !bytes.Contains(b, []byte("does not exist")) {
		t.Errorf("partial items: %d %s", st, b)
	}
	// every item of an array failing is an error, not a multi-status
	if st, _ := c.do("POST", "/config/v1/project/_iot_gateway/mqtt_clients", `[{"common.ALLTYPES_NAME":"MQTT"},{"common.ALLTYPES_NAME":"_MQTT"}]`); st != 400 {
		t.Errorf("all failed: %d, want 400", st)
	}
	_, b = c.do("GET", "/config/v1/project/_iot_gateway/mqtt_clients?filter=mqtt", "")
	if l := decodeList(t, b); len(l) != 1 {
		t.Errorf("filter agents: %s", b)
	}
	if st, _ := c.do("DELETE", "/config/v1/project/_iot_gateway/mqtt_clients/MQTT", ""); st != 200 {
		t.Errorf("delete agent: %d", st)
	}
}

func TestServicesAndJobs_Simulator(t *testing.T) {
	_, c := startSim(t, Config{})
	st, b := c.do("PUT", "/config/v1/project/services/ReinitializeRuntime", `{"servermain.JOB_TIME_TO_LIVE_SECONDS":60}`)
	var job apiMsg
	if err := json.Unmarshal(b, &job); st != 202 || err != nil || job.Code != 202 || !strings.HasPrefix(job.Href, "/config/v1/") {
		t.Fatalf("service: %d %s", st, b)
	}
	st, b = c.do("GET", job.Href, "")
	if st != 200 {
		t.Fatalf("job: %d %s", st, b)
	}
	jsonShape(t, b, `{"servermain.JOB_COMPLETE":true,"servermain.JOB_STATUS":0,"servermain.JOB_STATUS_MSG":"","servermain.JOB_TIME_TO_LIVE_SECONDS":60}`)
	if st, _ := c.do("PUT", "/config/v1/project/services/ReinitializeRuntime", `{"servermain.JOB_TIME_TO_LIVE_SECONDS":0}`); st != 400 {
		t.Errorf("bad TTL: %d", st)
	}
	if st, _ := c.do("PUT", "/config/v1/project/services/NoSuchService", `{}`); st != 404 {
		t.Errorf("unknown service: %d", st)
	}
	if st, b := c.do("GET", "/config/v1/project?content=serialize", ""); st != 200 || !bytes.Contains(b, []byte(`"project"`)) {
		t.Errorf("serialize: %d", st)
	}
}

func TestPTCTestPasswordAccepted_Simulator(t *testing.T) {
	_, c := startSim(t, Config{})
	// PTC's admin tests create users with "Kepware400400400" (no special character)
	if st, b := c.do("POST", "/config/v1/admin/server_users", `{"common.ALLTYPES_NAME":"Client1","libadminsettings.USERMANAGER_USER_GROUPNAME":"Server Users","libadminsettings.USERMANAGER_USER_PASSWORD":"Kepware400400400"}`); st != 201 {
		t.Errorf("PTC's test password: %d %s", st, b)
	}
	if st, _ := c.do("POST", "/config/v1/admin/server_users", `{"common.ALLTYPES_NAME":"Client2","libadminsettings.USERMANAGER_USER_GROUPNAME":"Server Users","libadminsettings.USERMANAGER_USER_PASSWORD":"kepware400400400"}`); st != 400 {
		t.Errorf("two classes only: %d", st)
	}
}

func TestUAEndpointsEdgeOnly_Simulator(t *testing.T) {
	_, c := startSim(t, Config{Edge: true})
	if st, b := c.do("POST", "/config/v1/admin/ua_endpoints", `[{"common.ALLTYPES_NAME":"E2","libadminsettings.UACONFIGMANAGER_ENDPOINT_PORT":49331},{"common.ALLTYPES_NAME":"DefaultEndpoint","libadminsettings.UACONFIGMANAGER_ENDPOINT_PORT":49332}]`); st != 207 {
		t.Errorf("partial endpoints: %d %s", st, b)
	}
	if st, _ := c.do("DELETE", "/config/v1/admin/ua_endpoints/E2", ""); st != 200 {
		t.Errorf("delete endpoint: %d", st)
	}
	_, b := c.do("GET", "/config/v1/admin", "")
	if !bytes.Contains(b, []byte("LICENSING_SERVER_PORT")) {
		t.Errorf("Edge admin settings without the license server: %s", b)
	}
	_, s := startSim(t, Config{})
	_, b = s.do("GET", "/config/v1/admin", "")
	if bytes.Contains(b, []byte("LICENSING_")) {
		t.Errorf("Kepware Server admin settings with the license server: %s", b)
	}
}
