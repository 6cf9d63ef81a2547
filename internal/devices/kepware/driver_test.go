package kepware_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/probe"

	"github.com/commission-tool/commission/internal/devices/kepware"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	"github.com/commission-tool/commission/internal/transport"
)

func start(tb testing.TB, cfg simkepware.Config, user, pw string) (*simkepware.Device, *kepware.Device) {
	tb.Helper()
	sim, err := simkepware.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sim.Close)
	return sim, newDev(tb, sim, user, pw)
}

func newDev(tb testing.TB, sim *simkepware.Device, user, pw string) *kepware.Device {
	tb.Helper()
	return newDevWith(tb, sim, user, pw, time.Now().Add(-time.Minute))
}

func newDevSince(tb testing.TB, sim *simkepware.Device, since time.Time) *kepware.Device {
	tb.Helper()
	return newDevWith(tb, sim, "Administrator", simkepware.DefaultAdminPassword, since)
}

func newDevWith(tb testing.TB, sim *simkepware.Device, user, pw string, since time.Time) *kepware.Device {
	tb.Helper()
	p := sim.Ports()
	pins, err := transport.OpenPins(filepath.Join(tb.TempDir(), "known_devices"))
	if err != nil {
		tb.Fatal(err)
	}
	hp := sim.Host() + ":" + strconv.Itoa(p[simkepware.SvcConfigHTTPS])
	if err := pins.Trust(hp, sim.Fingerprint()); err != nil {
		tb.Fatal(err)
	}
	dev := kepware.New(kepware.Options{Options: access.Options{Host: sim.Host(), Ports: p, User: user, Password: pw,
		Pins: pins, Timeout: 2 * time.Second, Since: since}})
	tb.Cleanup(func() { dev.Close(context.Background()) })
	return dev
}

func TestReadParsesEverything(t *testing.T) {
	sim, dev := start(t, simkepware.Config{Edge: true}, "Administrator", simkepware.DefaultAdminPassword)
	s, err := dev.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity.Model != "Kepware Edge" || s.ProductID != "013" || s.Identity.Firmware != "V1.10.1.0" {
		t.Errorf("identity %+v %q", s.Identity, s.ProductID)
	}
	if s.ProjectID != sim.ProjectID() || s.ProjectID == 0 {
		t.Errorf("project id %d, sim %d", s.ProjectID, sim.ProjectID())
	}
	if !s.Project.OPCDA1 || !s.Project.OPCDA2 || !s.Project.OPCDA3 || s.Project.UAAnonymous || !s.Project.UAEnabled {
		t.Errorf("project %+v", s.Project)
	}
	for _, g := range []string{kepware.GroupAdministrators, kepware.GroupServerUsers, kepware.GroupAnonymous} {
		if _, ok := s.GroupNamed(g); !ok {
			t.Errorf("no group %q", g)
		}
	}
	if g, _ := s.GroupNamed(kepware.GroupAdministrators); !g.Perms["SERVER_MANAGE_LICENSES"] || !g.Enabled {
		t.Errorf("Administrators %+v", g)
	}
	if u, ok := s.UserNamed(kepware.UserDefault); !ok || u.Group != kepware.GroupServerUsers {
		t.Errorf("Default User %+v", u)
	}
	if s.DefaultUserBlank == nil || !*s.DefaultUserBlank {
		t.Errorf("default user blank: %v", s.DefaultUserBlank)
	}
	if len(s.Agents) != 3 {
		t.Fatalf("agents %+v", s.Agents)
	}
	for _, a := range s.Agents {
		if a.Collection == kepware.RESTServers && (a.CORS != "*" || a.UseHTTPS || a.Port != sim.Ports()[simkepware.SvcRESTServer]) {
			t.Errorf("rest server %+v", a)
		}
		if a.Collection == kepware.MQTTClients && !strings.HasPrefix(a.URL, "tcp://") {
			t.Errorf("mqtt %+v", a)
		}
	}
	if !s.UAEndpointsExposed || len(s.UAEndpoints) != 1 || len(s.UAEndpoints[0].Deprecated()) != 3 {
		t.Errorf("endpoints %+v", s.UAEndpoints)
	}
	for _, n := range []string{kepware.SvcConfigHTTPS, kepware.SvcConfigHTTP, kepware.SvcOPCUA, kepware.SvcRESTServer} {
		if s.Observed.Ports[n].State != "open" {
			t.Errorf("port %s: %+v", n, s.Observed.Ports[n])
		}
	}
	if c := s.Observed.TLS.Cert; c == nil || c.SHA1Signed || !c.SelfSigned {
		t.Errorf("TLS cert %+v", c)
	}
	// the API client's own HTTPS connection answered for TLS 1.3: no
	// probe of its own was made for it
	if got := s.Observed.TLS.FromSession; !slices.Contains(got, probe.TLS13) || !s.Observed.TLS.Versions[probe.TLS13] {
		t.Errorf("TLS FromSession %v, versions %v: the API connection's TLS 1.3 should be taken as seen", got, s.Observed.TLS.Versions)
	}
	// what was sent: the event log asked by page, from the commissioning start
	var sawEvents bool
	for _, r := range sim.Requests() {
		if r.Path == "/config/v1/event_log" {
			sawEvents = strings.Contains(r.Query, "pageSize=200") && strings.Contains(r.Query, "pageNumber=1") && strings.Contains(r.Query, "start=")
		}
		if r.Method != "GET" {
			t.Errorf("Read sent %s %s", r.Method, r.Path)
		}
	}
	if !sawEvents {
		t.Error("event log not read by page from the start")
	}
	if !s.EventLog.Complete || s.EventLog.Pages != 1 || s.EventLog.Note != "" {
		t.Errorf("event log read %+v", s.EventLog)
	}
	if a := s.Agents[2]; a.Collection != kepware.RESTServers || !a.WriteEndpoint {
		t.Errorf("REST Server write endpoint not read: %+v", a)
	}
}

