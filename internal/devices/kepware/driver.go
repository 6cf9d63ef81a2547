package kepware

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
)

// Default ports (kepware.md §8).
const (
	DefaultHTTPSPort = 57512
	DefaultHTTPPort  = 57412
	DefaultOPCUAPort = 49320
	DefaultRESTPort  = 39320
)

// Options says how to reach one Kepware server: the shared
// access.Options (Host, Ports keyed SvcConfigHTTPS, SvcConfigHTTP,
// SvcOPCUA and SvcRESTServer, User, Password, Pins, Timeout, Transcript,
// Since, Progress) and what only Kepware needs. Zero values take the
// defaults: ports 57512, 57412, 49320 and 39320, user "Administrator",
// timeout 5s, the event log of the last 24 hours.
type Options struct {
	access.Options
	// TLS, when set, verifies the HTTPS port instead of the pinned
	// configuration built from Pins.
	TLS *tls.Config
	// UseHTTP talks to the API over plain HTTP (the guide forbids it in
	// production; for a server whose HTTPS is not set up yet).
	UseHTTP bool
	// Now is the clock, default time.Now.
	Now func() time.Time
	// Observe, when set, receives every API exchange, masked (capture).
	Observe func(transport.RESTExchange)
}

// config is Options resolved.
type config struct {
	Host                                     string // IPv4 address or name; Kepware does not listen on IPv6
	HTTPSPort, HTTPPort, OPCUAPort, RESTPort int
	User, Password                           string
	Pins                                     *transport.PinStore
	TLS                                      *tls.Config
	UseHTTP                                  bool
	Since                                    time.Time
	Timeout                                  time.Duration
	Now                                      func() time.Time
	Transcript                               io.Writer
	Observe                                  func(transport.RESTExchange)
	Progress                                 func(string)
	mask                                     string // secret values in transcripts, default "***"
}

// Device is a Kepware server reached through the Configuration API. It
// satisfies the engine's Device[State] interface and the shared driver
// lifecycle (New, Open, Read, Stage, Commit, Close). Safe for use from
// one goroutine at a time, as the engine uses it.
type Device struct {
	o   config
	api *client

	mu        sync.Mutex
	projectID int64
}

