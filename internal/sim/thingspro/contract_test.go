package thingspro_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	tpcatalog "github.com/commission-tool/commission/internal/catalog/thingspro"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

// The contract: every request the driver sends and every reply the
// simulator gives must validate against Moxa's published OpenAPI files
// (testdata/openapi, copied from TPE-TIGER.github.io AIG501/V1.4.0; see
// testdata/openapi/PATCHES.md for the few places where the files
// contradict their own examples and how the copy settles them).

// undocumented are endpoints the guide needs that the TPE 2.x files do not
// describe (thingspro.md §5 NAT: AIG-302's endpoint, probed by the driver).
var undocumented = map[string]bool{
	"/device/firewall/user/snat": true,
}

// invalidOnPurpose marks a request the test sends against the schema on
// purpose (to see the error the gateway answers); only its reply is checked.
const invalidOnPurpose = "X-Contract-Invalid"

type specs struct {
	docs []*openapi3.T
}

func loadSpecs(t *testing.T) specs {
	t.Helper()
	var s specs
	for _, f := range []string{"core/index.yaml", "device/index.yaml", "cloud/index.yaml"} {
		l := openapi3.NewLoader()
		l.IsExternalRefsAllowed = true
		doc, err := l.LoadFromFile(filepath.Join("testdata", "openapi", f))
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		s.docs = append(s.docs, doc)
	}
	return s
}

// route finds the operation for a path below /api/v1.
// The template with the fewest parameters wins ("/users/me" over "/users/{id}").
func (s specs) route(method, path string) (*openapi3filter.RequestValidationInput, bool) {
	var best *openapi3filter.RequestValidationInput
	for _, doc := range s.docs {
		for tmpl, item := range doc.Paths.Map() {
			params, ok := matchPath(tmpl, path)
			if !ok {
				continue
			}
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			if best == nil || len(params) < len(best.PathParams) {
				best = &openapi3filter.RequestValidationInput{PathParams: params,
					Route: &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}}
			}
		}
	}
	return best, best != nil
}

// matchPath matches "/users/{id}" against "/users/3".
func matchPath(tmpl, path string) (map[string]string, bool) {
	ts, ps := strings.Split(strings.Trim(tmpl, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if len(ts) != len(ps) {
		return nil, false
	}
	params := map[string]string{}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
			params[strings.Trim(ts[i], "{}")] = ps[i]
			continue
		}
		if ts[i] != ps[i] {
			return nil, false
		}
	}
	return params, true
}

type contract struct {
	t     *testing.T
	specs specs
	mu    sync.Mutex
	errs  []string
	seen  map[string]int
}