// Both products are read without any request answered 404 or 405: the
// driver asks only for what the product has.
func TestReadAsksOnlyWhatTheProductHas_Simulator(t *testing.T) {
	for _, edge := range []bool{false, true} {
		sim, dev := start(t, simkepware.Config{Edge: edge}, "Administrator", simkepware.DefaultAdminPassword)
		s, err := dev.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.UAEndpointsExposed != edge {
			t.Errorf("edge %t: UA endpoints exposed %t", edge, s.UAEndpointsExposed)
		}
		askedUA := false
		for _, r := range sim.Requests() {
			if r.Status == 404 || r.Status == 405 || r.Status >= 500 {
				t.Errorf("edge %t: %s %s answered %d", edge, r.Method, r.Path, r.Status)
			}
			askedUA = askedUA || r.Path == "/config/v1/admin/ua_endpoints"
		}
		if askedUA != edge {
			t.Errorf("edge %t: asked for UA endpoints %t", edge, askedUA)
		}
	}
}

func TestUnknownProductRefused_Simulator(t *testing.T) {
	_, dev := start(t, simkepware.Config{ProductID: "099"}, "Administrator", simkepware.DefaultAdminPassword)
	_, err := dev.Read(context.Background())
	if err == nil || !strings.Contains(err.Error(), `product id "099"`) {
		t.Fatalf("got %v", err)
	}
}

// Every status the driver does not expect is an error naming the endpoint
// and the status, a 404 on Kepware Edge's UA endpoints included.
func TestUnexpectedStatusNamesEndpoint_Simulator(t *testing.T) {
	sim, dev := start(t, simkepware.Config{Edge: true}, "Administrator", simkepware.DefaultAdminPassword)
	ctx := context.Background()
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/config/v1/admin/ua_endpoints", 404},
		{"/config/v1/admin/server_users", 500},
		{"/config/v1/event_log", 503},
		{"/config/v1/project/_iot_gateway/rest_servers", 404},
		{"/config/v1/about", 202},
	} {
		sim.FailNext(c.path, c.status)
		_, err := dev.Read(ctx)
		var ae *kepware.APIError
		var se *transport.HTTPStatusError
		if !errors.As(err, &ae) || !errors.As(err, &se) || ae.Status != c.status || se.Path != c.path ||
			!strings.Contains(err.Error(), "GET "+c.path) || !strings.Contains(err.Error(), strconv.Itoa(c.status)) {
			t.Errorf("%s %d: got %v", c.path, c.status, err)
		}
	}
	if _, err := dev.Read(ctx); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
}

