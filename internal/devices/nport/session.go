package nport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/secret"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// errExpired is a login refused because the login page was too old.
var errExpired = errors.New("the device says the login page expired: try again")

// session is one logged-in web console session: the bytes layer is the
// transport's HTTP client, this layer knows login, menu and forms.
type session struct {
	http    *transport.HTTPClient
	base    *url.URL // scheme://host:port/
	user    string
	prof    *Profile
	server  string // the Server header of the login page
	menu    *page
	home    *page // the page the login landed on (the main frame)
	local   netip.Addr
	rec     *transcript.Recorder
	failLog []string // the failed-login record the device showed, if any
	nagged  bool     // the device showed the default-password nag
	rtt     *roundTrip
	tls     *Observed // the TLS observation of this session (d.mu)
}

// secretLabel reports a row whose value is a secret whatever its field
// is called (a community string written as text, say).
func secretLabel(row string) bool {
	l := strings.ToLower(row)
	return strings.Contains(l, "community") || strings.Contains(l, "password") || strings.Contains(l, "privacy")
}

// learn registers the secret values a page carries: challenges, tokens
// and password fields, from static markup and script calls.
func (s *session) learn(p *page) {
	if s.rec == nil {
		return
	}
	for _, f := range p.Forms {
		for _, c := range f.Controls {
			if c.Value != "" && (c.Type == "password" || (c.Type == "hidden" || c.Scripted) && secret.Name(c.Name) || secretLabel(c.Row)) {
				s.rec.Secret(c.Value)
			}
		}
	}
	for k, v := range p.Scripted {
		if secret.Name(k) {
			s.rec.Secret(v)
		}
	}
}

// record adds one HTTP exchange to the transcript.
func (s *session) record(ctx context.Context, method, u string, pairs [][2]string, resp *transport.Response, err error) {
	if s.rec == nil {
		return
	}
	pu, _ := url.Parse(u)
	q := &transcript.Request{Method: method, URL: u}
	if pu != nil {
		q.URL = pu.RequestURI()
		if pu.RawQuery != "" {
			q.URL = pu.Path + "?" + transcript.MaskPairs(queryPairs(pu.RawQuery), secret.Name)
		}
	}
	if method == http.MethodPost {
		q.Header = map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}
		q.Body = transcript.MaskPairs(pairs, secret.Name)
	}
	e := transcript.Exchange{Kind: "http", Request: q}
	if err != nil {
		e.Response = &transcript.Response{Error: err.Error()}
	} else {
		for _, c := range resp.Header.Values("Set-Cookie") {
			if name, v, ok := strings.Cut(strings.SplitN(c, ";", 2)[0], "="); ok && name != "" {
				s.rec.Secret(v)
			}
		}
		h := map[string][]string{}
		for _, k := range []string{"Server", "Content-Type", "Set-Cookie", "Location"} {
			if vs := resp.Header.Values(k); len(vs) > 0 {
				h[k] = vs
			}
		}
		e.Response = &transcript.Response{Status: resp.Status, Header: h, Body: string(resp.Body)}
		if resp.URL != nil && pu != nil && resp.URL.RequestURI() != pu.RequestURI() {
			e.Response.FinalURL = resp.URL.RequestURI()
		}
	}
	addExchange(ctx, s.rec, e)
}

func queryPairs(raw string) [][2]string {
	var out [][2]string
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		uk, _ := url.QueryUnescape(k)
		uv, _ := url.QueryUnescape(v)
		out = append(out, [2]string{uk, uv})
	}
	return out
}

// fetch GETs u and parses the reply (any status).
func (s *session) fetch(ctx context.Context, u string) (*transport.Response, *page, error) {
	sent := time.Now()
	resp, err := s.http.Get(ctx, u)
	if err == nil {
		s.rtt.observe(time.Since(sent))
	}
	if err != nil {
		s.record(ctx, http.MethodGet, u, nil, nil, err)
		return nil, nil, err
	}
	p, perr := parsePage(ctx, resp.URL, resp.Body)
	if perr == nil {
		s.learn(p)
	}
	s.record(ctx, http.MethodGet, u, nil, resp, nil)
	return resp, p, perr
}