// New prepares a driver. It does no I/O and cannot fail: a missing host
// or pin store is reported by Open.
func New(o Options) *Device {
	c := config{Host: strings.TrimSpace(o.Host), User: o.User, Password: o.Password, Pins: o.Pins, TLS: o.TLS,
		UseHTTP: o.UseHTTP, Since: o.Since, Timeout: o.Timeout, Now: o.Now, Transcript: o.Transcript,
		Observe: o.Observe, Progress: o.Progress,
		HTTPSPort: o.Ports[SvcConfigHTTPS], HTTPPort: o.Ports[SvcConfigHTTP], OPCUAPort: o.Ports[SvcOPCUA], RESTPort: o.Ports[SvcRESTServer]}
	for _, p := range []struct {
		v   *int
		def int
	}{{&c.HTTPSPort, DefaultHTTPSPort}, {&c.HTTPPort, DefaultHTTPPort}, {&c.OPCUAPort, DefaultOPCUAPort}, {&c.RESTPort, DefaultRESTPort}} {
		if *p.v == 0 {
			*p.v = p.def
		}
	}
	if c.User == "" {
		c.User = UserAdministrator
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Since.IsZero() {
		c.Since = c.Now().Add(-24 * time.Hour)
	}
	return &Device{o: c}
}

// Open builds the API client and logs in (GET /about with the
// credentials). Read, Stage and Commit open the driver when needed.
func (d *Device) Open(ctx context.Context) error {
	if d.api != nil {
		return nil
	}
	if d.o.Host == "" {
		return errors.New("kepware: no host given")
	}
	if !d.o.UseHTTP && d.o.TLS == nil {
		if d.o.Pins == nil {
			return errors.New("kepware: HTTPS needs a pin store for the server's certificate")
		}
		d.o.TLS = transport.PinnedTLS(d.o.Pins, d.hostport(d.o.HTTPSPort))
	}
	api, err := d.newAPI(d.o.User, d.o.Password)
	if err != nil {
		return err
	}
	if _, err := api.getObject(ctx, pathAbout, nil); err != nil {
		api.close()
		return fmt.Errorf("log in to the Configuration API: %w", err)
	}
	d.api = api
	return nil
}

// Close drops the API's idle connections. The Configuration API keeps no
// session, so there is nothing to log out of.
func (d *Device) Close(context.Context) error {
	if d.api != nil {
		d.api.close()
	}
	return nil
}

func (d *Device) hostport(port int) string { return net.JoinHostPort(d.o.Host, strconv.Itoa(port)) }

// readParallel is how many API requests a Read has in flight at once, and
// how many connections the client keeps open to the server.
const readParallel = 6

// Read reads the identity, project properties, user groups and users, IoT
// Gateway agents, UA endpoints (where the product has them) and the event
// log since commissioning began, and probes the ports and the HTTPS
// certificate. The port probes start with the first request (the
// identity), the TLS probe and the other reads when it has come; the
// reads run readParallel at a time on the client's kept-alive
// connections, and the transcript lists them in a fixed order.
func (d *Device) Read(ctx context.Context) (State, error) {
	if err := d.Open(ctx); err != nil {
		return State{}, err
	}
	pctx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	var ports []probe.Result
	var tlsRep probe.TLSReport
	var wg sync.WaitGroup
	wg.Go(func() { ports = d.probePorts(pctx) })
	s, prod, err := d.readAbout(ctx)
	if err != nil {
		stopProbes()
		wg.Wait()
		return State{}, err
	}
	// over HTTPS the API client's own verified connection is the HTTPS
	// port's: the probe repeats none of what it showed
	var seen *transport.TLSSeen
	if s, ok := d.api.rc.TLSSeen(); ok {
		seen = &s
	}
	wg.Go(func() { tlsRep = probe.TLSWith(pctx, d.o.Host, d.o.HTTPSPort, d.o.Timeout, seen) })

	// each part reads into its own State; the parts are copied into s in
	// this order
	var project, groups, users, agents, endpoints, events State
	events.Since = s.Since
	var blank bool
	tasks := []func(context.Context) error{
		func(ctx context.Context) error { return d.readProject(ctx, &project) },
		func(ctx context.Context) error { return d.readGroups(ctx, &groups) },
		func(ctx context.Context) error { return d.readUsers(ctx, &users) },
		func(ctx context.Context) error { return d.readAgents(ctx, &agents) },
	}
	if prod.UAEndpoints {
		tasks = append(tasks, func(ctx context.Context) error { return d.readEndpoints(ctx, &endpoints) })
	}
	tasks = append(tasks,
		func(ctx context.Context) error { return d.readEvents(ctx, &events) },
		func(ctx context.Context) (err error) {
			if blank, err = d.defaultUserBlank(ctx); err != nil {
				return fmt.Errorf("test the Default User's empty password: %w", err)
			}
			return nil
		})
	err = transport.RunOrdered(ctx, readParallel, tasks...)
	if err != nil {
		stopProbes()
	}
	wg.Wait()
	if err != nil {
		return State{}, err
	}
	s.ProjectID, s.Project = project.ProjectID, project.Project
	s.Groups, s.Users = groups.Groups, users.Users
	s.IoTGateway, s.Agents = agents.IoTGateway, agents.Agents
	s.UAEndpointsExposed, s.UAEndpoints = endpoints.UAEndpointsExposed, endpoints.UAEndpoints
	s.Events, s.EventLog = events.Events, events.EventLog
	s.DefaultUserBlank = &blank
	d.observed(&s, ports, tlsRep)
	return s, nil
}

// readAbout reads the server's identity and checks that the tool knows
// the product.
func (d *Device) readAbout(ctx context.Context) (State, Product, error) {
	s := State{User: d.o.User, Since: d.o.Since.UTC(), Via: "https"}
	if d.o.UseHTTP {
		s.Via = "http"
	}
	s.Identity = devices.Identity{Family: "kepware", Address: d.o.Host, Sources: []string{"config-api"}}
	about, err := d.api.getObject(ctx, pathAbout, nil)
	if err != nil {
		return State{}, Product{}, fmt.Errorf("read server identity: %w", err)
	}
	s.Identity.Model = about.str("product_name")
	s.Identity.Firmware = about.str("product_version")
	s.ProductID = about.str("product_id")
	s.VersionMajor, s.VersionMinor = int(about.integer("product_version_major")), int(about.integer("product_version_minor"))
	prod, ok := Products[s.ProductID]
	if !ok {
		return State{}, Product{}, fmt.Errorf("the server reports product id %q (%s), which this tool does not know: it supports 012 (Kepware Server / KEPServerEX) and 013 (Kepware Edge)", s.ProductID, s.Identity.Model)
	}
	if s.VersionMajor < prod.MinMajor {
		return State{}, Product{}, fmt.Errorf("%s %s is older than this tool supports (version %d or later): upgrade the server", prod.Name, s.Identity.Firmware, prod.MinMajor)
	}
	return s, prod, nil
}

func (d *Device) readProject(ctx context.Context, s *State) error {
	p, err := d.api.getObject(ctx, pathProject, nil)
	if err != nil {
		return fmt.Errorf("read project properties: %w", err)
	}
	s.ProjectID = p.integer(propProjectID)
	d.mu.Lock()
	d.projectID = s.ProjectID
	d.mu.Unlock()
	s.Project = Project{
		OPCDA1: p.boolean(propDA1), OPCDA2: p.boolean(propDA2), OPCDA3: p.boolean(propDA3),
		DADiagnostics: p.boolean(propDADiags),
		UAEnabled:     p.boolean(propUAOn), UAAnonymous: p.boolean(propUAAnon), UADiagnostics: p.boolean(propUADiags),
	}
	return nil
}

func (d *Device) readGroups(ctx context.Context, s *State) error {
	groups, err := d.api.getList(ctx, pathGroups, nil)
	if err != nil {
		return fmt.Errorf("read user groups: %w", err)
	}
	for _, g := range groups {
		grp := Group{Name: g.str(propName), Description: g.str(propDesc), Enabled: g.boolean(propGroupOn), Perms: map[string]bool{}}
		for _, p := range Permissions {
			grp.Perms[p] = g.boolean(PermPrefix + p)
		}
		s.Groups = append(s.Groups, grp)
	}
	return nil
}

func (d *Device) readUsers(ctx context.Context, s *State) error {
	users, err := d.api.getList(ctx, pathUsers, nil)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	for _, u := range users {
		s.Users = append(s.Users, User{Name: u.str(propName), Group: u.str(propUserGroup),
			Enabled: u.boolean(propUserOn), Type: int(u.integer(propUserType))})
	}
	return nil
}

// readAgents asks the IoT Gateway which agent collections it has
// (?content=type_definition) and reads those the guide covers. Only this
// one endpoint may answer 404: the IoT Gateway plug-in is not installed.
func (d *Device) readAgents(ctx context.Context, s *State) error {
	td, err := d.api.getObject(ctx, pathIoTGateway, url.Values{"content": {"type_definition"}})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the IoT Gateway's agent types: %w", err)
	}
	s.IoTGateway = true
	var have []string
	if cc, ok := td["child_collections"].([]any); ok {
		for _, c := range cc {
			if n, ok := c.(string); ok {
				have = append(have, n)
			}
		}
	}
	var colls []string
	for _, coll := range []string{MQTTClients, RESTClients, RESTServers} {
		if slices.Contains(have, coll) {
			colls = append(colls, coll)
		}
	}
	lists := make([][]obj, len(colls))
	tasks := make([]func(context.Context) error, len(colls))
	for i, coll := range colls {
		tasks[i] = func(ctx context.Context) (err error) {
			if lists[i], err = d.api.getList(ctx, pathIoTGateway+"/"+coll, nil); err != nil {
				return fmt.Errorf("read IoT Gateway %s: %w", coll, err)
			}
			return nil
		}
	}
	if err := transport.RunOrdered(ctx, len(tasks), tasks...); err != nil {
		return err
	}
	for i, coll := range colls {
		for _, a := range lists[i] {
			ag := Agent{Collection: coll, Name: a.str(propName), Enabled: a.boolean(propAgentOn)}
			switch coll {
			case MQTTClients:
				ag.URL, ag.Username, ag.TLSVersion = a.str(propMQTTURL), a.str(propMQTTUser), int(a.integer(propMQTTTLS))
			case RESTClients:
				ag.URL, ag.Username = a.str(propRESTURL), a.str(propRESTUser)
			case RESTServers:
				ag.Port, ag.UseHTTPS = int(a.integer(propRSPort)), a.boolean(propRSHTTPS)
				ag.CORS, ag.Anonymous = a.str(propRSCORS), a.boolean(propRSAnonymous)
				ag.WriteEndpoint = a.boolean(propRSWrite)
			}
			s.Agents = append(s.Agents, ag)
		}
	}
	return nil
}