// A server with more than one page of security events in the window is
// read whole; events before the window are not.
func TestEventLogReadWholeAcrossPages_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	since := time.Now().Add(-time.Hour)
	sim.AddEvent(since.Add(-time.Minute), "Security", "Test", "before the window")
	const n = 450 // more than two pages of 200
	for i := range n {
		sim.AddEvent(since.Add(time.Duration(i+1)*time.Second), "Security", "Test", fmt.Sprintf("failed login %d", i))
	}
	dev := newDevSince(t, sim, since)
	s, err := dev.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range s.SecurityEvents() {
		got[e.Message] = true
		if e.Message == "before the window" {
			t.Error("an event before the window was kept")
		}
	}
	for i := range n {
		if !got[fmt.Sprintf("failed login %d", i)] {
			t.Fatalf("event %d missing (read %d pages, %d security events)", i, s.EventLog.Pages, len(s.SecurityEvents()))
		}
	}
	if !s.EventLog.Complete || s.EventLog.Pages != 3 || s.EventLog.Note != "" {
		t.Errorf("read %+v", s.EventLog)
	}
	for i := 1; i < len(s.Events); i++ {
		if s.Events[i].Time.Before(s.Events[i-1].Time) {
			t.Fatal("events not oldest first")
		}
	}
}

// The paging is bounded, and says so when it stopped before the window's start.
func TestEventLogPagingBounded_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	since := time.Now().Add(-time.Hour)
	for i := range 2100 {
		sim.AddEvent(since.Add(time.Duration(i+1)*time.Second), "Security", "Test", fmt.Sprintf("event %d", i))
	}
	dev := newDevSince(t, sim, since)
	s, err := dev.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, r := range sim.Requests() {
		if r.Path == "/config/v1/event_log" {
			pages++
		}
	}
	if s.EventLog.Complete || s.EventLog.Pages != 10 || pages != 10 || !strings.Contains(s.EventLog.Note, "stopped after 10 pages") || len(s.Events) != 2000 {
		t.Errorf("read %+v, %d requests, %d events", s.EventLog, pages, len(s.Events))
	}
}

func TestReadOnKepwareServerHasNoEndpoints(t *testing.T) {
	_, dev := start(t, simkepware.Config{}, "Administrator", simkepware.DefaultAdminPassword)
	s, err := dev.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.UAEndpointsExposed || s.ProductID != "012" {
		t.Errorf("exposed %t product %q", s.UAEndpointsExposed, s.ProductID)
	}
}