// send submits pairs to target with method (GET puts them in the query).
func (s *session) send(ctx context.Context, method, target string, pairs [][2]string, secret ...string) (*transport.Response, *page, error) {
	var resp *transport.Response
	var err error
	if method == http.MethodGet {
		u, perr := url.Parse(target)
		if perr != nil {
			return nil, nil, fmt.Errorf("bad form action %q: %w", target, perr)
		}
		var b strings.Builder
		for i, p := range pairs {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
		}
		u.RawQuery = b.String()
		target = u.String()
		resp, err = s.http.Get(ctx, target)
	} else {
		resp, err = s.http.PostFormPairs(ctx, target, pairs, secret...)
	}
	if err != nil {
		s.record(ctx, method, target, pairs, nil, err)
		return nil, nil, err
	}
	p, perr := parsePage(ctx, resp.URL, resp.Body)
	if perr == nil {
		s.learn(p)
	}
	s.record(ctx, method, target, pairs, resp, nil)
	return resp, p, perr
}

// method is a form's submit method, GET when the form says so.
func (f *form) method() string {
	if f.Method == http.MethodGet {
		return http.MethodGet
	}
	return http.MethodPost
}

// maxInterstitials bounds the pages answered between login and console.
const maxInterstitials = 4

// login opens a session on base ("https://host:port/"): it reads the
// login page, picks the generation profile from it, answers the login,
// passes the interstitials and finds the menu.
func login(ctx context.Context, hc *transport.HTTPClient, base *url.URL, user, pw string, rec *transcript.Recorder, rt *roundTrip) (*session, error) {
	s := &session{http: hc, base: base, user: user, rec: rec, rtt: rt}
	rec.Secret(pw)
	resp, lp, err := s.fetch(ctx, base.String())
	if err != nil {
		return nil, fmt.Errorf("open the login page: %w", err)
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("open the login page: HTTP status %d", resp.Status)
	}
	s.server = printable.String(resp.Header.Get("Server"))
	s.local = resp.Local
	if len(lp.Frames) > 0 && !hasLoginForm(lp) {
		// a frameset first: the login form is in one of its frames
		for _, src := range lp.Frames {
			u, err := lp.resolve(src)
			if err != nil {
				continue
			}
			if _, fp, err := s.fetch(ctx, u); err == nil && hasLoginForm(fp) {
				lp = fp
				break
			}
		}
	}
	prof, f, err := detect(lp, s.server)
	if err != nil {
		return nil, err
	}
	s.prof = prof
	pairs, err := prof.loginPairs(f, user, pw)
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		if secret.Name(p[0]) {
			rec.Secret(p[1])
		}
	}
	action := f.Action
	if action == "" {
		action = lp.URL.Path
	}
	target, err := lp.resolve(action)
	if err != nil {
		return nil, err
	}
	resp, p, err := s.send(ctx, f.method(), target, pairs, prof.HashField, prof.UserHashField, prof.ChallengeField)
	if err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	if resp.Local.IsValid() {
		s.local = resp.Local
	}
	// no session cookie after the login POST: the login failed, whatever
	// the page says (a more precise refusal on the page is told first)
	noCookie := prof.NoSessionCookie != "" && !hc.HasCookie(base)
	for i := range maxInterstitials {
		err := s.refusal(p)
		var re *reshownError
		if i == 0 && noCookie && (err == nil || errors.As(err, &re)) {
			return nil, &NoSessionError{Generation: prof.Name, Why: prof.NoSessionCookie}
		}
		if err != nil {
			return nil, err
		}
		if m, home, ok := s.findMenu(ctx, p); ok {
			s.menu, s.home = m, home
			return s, nil
		}
		next, err := s.interstitial(ctx, p)
		if err != nil {
			return nil, err
		}
		p = next
	}
	return nil, fmt.Errorf("the device kept showing pages after the login (last %s): nothing was changed", p.URL.Redacted())
}

// refusal turns a refused login page into an error; nil when p is not a
// refusal.
func (s *session) refusal(p *page) error {
	low := strings.ToLower(p.Text)
	pr := s.prof
	login := hasLoginForm(p)
	switch {
	case has(low, pr.LockedOut) && (login || has(low, pr.LoginFailed)):
		return ErrLockedOut
	case has(low, pr.TooManyUsers):
		return ErrTooManySessions
	case login && has(low, pr.LoginFailed) && has(low, pr.Expired):
		return errExpired
	case login && has(low, pr.LoginFailed):
		return ErrWrongPassword
	case login:
		msg := p.Outside
		if len(p.Errors) > 0 {
			msg = p.Errors[0]
		}
		if msg = printable.String(msg); len(msg) > 200 {
			msg = msg[:200]
		}
		if msg == "" {
			msg = "no message"
		}
		return &reshownError{msg: msg}
	}
	return nil
}