func (d *Device) readEndpoints(ctx context.Context, s *State) error {
	list, err := d.api.getList(ctx, pathUAEndpts, nil)
	if err != nil {
		return fmt.Errorf("read UA endpoints: %w", err)
	}
	s.UAEndpointsExposed = true
	for _, e := range list {
		s.UAEndpoints = append(s.UAEndpoints, UAEndpoint{Name: e.str(propName), Enabled: e.boolean(propEPOn),
			Port: int(e.integer(propEPPort)), None: e.boolean(propEPNone),
			Basic256Sha256: int(e.integer(propEPSha256)), Basic128Rsa15: int(e.integer(propEP128)), Basic256: int(e.integer(propEP256))})
	}
	return nil
}

// eventLayouts are the timestamp forms accepted in event_log entries
// (the exact form is not documented, kepware.md §10).
var eventLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

func parseEventTime(v string) (time.Time, bool) {
	for _, l := range eventLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// readEvents reads the event log from commissioning's start to now, page
// by page, until a page comes back short, at most eventMaxPages pages. It
// does not depend on the pagination element's shape: elements without a
// timestamp are skipped. What it did is in s.EventLog.
func (d *Device) readEvents(ctx context.Context, s *State) error {
	end := d.o.Now().UTC()
	seen := map[Event]bool{}
	var first Event
	for page := 1; page <= eventMaxPages; page++ {
		q := url.Values{"start": {s.Since.Format(eventTimeLayout)}, "end": {end.Format(eventTimeLayout)},
			"pageSize": {strconv.Itoa(eventPageSize)}, "pageNumber": {strconv.Itoa(page)},
			"limit": {strconv.Itoa(eventPageSize * eventMaxPages)}}
		list, err := d.api.getList(ctx, pathEventLog, q)
		if err != nil {
			return fmt.Errorf("read event log page %d: %w", page, err)
		}
		var entries []Event
		for _, e := range list {
			ts, ok := parseEventTime(e.str("timestamp"))
			if !ok {
				continue // the pagination element
			}
			entries = append(entries, Event{Time: ts, Kind: e.str("event"), Source: e.str("source"), Message: e.str("message")})
		}
		s.EventLog.Pages = page
		if page > 1 && len(entries) > 0 && entries[0] == first {
			s.EventLog.Complete = false
			s.EventLog.Note = fmt.Sprintf("the server answered page %d with page 1 again (it ignores pageNumber): only the first %d events of the window were read", page, eventPageSize)
			break
		}
		if page == 1 && len(entries) > 0 {
			first = entries[0]
		}
		inWindow := 0
		for _, e := range entries {
			if e.Time.Before(s.Since) || e.Time.After(end) || seen[e] {
				continue // outside the window (a server that ignores start/end) or already read
			}
			seen[e] = true
			inWindow++
			s.Events = append(s.Events, e)
		}
		switch {
		case len(entries) < eventPageSize:
			s.EventLog.Complete = true
		case len(entries) > eventPageSize:
			s.EventLog.Complete = true // the server ignores pageSize and answered the whole window at once
		case inWindow == 0:
			s.EventLog.Complete = true // everything on this page is older than the window
		default:
			if page == eventMaxPages {
				s.EventLog.Note = fmt.Sprintf("stopped after %d pages (%d events, the tool's limit): older events since %s were not read; read them in the server's Event Log", page, len(s.Events), s.Since.Format("2006-01-02 15:04"))
			}
			continue
		}
		break
	}
	sort.SliceStable(s.Events, func(i, j int) bool { return s.Events[i].Time.Before(s.Events[j].Time) })
	return nil
}

// defaultUserBlank tries "Default User" with an empty password: 401
// means the server refuses it; 200 or 403 mean it logged in. It goes on
// the client's kept-alive connections, with its own credentials.
func (d *Device) defaultUserBlank(ctx context.Context) (bool, error) {
	_, _, err := d.api.doAs(ctx, transport.BasicAuth(UserDefault, ""), http.MethodGet, pathAbout, http.StatusOK, http.StatusForbidden)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrUnauthorized):
		return false, nil
	}
	return false, err
}