func (c *contract) observe(x simthingspro.Exchange) {
	path := strings.TrimPrefix(x.Path, "/api/v1")
	key := x.Method + " " + path
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[key]++
	if undocumented[path] {
		return
	}
	if x.Status == http.StatusNotFound || x.Status == http.StatusMethodNotAllowed {
		// not in the files by definition: the JSON error shape is checked
		// by the simulator's own tests
		if !json.Valid(x.RespBody) || !strings.Contains(string(x.RespBody), `"error"`) {
			c.errs = append(c.errs, fmt.Sprintf("%s %d: not the JSON error shape: %q", key, x.Status, x.RespBody))
		}
		return
	}
	in, ok := c.findRoute(x.Method, path)
	if !ok {
		c.errs = append(c.errs, key+": not in the OpenAPI files")
		return
	}
	u := &url.URL{Scheme: "https", Host: "gateway", Path: x.Path, RawQuery: x.Query}
	req, _ := http.NewRequest(x.Method, u.String(), bytes.NewReader(x.ReqBody))
	req.Header = x.ReqHeader.Clone()
	in.Request = req
	rin := &openapi3filter.RequestValidationInput{Request: req, PathParams: in.PathParams,
		Route: in.Route, Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	ctx := context.Background()
	if err := openapi3filter.ValidateRequest(ctx, rin); err != nil && x.ReqHeader.Get(invalidOnPurpose) == "" {
		c.errs = append(c.errs, fmt.Sprintf("request %s: %v", key, err))
	}
	rout := &openapi3filter.ResponseValidationInput{RequestValidationInput: rin, Status: x.Status, Header: x.RespHeader,
		Options: &openapi3filter.Options{MultiError: true}}
	rout.SetBodyBytes(x.RespBody)
	if err := openapi3filter.ValidateResponse(ctx, rout); err != nil {
		c.errs = append(c.errs, fmt.Sprintf("response %s %d: %v", key, x.Status, err))
	}
}

func (c *contract) findRoute(method, path string) (*openapi3filter.RequestValidationInput, bool) {
	return c.specs.route(method, path)
}

func TestContract(t *testing.T) {
	c := &contract{t: t, specs: loadSpecs(t), seen: map[string]int{}}
	sim, err := simthingspro.Start(simthingspro.Config{Observe: c.observe, LockoutThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ctx := context.Background()
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "pins"))
	if err != nil {
		t.Fatal(err)
	}
	_ = ps.Trust(sim.Addr(simthingspro.PortHTTPS), transport.Fingerprint(sim.CertDER()))
	opts := thingspro.Options{Options: access.Options{Host: sim.Host(), User: "admin", Password: "admin@123", NewPassword: "Contract-Test-2024!",
		Pins: ps, Ports: sim.Ports(), Timeout: 2 * time.Second}}

	// a lockout first, on another account name
	bad := opts
	bad.User, bad.Password = "nobody", "wrong"
	for range 2 {
		_, _ = thingspro.Connect(ctx, bad)
	}
	drv, err := thingspro.Connect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close(context.Background())
	s := steps.NewSession(tpcatalog.Catalog(), drv, nil)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ca, err := sim.PlantCA()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{sim.Host()}})
	if err != nil {
		t.Fatal(err)
	}
	pw := "Personal-Pass-2024!"
	plans := []struct {
		id string
		in steps.Values
	}{
		{"thingspro.1.1.personal-account", steps.Values{"name": "jdoe", "role": "operator", "password": pw, "confirm": pw}},
		{"thingspro.1.1.personal-account", steps.Values{"name": "ops", "role": "Administrator", "password": pw, "confirm": pw}},
		{"thingspro.1.2.default-account", steps.Values{"action": "change-password", "password": "Admin-Vault-2024!x", "confirm": "Admin-Vault-2024!x"}},
		{"thingspro.2.1.1.cellular", nil}, {"thingspro.2.1.2.dhcp-server", nil}, {"thingspro.2.1.3.lan", steps.Values{"keep": "LAN1"}},
		{"thingspro.2.1.4.wifi", nil}, {"thingspro.2.2.1.http", nil}, {"thingspro.2.2.2.local-console", nil}, {"thingspro.2.2.3.nat", nil},
		{"thingspro.2.2.4.sd-card", nil}, {"thingspro.2.3.1.proxy", nil}, {"thingspro.3.3.firewall", steps.Values{"delete": "83"}},
		{"thingspro.3.1.time", steps.Values{"zone": "Europe/Berlin", "server": "pool.ntp.org"}},
		{"thingspro.3.2.https-cert", steps.Values{"cert": certPEM, "key": keyPEM}},
	}
	for _, p := range plans {
		if _, err := s.Plan(p.id, p.in); err != nil {
			t.Fatalf("plan %s: %v", p.id, err)
		}
		if err := s.Apply(ctx, p.id); err != nil {
			t.Fatalf("apply %s: %v", p.id, err)
		}
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// the personal administrator, proven by the commit's read, deactivates admin
	opsOpts := opts
	opsOpts.User, opsOpts.Password = "ops", pw
	ops, err := thingspro.Connect(ctx, opsOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close(context.Background())
	s2 := steps.NewSession(tpcatalog.Catalog(), ops, nil)
	if err := s2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Plan("thingspro.1.2.default-account", steps.Values{"action": "deactivate"}); err != nil {
		t.Fatal(err)
	}
	if err := s2.Apply(ctx, "thingspro.1.2.default-account"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// the error shapes: unknown path, wrong method, login without a password
	for _, probe := range []struct{ method, path, body string }{
		{"GET", "/api/v1/no/such/path", ""}, {"DELETE", "/api/v1/device/general", ""}, {"POST", "/api/v1/auth", `{"name":"admin"}`},
	} {
		req, _ := http.NewRequest(probe.method, "https://"+sim.Addr(simthingspro.PortHTTPS)+probe.path, strings.NewReader(probe.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(invalidOnPurpose, "1")
		resp, err := rawClient(sim).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, must := range []string{"POST /auth", "PUT /users/me/password", "POST /users", "POST /roles", "PUT /users/1/password",
		"PATCH /device/cellulars/1", "PATCH /device/wifi/1", "PATCH /device/dhcpservers/2", "PATCH /device/ethernets/2",
		"PUT /system/services/httpservice/disable", "PUT /system/serialconsole", "PUT /system/provision", "PUT /system/discovery",
		"PATCH /device/time", "DELETE /device/firewall/inbounds", "PUT /system/httpserver", "GET /mqtt", "GET /azure-device",
		"GET /users/3", "PUT /users/1", "GET /users/1"} {
		if c.seen[must] == 0 {
			t.Errorf("the session never sent %s", must)
		}
	}
	for _, e := range c.errs {
		t.Error(e)
	}
	t.Logf("%d distinct calls validated", len(c.seen))
}

// rawClient talks to the simulator without the driver (its own certificate).
func rawClient(sim *simthingspro.Device) *http.Client {
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // our own simulator on loopback
}