// reshownError is a login answered with the login page again, with no
// known refusal words on it.
type reshownError struct{ msg string }

func (e *reshownError) Error() string {
	return fmt.Sprintf("the device refused the login and showed the login page again, saying %q: nothing was changed; if it says the account is locked or the sessions are all in use, wait or log out elsewhere before trying again", e.msg)
}

// menuLinks are the menu entries that identify the menu page.
func menuLinks() []string {
	return []string{quirks.MenuBasic, quirks.MenuNetwork, quirks.MenuConsole, quirks.MenuSNMP, quirks.MenuAccounts,
		quirks.MenuAccessIP, quirks.MenuPolicy, quirks.MenuSaveRestart, quirks.MenuRemoteLog, quirks.MenuLogSettings}
}

// menuScore counts the known menu entries among p's links.
func menuScore(p *page) int {
	n := 0
	for _, want := range menuLinks() {
		if _, ok := p.link(want); ok {
			n++
		}
	}
	return n
}

// minMenuLinks is how many known entries make a page the menu.
const minMenuLinks = 4

// findMenu finds the menu in p or in its frames, by the links it holds
// (not by a frame name). home is the main frame's page, when there is one.
func (s *session) findMenu(ctx context.Context, p *page) (menu, home *page, ok bool) {
	if menuScore(p) >= minMenuLinks {
		return p, p, true
	}
	if len(p.Frames) == 0 {
		return nil, nil, false
	}
	var best *page
	var pages []*page
	for _, src := range sortedFrames(p.Frames) {
		u, err := p.resolve(src)
		if err != nil {
			continue
		}
		resp, fp, err := s.fetch(ctx, u)
		if err != nil || resp.Status != http.StatusOK {
			continue
		}
		if len(fp.Frames) > 0 && menuScore(fp) < minMenuLinks {
			if m, h, ok := s.findMenu(ctx, fp); ok {
				return m, h, true
			}
		}
		pages = append(pages, fp)
		if menuScore(fp) >= minMenuLinks && (best == nil || menuScore(fp) > menuScore(best)) {
			best = fp
		}
	}
	if best == nil {
		return nil, nil, false
	}
	for _, fp := range pages {
		if fp != best && home == nil {
			home = fp
		}
	}
	return best, home, true
}

// sortedFrames lists frame sources in a stable order.
func sortedFrames(m map[string]string) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = m[n]
	}
	return out
}

// interstitial answers a page shown between login and console: the
// failed-login record (answered with the non-destructive continue, its
// listed failures kept) or the default-password nag (Skip). Any other
// page is an error and nothing is answered.
func (s *session) interstitial(ctx context.Context, p *page) (*page, error) {
	pr := s.prof
	for _, f := range p.Forms {
		if c, ok := formControl(f, "setfunc"); ok && pr.FailLogFunc != "" && strings.EqualFold(c.Value, pr.FailLogFunc) ||
			hasButtonNamed(f, pr.FailLogClear) && hasButtonNamed(f, pr.FailLogContinue) {
			s.failLog = failureLines(p)
			btn, ok := buttonNamed(f, pr.FailLogContinue)
			if !ok {
				break
			}
			return s.press(ctx, p, f, btn)
		}
	}
	for _, f := range p.Forms {
		if btn, ok := buttonValued(f, pr.NagSkip); ok {
			s.nagged = true
			return s.press(ctx, p, f, btn)
		}
	}
	for _, l := range p.Links {
		if pr.NagSkip != "" && strings.EqualFold(l.Text, pr.NagSkip) {
			u, err := p.resolve(l.Href)
			if err != nil {
				return nil, err
			}
			s.nagged = true
			_, np, err := s.fetch(ctx, u)
			return np, err
		}
	}
	var buttons []string
	for _, f := range p.Forms {
		for _, c := range f.Controls {
			if c.Type == "submit" || c.Type == "button" || c.Type == "image" {
				buttons = append(buttons, printable.String(c.Value))
			}
		}
	}
	return nil, &InterstitialError{URL: p.URL.Redacted(), Title: printable.String(p.Title), Buttons: buttons}
}