// newAPI builds a client for the API port the options name.
func (d *Device) newAPI(user, pass string) (*client, error) {
	if d.o.UseHTTP {
		return newClient("http://"+d.hostport(d.o.HTTPPort), nil, user, pass, d.o)
	}
	return newClient("https://"+d.hostport(d.o.HTTPSPort), d.o.TLS, user, pass, d.o)
}

// probePorts checks the ports from outside.
func (d *Device) probePorts(ctx context.Context) []probe.Result {
	targets := []probe.Target{
		{Name: SvcConfigHTTPS, Network: "tcp", Port: d.o.HTTPSPort},
		{Name: SvcConfigHTTP, Network: "tcp", Port: d.o.HTTPPort},
		{Name: SvcOPCUA, Network: "tcp", Port: d.o.OPCUAPort},
		{Name: SvcRESTServer, Network: "tcp", Port: d.o.RESTPort},
	}
	return probe.Run(ctx, d.o.Host, targets, d.o.Timeout)
}

// observed records what the probes saw, the certificate described.
func (d *Device) observed(s *State, ports []probe.Result, tlsRep probe.TLSReport) {
	s.Observed.Ports = map[string]probe.Result{}
	for _, r := range ports {
		s.Observed.Ports[r.Name] = r
	}
	s.Observed.TLS = tlsRep
	if c := s.Observed.TLS.Cert; c != nil {
		if b, _ := pem.Decode([]byte(c.PEM)); b != nil {
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
				ci := transport.DescribeCert(cert, d.o.Now())
				s.Observed.APICert = &ci
			}
		}
	}
}