func TestStageSendsWhatChanged(t *testing.T) {
	sim, dev := start(t, simkepware.Config{Edge: true, StrictProjectID: true}, "Administrator", simkepware.DefaultAdminPassword)
	ctx := context.Background()
	from, err := dev.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.Project.OPCDA1, to.Project.UAAnonymous = false, true
	to.Groups = append(to.Groups, kepware.Group{Name: "OPC UA Clients", Enabled: true, Perms: map[string]bool{"IO_TAG_READ": true}})
	to.Users = append(to.Users, kepware.User{Name: "ua-client", Group: "OPC UA Clients", Enabled: true})
	to.SetSecret("user:ua-client", "Ua-Client-Passw0rd!")
	to.SetSecret("user:Default User", "Default-User-Passw0rd!")
	for i := range to.Agents {
		if to.Agents[i].Collection == kepware.RESTServers {
			to.Agents[i].UseHTTPS, to.Agents[i].CORS = true, "https://hmi.example"
		}
	}
	to.UAEndpoints[0].None, to.UAEndpoints[0].Basic256 = false, 0
	sim.ResetRequests()
	if err := dev.Stage(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range sim.Requests() {
		if r.Method != "GET" {
			lines = append(lines, r.Method+" "+r.Path)
		}
		body, _ := r.Body.(map[string]any)
		switch {
		case r.Method == "PUT" && r.Path == "/config/v1/project":
			if len(body) != 3 || body["opcdaserver.PROJECT_OPC_DA_1_ENABLED"] != false || body["uaserverinterface.PROJECT_OPC_UA_ANONYMOUS_LOGIN"] != true || body["PROJECT_ID"] == nil {
				t.Errorf("project PUT %v", body)
			}
		case r.Method == "POST" && r.Path == "/config/v1/admin/server_users":
			if body["libadminsettings.USERMANAGER_USER_PASSWORD"] != "***" || body["libadminsettings.USERMANAGER_USER_GROUPNAME"] != "OPC UA Clients" {
				t.Errorf("user POST %v", body)
			}
		case r.Method == "PUT" && strings.HasPrefix(r.Path, "/config/v1/project/_iot_gateway/rest_servers/"):
			if body["iot_gateway.REST_SERVER_USE_HTTPS"] != true || body["iot_gateway.REST_SERVER_CORS_ALLOWED_ORIGINS"] != "https://hmi.example" || body["PROJECT_ID"] == nil {
				t.Errorf("agent PUT %v", body)
			}
		}
	}
	want := []string{"PUT /config/v1/project", "POST /config/v1/admin/server_usergroups",
		"PUT /config/v1/admin/server_users/Default%20User", "POST /config/v1/admin/server_users", "PUT /config/v1/project/_iot_gateway/rest_servers/Dashboard",
		"PUT /config/v1/admin/ua_endpoints/DefaultEndpoint"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !sim.Login("ua-client", "Ua-Client-Passw0rd!") || !sim.Login("Default User", "Default-User-Passw0rd!") {
		t.Error("passwords not set")
	}
	after, err := dev.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Project.OPCDA1 || !after.Project.UAAnonymous || *after.DefaultUserBlank || len(after.UAEndpoints[0].Deprecated()) != 1 {
		t.Errorf("not applied: %+v %+v", after.Project, after.UAEndpoints)
	}
	if err := dev.Commit(ctx, func(string) {}); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("401", func(t *testing.T) {
		_, dev := start(t, simkepware.Config{}, "Administrator", "wrong-password")
		_, err := dev.Read(ctx)
		if !errors.Is(err, kepware.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-password") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("403", func(t *testing.T) {
		_, dev := start(t, simkepware.Config{}, "Default User", "")
		_, err := dev.Read(ctx)
		if !errors.Is(err, kepware.ErrForbidden) {
			t.Fatalf("got %v", err)
		}
	})
	sim, dev := start(t, simkepware.Config{}, "Administrator", simkepware.DefaultAdminPassword)
	from, err := dev.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("duplicate group", func(t *testing.T) {
		// a planned group the server already has (created by another client)
		from2 := from.Clone()
		from2.Groups = nil
		err := dev.Stage(ctx, from2, from)
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("weak password", func(t *testing.T) {
		to := from.Clone()
		to.SetSecret("user:Default User", "short")
		err := dev.Stage(ctx, from, to)
		var ae *kepware.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(err.Error(), "14 to 512") || strings.Contains(err.Error(), "short\"") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("stale PROJECT_ID", func(t *testing.T) {
		sim.BumpProjectID()
		to := from.Clone()
		to.Project.OPCDA2 = false
		err := dev.Stage(ctx, from, to)
		var stale *kepware.StaleProjectError
		if !errors.As(err, &stale) || stale.Now != sim.ProjectID() || stale.Sent == stale.Now {
			t.Fatalf("got %v", err)
		}
		if err := dev.Stage(ctx, from, to); err != nil {
			t.Fatalf("after re-read: %v", err)
		}
	})
	t.Run("connection closed", func(t *testing.T) {
		// Go's transport retries an idempotent GET on each kept-alive
		// connection (the driver keeps up to 6), then on a fresh one, so
		// the fault drops more tries than that; what it has left over
		// is cleared before the next read
		sim.DropNext(8)
		_, err := dev.Read(ctx)
		if err == nil || !strings.Contains(err.Error(), "closed the connection") {
			t.Fatalf("got %v", err)
		}
		sim.DropNext(0)
		if _, err := dev.Read(ctx); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})
	t.Run("unpinned certificate", func(t *testing.T) {
		p := sim.Ports()
		pins, _ := transport.OpenPins(filepath.Join(t.TempDir(), "kd"))
		hp := sim.Host() + ":" + strconv.Itoa(p[simkepware.SvcConfigHTTPS])
		d2 := kepware.New(kepware.Options{Options: access.Options{Host: sim.Host(), Ports: map[string]int{kepware.SvcConfigHTTPS: p[simkepware.SvcConfigHTTPS]}, Password: "x", Timeout: time.Second},
			TLS: transport.PinnedTLS(pins, hp)})
		defer d2.Close(ctx)
		_, err := d2.Read(ctx)
		var unknown *transport.UnknownFingerprintError
		if !errors.As(err, &unknown) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSecurityEventsSinceCommissioning(t *testing.T) {
	sim, dev := start(t, simkepware.Config{}, "Administrator", simkepware.DefaultAdminPassword)
	intruder := newDev(t, sim, "intruder", "guess-1")
	if _, err := intruder.Read(context.Background()); !errors.Is(err, kepware.ErrUnauthorized) {
		t.Fatalf("intruder: %v", err)
	}
	s, err := dev.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range s.SecurityEvents() {
		if e.Time.Before(s.Since) {
			t.Errorf("event before commissioning began: %+v", e)
		}
		found = found || strings.Contains(e.Message, "login failed for user 'intruder'")
	}
	if !found {
		t.Errorf("failed login not among %+v", s.SecurityEvents())
	}
}

func BenchmarkRead(b *testing.B) {
	_, dev := start(b, simkepware.Config{Edge: true}, "Administrator", simkepware.DefaultAdminPassword)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dev.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTranscriptMasksPasswords_Simulator: the request transcript names
// every request the driver sends, and no password set or used.
func TestTranscriptMasksPasswords_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	pins, _ := transport.OpenPins(filepath.Join(t.TempDir(), "kd"))
	hp := sim.Host() + ":" + strconv.Itoa(sim.Ports()[simkepware.SvcConfigHTTPS])
	if err := pins.Trust(hp, sim.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	var tr strings.Builder
	dev := kepware.New(kepware.Options{Options: access.Options{Host: sim.Host(), Ports: sim.Ports(), Password: simkepware.DefaultAdminPassword,
		Pins: pins, Timeout: 2 * time.Second, Transcript: &tr}})
	defer dev.Close(context.Background())
	ctx := context.Background()
	from, err := dev.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := from.Clone()
	to.Groups = append(to.Groups, kepware.Group{Name: "OPC UA Clients", Enabled: true, Perms: map[string]bool{"IO_TAG_READ": true}})
	to.Users = append(to.Users, kepware.User{Name: "ua-client", Group: "OPC UA Clients", Enabled: true})
	to.SetSecret("user:ua-client", "Ua-Client-Passw0rd!")
	to.SetSecret("user:Default User", "Default-User-Passw0rd!")
	if err := dev.Stage(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	text := tr.String()
	for _, secret := range []string{simkepware.DefaultAdminPassword, "Ua-Client-Passw0rd!", "Default-User-Passw0rd!"} {
		if strings.Contains(text, secret) {
			t.Errorf("transcript holds %q", secret)
		}
	}
	for _, want := range []string{"GET /config/v1/about -> 200 (basic Administrator)", "GET /config/v1/about -> 200 (basic Default User)",
		`POST /config/v1/admin/server_users -> 201 (basic Administrator) json: {`, `"libadminsettings.USERMANAGER_USER_PASSWORD":"***"`,
		"PUT /config/v1/admin/server_users/Default%20User -> 200"} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
}

// TestLifecycle_Simulator: New sends nothing; Open logs in and reports a
// missing host, pin store or wrong password; Close ends cleanly.
func TestLifecycle_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	ctx := context.Background()
	if err := kepware.New(kepware.Options{}).Open(ctx); err == nil || !strings.Contains(err.Error(), "no host") {
		t.Errorf("no host: %v", err)
	}
	if err := kepware.New(kepware.Options{Options: access.Options{Host: sim.Host()}}).Open(ctx); err == nil || !strings.Contains(err.Error(), "pin store") {
		t.Errorf("no pins: %v", err)
	}
	dev := newDev(t, sim, "Administrator", simkepware.DefaultAdminPassword)
	if n := len(sim.Requests()); n != 0 {
		t.Fatalf("New sent %d requests", n)
	}
	if err := dev.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if r := sim.Requests(); len(r) != 1 || r[0].Path != "/config/v1/about" || r[0].User != "Administrator" {
		t.Errorf("Open sent %+v", r)
	}
	if err := dev.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	bad := newDev(t, sim, "Administrator", "wrong-password")
	if err := bad.Open(ctx); !errors.Is(err, kepware.ErrUnauthorized) {
		t.Errorf("wrong password: %v", err)
	}
}

// TestReadOrderedAndReused_Simulator: a Read sends its requests in
// parallel, yet its transcript lists them in one fixed order, the same
// every time; and the client keeps its connections, the Default User's
// test included: three Reads take no more connections (and TLS
// handshakes) than the requests one Read has in flight at once, at most 8.
func TestReadOrderedAndReused_Simulator(t *testing.T) {
	sim, err := simkepware.Start(simkepware.Config{Edge: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	pins, _ := transport.OpenPins(filepath.Join(t.TempDir(), "kd"))
	hp := sim.Host() + ":" + strconv.Itoa(sim.Ports()[simkepware.SvcConfigHTTPS])
	if err := pins.Trust(hp, sim.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	var tr strings.Builder
	dev := kepware.New(kepware.Options{Options: access.Options{Host: sim.Host(), Ports: sim.Ports(), Password: simkepware.DefaultAdminPassword,
		Pins: pins, Timeout: 2 * time.Second, Transcript: &tr, Since: time.Now().Add(-time.Hour)}})
	defer dev.Close(context.Background())
	ctx := context.Background()
	if err := dev.Open(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"/config/v1/about(Administrator)", "/config/v1/project(Administrator)", "/config/v1/admin/server_usergroups(Administrator)",
		"/config/v1/admin/server_users(Administrator)", "/config/v1/project/_iot_gateway(Administrator)",
		"/config/v1/project/_iot_gateway/mqtt_clients(Administrator)", "/config/v1/project/_iot_gateway/rest_clients(Administrator)",
		"/config/v1/project/_iot_gateway/rest_servers(Administrator)", "/config/v1/admin/ua_endpoints(Administrator)",
		"/config/v1/event_log(Administrator)", "/config/v1/about(Default)"}
	for i := range 3 {
		start := tr.Len()
		if _, err := dev.Read(ctx); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(tr.String()[start:]), "\n") {
			f := strings.Fields(l)
			if len(f) < 5 {
				t.Fatalf("transcript line %q", l)
			}
			path, _, _ := strings.Cut(f[1], "?")
			got = append(got, path+"("+strings.TrimSuffix(f[5], ")")+")")
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("read %d, as the transcript says:\n%v\nwant:\n%v", i, got, want)
		}
	}
	if n := sim.APIConnections(); n < 1 || n > 8 {
		t.Errorf("the login and three reads took %d connections, want 1 to 8", n)
	}
}
