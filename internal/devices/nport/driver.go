// Package nport is the driver for the Moxa NPort 5000 family: it reads
// the web console, UDP 4800, SNMP and the outside probes into one State,
// stages changes page by page and commits them with Save/Restart.
//
// Device I/O is layered: transport (bytes, timeouts, limits), session
// (login, cookies, menu, forms) and this driver (the State). Everything
// inferred about the console lives in the quirks table (quirks.go).
package nport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// Factory credentials of the account-based firmware.
const (
	defaultUser     = "admin"
	defaultPassword = "moxa"
)

// Options configures a Driver: the shared access.Options (Host, Ports
// by the names DefaultPorts lists, User, Password, Pins, Timeout (per
// operation, default 3s), Transcript (one line per HTTP request, secrets
// masked), Progress) and what only the NPort takes.
type Options struct {
	access.Options
	// HTTPSOnly refuses the plain-HTTP console. Without it a unit whose
	// HTTPS port refuses connections is driven over HTTP, and the State
	// says so (Via "http"), for the technician and the record.
	HTTPSOnly bool
	// Recorder, when set, receives every exchange in full (masked when
	// written): what `commission capture` writes.
	Recorder *transcript.Recorder
	// RestartWait bounds how long Commit waits for the device to come
	// back after Save/Restart; default 90s.
	RestartWait time.Duration
}

// DefaultPorts returns the hardening guide's ports for a device with
// serialPorts serial ports: http 80, https 443, telnet 23, snmp 161,
// moxa-udp 4800, moxa-tcp 4900, moxa-tcp2 14900, and per port N
// realcom-data-N 950+N-1, realcom-cmd-N 966+N-1, tcp-server-N 4000+N,
// udp-data-N 4000+N.
func DefaultPorts(serialPorts int) map[string]int {
	m := map[string]int{"http": 80, "https": 443, "telnet": 23, "snmp": 161,
		"moxa-udp": 4800, "moxa-tcp": 4900, "moxa-tcp2": 14900}
	for n := 1; n <= serialPorts; n++ {
		s := strconv.Itoa(n)
		m["realcom-data-"+s] = 950 + n - 1
		m["realcom-cmd-"+s] = 966 + n - 1
		m["tcp-server-"+s] = 4000 + n
		m["udp-data-"+s] = 4000 + n
	}
	return m
}

// Driver talks to one NPort. Its methods are meant to be called one at a
// time (the engine does so).
type Driver struct {
	o     Options
	ports map[string]int

	mu      sync.Mutex
	sess    *session
	via     string
	proven  []string
	defLog  *bool    // cached admin/moxa trial, reset when Stage touches admin
	pending []cred   // credentials set by Stage, for Commit, in preference order
	failLog []string // the failed-login record shown at the first login
	rtt     *roundTrip
}

type cred struct{ user, password string }

// New prepares a driver; nothing is sent until Read.
func New(o Options) *Driver {
	if o.Timeout <= 0 {
		o.Timeout = transport.DefaultTimeout
	}
	if o.RestartWait <= 0 {
		o.RestartWait = 90 * time.Second
	}
	ports := DefaultPorts(1)
	for k, v := range o.Ports {
		ports[k] = v
	}
	return &Driver{o: o, ports: ports, rtt: newRoundTrip()}
}

func (d *Driver) hostport(service string) string {
	return net.JoinHostPort(d.o.Host, strconv.Itoa(d.ports[service]))
}

// connect logs in over HTTPS (pinned) or, when the HTTPS port refuses
// connections (a unit without HTTPS) and HTTPSOnly is not set, over HTTP.
func (d *Driver) connect(ctx context.Context, user, pw string) (*session, string, error) {
	hp := d.hostport("https")
	s, err := d.loginVia(ctx, "https", hp, user, pw)
	if err == nil {
		return s, "https", nil
	}
	var ue *transport.UnreachableError
	if d.o.HTTPSOnly || !errors.As(err, &ue) || ue.Kind != transport.Refused {
		return nil, "", err
	}
	s, herr := d.loginVia(ctx, "http", d.hostport("http"), user, pw)
	if herr != nil {
		return nil, "", fmt.Errorf("https: %w; http: %w", err, herr)
	}
	return s, "http", nil
}