// press submits f as if btn were clicked, with the form's own method.
func (s *session) press(ctx context.Context, p *page, f *form, btn *control) (*page, error) {
	action := f.Action
	if action == "" {
		action = p.URL.RequestURI()
	}
	target, err := p.resolve(action)
	if err != nil {
		return nil, err
	}
	pairs := f.pairsFor(btn)
	resp, np, err := s.send(ctx, f.method(), target, pairs, f.secretNames()...)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP status %d", target, resp.Status)
	}
	return np, nil
}

func hasButtonNamed(f *form, name string) bool { _, ok := buttonNamed(f, name); return ok }

func buttonNamed(f *form, name string) (*control, bool) {
	if name == "" {
		return nil, false
	}
	for _, c := range f.Controls {
		if (c.Type == "submit" || c.Type == "image") && strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return nil, false
}

func buttonValued(f *form, value string) (*control, bool) {
	if value == "" {
		return nil, false
	}
	for _, c := range f.Controls {
		if (c.Type == "submit" || c.Type == "image") && strings.EqualFold(strings.TrimSpace(c.Value), value) {
			return c, true
		}
	}
	return nil, false
}

// failureLines is what a failed-login record page lists: its table rows
// (or its text blocks), cleaned.
func failureLines(p *page) []string {
	var out []string
	for _, t := range p.Tables {
		for _, r := range t {
			var cells []string
			for _, c := range r {
				if c.Text != "" && len(c.Controls) == 0 {
					cells = append(cells, printable.String(c.Text))
				}
			}
			if len(cells) > 1 {
				out = append(out, strings.Join(cells, " | "))
			}
		}
	}
	for _, b := range p.Blocks {
		for _, l := range strings.Split(b, "\n") {
			if l = printable.String(l); l != "" {
				out = append(out, l)
			}
		}
	}
	if len(out) > 64 {
		out = out[len(out)-64:]
	}
	return out
}

// get fetches and parses a page; it fails on a status other than 200.
func (s *session) get(ctx context.Context, u string) (*page, error) {
	resp, p, err := s.fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP status %d", resp.URL.Path, resp.Status)
	}
	return p, nil
}

// open opens the page of a menu entry: a link text, or "Port N" for the
// Operation Modes page of serial port N.
func (s *session) open(ctx context.Context, text string) (*page, error) {
	var p *page
	if n, ok := portNumber(text); ok {
		var err error
		if p, err = s.portPage(ctx, n); err != nil {
			return nil, fmt.Errorf("open %s: %w", text, err)
		}
	} else {
		u, err := s.pageURL(ctx, text)
		if err != nil {
			return nil, err
		}
		if p, err = s.get(ctx, u); err != nil {
			return nil, fmt.Errorf("open %s: %w", text, err)
		}
	}
	if s.sessionGone(p) {
		return nil, fmt.Errorf("open %s: %w (the login page came back)", text, errSessionEnded)
	}
	return p, nil
}

// sessionGone reports a page that says the session ended: the login
// page, or a page without forms saying the session expired.
func (s *session) sessionGone(p *page) bool {
	return hasLoginForm(p) || len(p.Forms) == 0 && has(strings.ToLower(p.Text), s.prof.Expired)
}

// pageURL resolves a menu entry to a URL.
func (s *session) pageURL(ctx context.Context, text string) (string, error) {
	if n, ok := portNumber(text); ok {
		return s.portURL(ctx, n)
	}
	if text == quirks.MenuOverview {
		for _, alt := range quirks.OverviewLinks {
			if href, ok := s.menu.link(alt); ok {
				return s.menu.resolve(href)
			}
		}
		if s.home != nil {
			return s.home.URL.String(), nil
		}
	}
	for _, t := range append([]string{text}, quirks.MenuAliases[text]...) {
		if href, ok := s.menu.link(t); ok {
			return s.menu.resolve(href)
		}
	}
	return "", fmt.Errorf("the menu has no %q link: the console's layout is not the one this tool knows (nothing was changed)", text)
}