// Stage sends the requests that take the server from one state to the
// other. Kepware applies each change at once, so nothing waits for Commit.
// Project-tree changes carry the PROJECT_ID read last; a stale one is a
// *StaleProjectError, after which the driver has read the new revision.
func (d *Device) Stage(ctx context.Context, from, to State) error {
	if err := d.Open(ctx); err != nil {
		return err
	}
	if err := d.stageProject(ctx, from, to); err != nil {
		return err
	}
	if err := d.stageGroups(ctx, from, to); err != nil {
		return err
	}
	if err := d.stageUsers(ctx, from, to); err != nil {
		return err
	}
	if err := d.stageAgents(ctx, from, to); err != nil {
		return err
	}
	return d.stageEndpoints(ctx, from, to)
}

// putProjectTree PUTs body with the current PROJECT_ID and learns the new
// revision after the change.
func (d *Device) putProjectTree(ctx context.Context, path string, body obj) error {
	d.mu.Lock()
	sent := d.projectID
	d.mu.Unlock()
	body[propProjectID] = sent
	err := d.api.put(ctx, path, body)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest &&
		(ae.Property == propProjectID || strings.Contains(strings.ToLower(ae.Message), staleHint)) {
		now, rerr := d.refreshProjectID(ctx)
		if rerr != nil {
			return fmt.Errorf("the server refused the project revision, and reading it again failed: %w", rerr)
		}
		return &StaleProjectError{Sent: sent, Now: now}
	}
	if err != nil {
		return err
	}
	if _, err := d.refreshProjectID(ctx); err != nil {
		return fmt.Errorf("read the project revision after the change: %w", err)
	}
	return nil
}