func (d *Driver) loginVia(ctx context.Context, scheme, hp, user, pw string) (*session, error) {
	ho := transport.HTTPOptions{Timeout: d.o.Timeout, Transcript: d.o.Transcript}
	if scheme == "https" {
		// the certificate changes only at Save/Restart, which ends the
		// session and its client: its connections may resume each other
		ho.TLS, ho.Resume = transport.PinnedTLS(d.o.Pins, hp), true
	}
	hc := transport.NewHTTPClient(ho)
	s, err := login(ctx, hc, &url.URL{Scheme: scheme, Host: hp, Path: "/"}, user, pw, d.o.Recorder, d.rtt)
	if err != nil {
		hc.Close()
		return nil, err
	}
	return s, nil
}

// ensure returns the current session, logging in when there is none.
func (d *Driver) ensure(ctx context.Context) (*session, error) {
	d.mu.Lock()
	s := d.sess
	d.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, via, err := d.connect(ctx, d.o.User, d.o.Password)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.sess, d.via = s, via
	if d.failLog == nil && s.failLog != nil {
		d.failLog = s.failLog
	}
	d.prove(d.o.User)
	d.mu.Unlock()
	return s, nil
}

// prove records a user whose password a login proved. d.mu held.
func (d *Driver) prove(user string) {
	if !slices.Contains(d.proven, user) {
		d.proven = append(d.proven, user)
	}
}

// drop forgets the current session.
func (d *Driver) drop() {
	d.mu.Lock()
	if d.sess != nil {
		d.sess.http.Close()
	}
	d.sess = nil
	d.mu.Unlock()
}

// FromOptions builds a driver from the shared access.Options (the
// lifecycle every family shares: New with no I/O, Open, Read, Stage,
// Commit, Close). Nothing is sent until Open or Read.
func FromOptions(o access.Options) *Driver {
	return New(Options{Options: o})
}

// Open connects and logs in. Read logs in by itself when Open was not
// called; Open lets a caller learn early that the login works.
func (d *Driver) Open(ctx context.Context) error {
	_, err := d.ensure(ctx)
	return err
}