// hasEntry reports whether the menu holds the entry text (or an alias).
func (s *session) hasEntry(text string) bool {
	for _, t := range append([]string{text}, quirks.MenuAliases[text]...) {
		if _, ok := s.menu.link(t); ok {
			return true
		}
	}
	return false
}

var portLink = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^port\s*(\d+)$`) })
var portQuery = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)[?&]port=(\d+)`) })

func portNumber(text string) (int, bool) {
	m := portLink().FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// portEntries lists the serial ports the menu shows and, for each, the
// Operation Modes link (the guide's path: Port N is a folder holding
// Operation Modes) or, failing that, the Port N link itself.
func (s *session) portEntries() map[int]string {
	out := map[int]string{}
	cur := 0
	for _, l := range s.menu.Links {
		if n, ok := portNumber(norm(l.Text)); ok {
			cur = n
			if _, seen := out[n]; !seen {
				out[n] = l.Href
			}
			continue
		}
		if sameText(l.Text, quirks.MenuOpModes) {
			n := cur
			if m := portQuery().FindStringSubmatch(l.Href); m != nil {
				n, _ = strconv.Atoi(m[1])
			}
			if n == 0 {
				n = 1
			}
			out[n] = l.Href
		}
	}
	return out
}

// portURL is the Operation Modes page of port n.
func (s *session) portURL(ctx context.Context, n int) (string, error) {
	u, _, err := s.portFolder(ctx, n)
	return u, err
}

// portFolder resolves port n's menu entry: the URL of its Operation
// Modes page and, when the entry is that page itself (no folder page in
// between), the page as fetched, so that it is not fetched twice.
func (s *session) portFolder(ctx context.Context, n int) (string, *page, error) {
	href, ok := s.portEntries()[n]
	if !ok {
		return "", nil, fmt.Errorf("the menu has no Port %d", n)
	}
	u, err := s.menu.resolve(href)
	if err != nil {
		return "", nil, err
	}
	// a Port N page that is itself a folder page links to Operation Modes
	p, err := s.get(ctx, u)
	if err != nil {
		return "", nil, err
	}
	if href, ok := p.link(quirks.MenuOpModes); ok && len(p.Forms) == 0 {
		u, err := p.resolve(href)
		return u, nil, err
	}
	return u, p, nil
}

// portPage is the Operation Modes page of port n, fetched once.
func (s *session) portPage(ctx context.Context, n int) (*page, error) {
	u, p, err := s.portFolder(ctx, n)
	if err != nil || p != nil {
		return p, err
	}
	return s.get(ctx, u)
}

func hasLoginForm(p *page) bool {
	for _, f := range p.Forms {
		for _, pr := range Profiles {
			if pr.ChallengeField != "" {
				if _, ok := formControl(f, pr.ChallengeField); ok {
					return true
				}
			}
		}
	}
	return false
}

// serialPorts counts the serial ports of the menu.
func (s *session) serialPorts() int { return len(s.portEntries()) }

// submit sends f as if its button labelled button were clicked, with the
// form's method, and checks the reply for a rejection. It does not prove
// the change: the caller re-reads the page.
func (s *session) submit(ctx context.Context, p *page, f *form, button, pageName string) (*page, error) {
	action := f.Action
	if action == "" {
		action = p.URL.RequestURI()
	}
	target, err := p.resolve(action)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pageName, err)
	}
	resp, rp, err := s.send(ctx, f.method(), target, f.pairs(button), f.secretNames()...)
	if err != nil {
		return nil, fmt.Errorf("%s: the submit did not complete, the change may or may not be saved: %w", pageName, err)
	}
	if len(rp.Errors) > 0 {
		return rp, &DeviceError{Page: pageName, Message: printable.String(rp.Errors[0])}
	}
	if resp.Status != http.StatusOK {
		return rp, fmt.Errorf("%s: HTTP status %d", pageName, resp.Status)
	}
	if hasLoginForm(rp) {
		return rp, fmt.Errorf("%s: the session ended before the submit (the login page came back)", pageName)
	}
	return rp, nil
}

// logout ends the session; errors are ignored (the session times out).
func (s *session) logout(ctx context.Context) {
	for _, t := range quirks.LogoutLinks {
		if href, ok := s.menu.link(t); ok {
			if u, err := s.menu.resolve(href); err == nil {
				_, _ = s.http.Get(ctx, u)
			}
			return
		}
	}
}