func (d *Device) refreshProjectID(ctx context.Context) (int64, error) {
	p, err := d.api.getObject(ctx, pathProject, nil)
	if err != nil {
		return 0, err
	}
	id := p.integer(propProjectID)
	d.mu.Lock()
	d.projectID = id
	d.mu.Unlock()
	return id, nil
}

func (d *Device) stageProject(ctx context.Context, from, to State) error {
	body := obj{}
	set := func(k string, a, b bool) {
		if a != b {
			body[k] = b
		}
	}
	f, t := from.Project, to.Project
	set(propDA1, f.OPCDA1, t.OPCDA1)
	set(propDA2, f.OPCDA2, t.OPCDA2)
	set(propDA3, f.OPCDA3, t.OPCDA3)
	set(propDADiags, f.DADiagnostics, t.DADiagnostics)
	set(propUAOn, f.UAEnabled, t.UAEnabled)
	set(propUAAnon, f.UAAnonymous, t.UAAnonymous)
	set(propUADiags, f.UADiagnostics, t.UADiagnostics)
	if len(body) == 0 {
		return nil
	}
	if err := d.putProjectTree(ctx, pathProject, body); err != nil {
		return fmt.Errorf("change project properties: %w", err)
	}
	return nil
}

func groupBody(g Group, perms func(string) bool) obj {
	b := obj{}
	for _, p := range Permissions {
		if perms(p) {
			b[PermPrefix+p] = g.Perms[p]
		}
	}
	return b
}

func (d *Device) stageGroups(ctx context.Context, from, to State) error {
	for _, g := range to.Groups {
		old, ok := from.GroupNamed(g.Name)
		if !ok {
			b := groupBody(g, func(string) bool { return true })
			b[propName], b[propGroupOn] = g.Name, g.Enabled
			if g.Description != "" {
				b[propDesc] = g.Description
			}
			if err := d.api.post(ctx, pathGroups, b); err != nil {
				return fmt.Errorf("create group %q: %w", g.Name, explainDuplicate(err, "group", g.Name))
			}
			continue
		}
		b := groupBody(g, func(p string) bool { return g.Perms[p] != old.Perms[p] })
		if g.Enabled != old.Enabled {
			b[propGroupOn] = g.Enabled
		}
		if len(b) == 0 {
			continue
		}
		if err := d.api.put(ctx, pathGroups+"/"+escape(g.Name), b); err != nil {
			return fmt.Errorf("change group %q: %w", g.Name, err)
		}
	}
	return nil
}

// explainDuplicate turns the server's "already used" reply into a plain message.
func explainDuplicate(err error, kind, name string) error {
	var ae *APIError
	var ms *MultiStatusError
	text := ""
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		text = ae.Message + " " + ae.Description
	} else if errors.As(err, &ms) {
		text = ms.Error()
	}
	if strings.Contains(strings.ToLower(text), "already") {
		return fmt.Errorf("a %s named %q already exists on the server: choose another name (%w)", kind, name, err)
	}
	return err
}

func (d *Device) stageUsers(ctx context.Context, from, to State) error {
	for _, u := range to.Users {
		pw, hasPw := to.Secrets["user:"+u.Name]
		old, ok := from.UserNamed(u.Name)
		if !ok {
			if !hasPw {
				return fmt.Errorf("create user %q: no password given", u.Name)
			}
			b := obj{propName: u.Name, propUserGroup: u.Group, propUserOn: u.Enabled, propUserPass: pw}
			if err := d.api.post(ctx, pathUsers, b); err != nil {
				return fmt.Errorf("create user %q: %w", u.Name, explainDuplicate(err, "user", u.Name))
			}
			continue
		}
		b := obj{}
		if u.Group != old.Group {
			b[propUserGroup] = u.Group
		}
		if u.Enabled != old.Enabled {
			b[propUserOn] = u.Enabled
		}
		if hasPw && pw != from.Secrets["user:"+u.Name] {
			b[propUserPass] = pw
		}
		if len(b) == 0 {
			continue
		}
		if err := d.api.put(ctx, pathUsers+"/"+escape(u.Name), b); err != nil {
			return fmt.Errorf("change user %q: %w", u.Name, err)
		}
	}
	return nil
}