// Close logs out and releases connections, bounded by ctx; it reports
// ctx's error when the logout could not finish in time.
func (d *Driver) Close(ctx context.Context) error {
	d.mu.Lock()
	s := d.sess
	d.sess = nil
	d.mu.Unlock()
	if s != nil {
		s.logout(ctx)
		s.http.Close()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// Read reads every page the guide cares about, plus UDP 4800, SNMP and
// the outside probes into one State. The probes start with the login, not
// after it: they need no session, and the pages are read while they run.
func (d *Driver) Read(ctx context.Context) (State, error) {
	var st State
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	prev := d.sess
	d.mu.Unlock()
	var wg sync.WaitGroup
	var obs Observed
	var dsci dsciInfo
	var dsciErr error
	var snmpID snmpInfo
	var snmpPort probe.Result
	seen := make(chan *transport.TLSSeen, 1)
	wg.Go(func() { obs = d.observe(pctx, prev, seen) })
	// UDP 4800 runs during the login and the page reads: its exchanges
	// are held and recorded after theirs
	var dsciHeld held
	wg.Go(func() {
		c, cancel := context.WithTimeout(holding(pctx, &dsciHeld), 3*d.o.Timeout)
		defer cancel()
		dsci, dsciErr = readDSCI(c, d.hostport("moxa-udp"), d.o.Timeout, d.o.Recorder, d.rtt)
	})
	wg.Go(func() { snmpID, snmpPort = readSNMP(pctx, d.o.Host, d.ports["snmp"], d.o.Timeout, d.rtt) })
	s, err := d.ensure(ctx)
	seen <- d.tlsSeen(s, err)
	if err == nil {
		err = d.readPages(ctx, s, &st)
	} else {
		cancel() // no State to put the probes in
	}
	wg.Wait()
	dsciHeld.release(d.o.Recorder)
	if err != nil {
		if errors.Is(err, errSessionEnded) {
			d.drop()
		}
		return st, err
	}
	// the TLS settings take effect at Save/Restart, which ends every
	// session: one observation per session
	d.mu.Lock()
	if s.tls == nil {
		s.tls = &Observed{TLS: obs.TLS.Clone(), Cert: obs.Cert}
	}
	d.mu.Unlock()
	obs.Ports["snmp"] = snmpPort
	d.mu.Lock()
	st.Via, st.ClientAddr, st.HTTPSProven, st.User = d.via, s.local, d.via == "https", d.o.User
	st.Generation, st.Server = s.prof.Name, s.server
	st.FailedLogins = slices.Clone(d.failLog)
	if s.failLog != nil {
		st.FailedLogins = slices.Clone(s.failLog)
	}
	st.DefaultPasswordNag = s.nagged
	if cur := d.current(); cur.user != "" {
		st.User = cur.user
	}
	d.mu.Unlock()
	st.Observed = obs
	st.Observed.DSCILeak, st.Observed.DSCIAsked = dsci.leak, dsci.asked
	st.SNMP.DefaultCommunities = snmpID.defaultCommunity
	id := &st.Identity
	id.Family, id.Address = "nport", d.o.Host
	id.Sources = append(id.Sources, "web")
	if dsciErr == nil {
		id.Sources = append(id.Sources, "udp4800")
		if id.Firmware == "" {
			id.Firmware = dsci.firmware
		}
		if id.MAC == "" {
			id.MAC = strings.ToUpper(dsci.found.MAC)
		}
	}
	if snmpID.ok {
		id.Sources = append(id.Sources, "snmp")
		if id.Model == "" {
			id.Model = snmpID.descr
		}
	}
	st.DefaultLogin = d.defaultLogin(ctx, st)
	d.mu.Lock()
	st.ProvenUsers = slices.Clone(d.proven)
	d.mu.Unlock()
	return st, nil
}

// tlsSeen is what the session's verified HTTPS connection showed, for
// the TLS probe; nil without one (no session, or one over HTTP).
func (d *Driver) tlsSeen(s *session, err error) *transport.TLSSeen {
	if err != nil || s == nil {
		return nil
	}
	d.mu.Lock()
	via := d.via
	d.mu.Unlock()
	if via != "https" {
		return nil
	}
	if ts, ok := s.http.TLSSeen(); ok {
		return &ts
	}
	return nil
}

// current is the credential the driver logs in with now. d.mu held.
func (d *Driver) current() cred {
	return cred{d.o.User, d.o.Password}
}

var errSessionEnded = errors.New("the session ended")

// readPages fetches every page concurrently, then parses them in menu
// order into st. The System Log page is optional.
func (d *Driver) readPages(ctx context.Context, s *session, st *State) error {
	pages := settingsPages(s.serialPorts())
	names := []string{quirks.MenuOverview, quirks.MenuAccounts, quirks.MenuLog}
	for _, p := range pages {
		names = append(names, p.menu)
	}
	got := make([]*page, len(names))
	tasks := make([]func(context.Context) error, len(names))
	for i, n := range names {
		if i == 2 || i >= 3 && pages[i-3].optional {
			if !s.hasEntry(n) {
				continue
			}
		}
		tasks[i] = func(ctx context.Context) (err error) {
			got[i], err = s.open(ctx, n)
			return err
		}
	}
	// the session's cookie is shared by every read: one login, whatever
	// the parallelism (GA allows one console session)
	if err := errors.Join(runOrdered(ctx, s.rec, max(s.prof.PageReaders, 1), tasks)...); err != nil {
		return fmt.Errorf("read the console: %w", err)
	}
	readOverview(got[0], &st.Identity)
	if s.home != nil && s.home != got[0] {
		readOverview(s.home, &st.Identity)
	}
	accs, err := readAccounts(got[1])
	if err != nil {
		return fmt.Errorf("%s: %w", names[1], err)
	}
	st.Accounts = accs
	if got[2] != nil {
		st.LogLines = readLog(got[2])
	}
	for i, sp := range pages {
		p := got[3+i]
		if p == nil { // an optional page the menu does not hold
			st.Unread = append(st.Unread, sp.menu)
			continue
		}
		f, err := settingsForm(p, sp.menu)
		if err == nil {
			err = sp.read(f, st)
		}
		if err != nil {
			return fmt.Errorf("%s: %w: the page differs from what this tool knows, so nothing was changed; run `commission capture` and send the transcript", sp.menu, err)
		}
	}
	return nil
}

// readOverview fills the identity from the Overview rows and from the
// values its script sets (set("modelname", ...)); it keeps values found
// before.
func readOverview(p *page, id *devices.Identity) {
	put := func(dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = printable.String(v)
		}
	}
	field := func(key string) *string {
		switch key {
		case "model":
			return &id.Model
		case "mac":
			return &id.MAC
		case "serial":
			return &id.Serial
		case "firmware":
			return &id.Firmware
		case "name":
			return &id.Name
		}
		return nil
	}
	for k, v := range p.Scripted {
		if f, ok := identityIDs[strings.ToLower(k)]; ok {
			put(field(f), v)
		}
	}
	for _, t := range p.Tables {
		for _, row := range t {
			if len(row) < 2 {
				continue
			}
			v := row[1].Text
			if v == "" {
				if c, ok := first(row[1].Controls, textTypes...); ok {
					v = c.Value
				}
			}
			switch k := row[0].Text; {
			case sameText(k, quirks.OverviewModel):
				put(&id.Model, v)
			case sameText(k, quirks.OverviewMAC):
				put(&id.MAC, v)
			case sameText(k, quirks.OverviewSerial):
				put(&id.Serial, v)
			case sameText(k, quirks.OverviewFirmware):
				put(&id.Firmware, v)
			case sameText(k, quirks.OverviewName):
				put(&id.Name, v)
			}
		}
	}
}

// accountsTable finds the User Account table and its column indexes.
func accountsTable(p *page) (rows [][]cell, active, name, level int, err error) {
	for _, t := range p.Tables {
		if len(t) == 0 {
			continue
		}
		active, name, level = -1, -1, -1
		for i, c := range t[0] {
			switch {
			case sameText(c.Text, quirks.AccActive):
				active = i
			case sameText(c.Text, quirks.AccName):
				name = i
			case sameText(c.Text, quirks.AccLevel):
				level = i
			}
		}
		if active >= 0 && name >= 0 && level >= 0 {
			return t[1:], active, name, level, nil
		}
	}
	return nil, 0, 0, 0, errors.New("no table with Active, Account Name and User Level columns")
}

func readAccounts(p *page) ([]Account, error) {
	rows, ai, ni, li, err := accountsTable(p)
	if err != nil {
		return nil, err
	}
	var out []Account
	for _, r := range rows {
		if len(r) <= max(ai, ni, li) {
			continue
		}
		level := r[li].Text
		if c, ok := first(r[li].Controls, "select"); ok {
			level = selectedText(c)
		}
		a := Account{Name: printable.String(r[ni].Text), Admin: slices.ContainsFunc(quirks.AdminLevels, func(w string) bool { return sameText(w, level) })}
		if c, ok := first(r[ai].Controls, "checkbox"); ok {
			a.Active = c.Checked
		} else {
			a.Active = slices.ContainsFunc(quirks.ActiveWords, func(w string) bool { return sameText(w, r[ai].Text) })
		}
		out = append(out, a)
	}
	return out, nil
}

// accountLink returns the edit link of the named account.
func accountLink(p *page, name string) (string, error) {
	rows, _, ni, _, err := accountsTable(p)
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		if len(r) > ni && printable.String(r[ni].Text) == name {
			for _, c := range r {
				if len(c.Links) > 0 {
					return p.resolve(c.Links[0].Href)
				}
			}
		}
	}
	return "", fmt.Errorf("no account %q in the table", name)
}

// readLog returns the System Log lines, cleaned, newest last.
func readLog(p *page) []string {
	var out []string
	for _, b := range p.Blocks {
		for _, l := range strings.Split(b, "\n") {
			if l = printable.String(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// defaultLogin answers whether admin/moxa works: true when the tool is
// itself admin/moxa; else one trial login per driver while admin is
// active, cached.
func (d *Driver) defaultLogin(ctx context.Context, st State) *bool {
	yes := true
	if d.o.User == defaultUser && d.o.Password == defaultPassword {
		return &yes
	}
	a, ok := st.Account(defaultUser)
	if !ok || !a.Active {
		return nil
	}
	d.mu.Lock()
	cached := d.defLog
	d.mu.Unlock()
	if cached != nil {
		v := *cached
		return &v
	}
	s, _, err := d.connect(ctx, defaultUser, defaultPassword)
	var v bool
	switch {
	case err == nil:
		v = true
		s.logout(ctx)
		s.http.Close()
	case errors.Is(err, ErrWrongPassword):
		v = false
	default:
		return nil // could not tell
	}
	d.mu.Lock()
	d.defLog = &v
	d.mu.Unlock()
	return &v
}