func (d *Device) stageAgents(ctx context.Context, from, to State) error {
	for _, a := range to.Agents {
		i := slices.IndexFunc(from.Agents, func(b Agent) bool { return b.Key() == a.Key() })
		if i < 0 {
			return fmt.Errorf("agent %s: the tool does not create IoT Gateway agents", a.Key())
		}
		old := from.Agents[i]
		b := obj{}
		pw, hasPw := to.Secrets["agent:"+a.Key()]
		newPw := hasPw && pw != from.Secrets["agent:"+a.Key()]
		switch a.Collection {
		case MQTTClients:
			if a.URL != old.URL {
				b[propMQTTURL] = a.URL
			}
			if a.Username != old.Username {
				b[propMQTTUser] = a.Username
			}
			if a.TLSVersion != old.TLSVersion {
				b[propMQTTTLS] = a.TLSVersion
			}
			if newPw {
				b[propMQTTPass] = pw
			}
		case RESTClients:
			if a.URL != old.URL {
				b[propRESTURL] = a.URL
			}
			if a.Username != old.Username {
				b[propRESTUser] = a.Username
			}
			if newPw {
				b[propRESTPass] = pw
			}
		case RESTServers:
			if a.UseHTTPS != old.UseHTTPS {
				b[propRSHTTPS] = a.UseHTTPS
			}
			if a.CORS != old.CORS {
				b[propRSCORS] = a.CORS
			}
			if a.Anonymous != old.Anonymous {
				b[propRSAnonymous] = a.Anonymous
			}
			if a.WriteEndpoint != old.WriteEndpoint {
				b[propRSWrite] = a.WriteEndpoint
			}
		}
		if a.Enabled != old.Enabled {
			b[propAgentOn] = a.Enabled
		}
		if len(b) == 0 {
			continue
		}
		if err := d.putProjectTree(ctx, pathIoTGateway+"/"+a.Collection+"/"+escape(a.Name), b); err != nil {
			return fmt.Errorf("change agent %s: %w", a.Key(), err)
		}
	}
	return nil
}

func (d *Device) stageEndpoints(ctx context.Context, from, to State) error {
	for _, e := range to.UAEndpoints {
		i := slices.IndexFunc(from.UAEndpoints, func(b UAEndpoint) bool { return b.Name == e.Name })
		if i < 0 {
			return fmt.Errorf("UA endpoint %q: the tool does not create endpoints", e.Name)
		}
		old := from.UAEndpoints[i]
		b := obj{}
		if e.Enabled != old.Enabled {
			b[propEPOn] = e.Enabled
		}
		if e.None != old.None {
			b[propEPNone] = e.None
		}
		if e.Basic256Sha256 != old.Basic256Sha256 {
			b[propEPSha256] = e.Basic256Sha256
		}
		if e.Basic128Rsa15 != old.Basic128Rsa15 {
			b[propEP128] = e.Basic128Rsa15
		}
		if e.Basic256 != old.Basic256 {
			b[propEP256] = e.Basic256
		}
		if len(b) == 0 {
			continue
		}
		if err := d.api.put(ctx, pathUAEndpts+"/"+escape(e.Name), b); err != nil {
			return fmt.Errorf("change UA endpoint %q: %w", e.Name, err)
		}
	}
	return nil
}

// Commit has nothing to make effective: Kepware applied each change when
// Stage sent it, with no restart. It checks that the server still answers
// with the tool's credentials; the engine then reads it again to verify.
func (d *Device) Commit(ctx context.Context, progress func(string)) error {
	if err := d.Open(ctx); err != nil {
		return err
	}
	if progress == nil {
		progress = d.o.Progress
	}
	if progress != nil {
		progress("Kepware applies changes at once; reading the server again to verify them")
	}
	if _, err := d.refreshProjectID(ctx); err != nil {
		return fmt.Errorf("the server does not answer after the changes: %w", err)
	}
	return nil
}
