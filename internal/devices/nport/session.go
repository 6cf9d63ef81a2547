package nport

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/transport"
)

// errExpired is a login refused because the login page was too old.
var errExpired = errors.New("the device says the login page expired: try again")

// session is one logged-in web console session: the bytes layer is the
// transport's HTTP client, this layer knows login, menu and forms.
type session struct {
	http  *transport.HTTPClient
	base  *url.URL // scheme://host:port/
	user  string
	menu  *page
	local netip.Addr
}

// challengeResponse is the GA login answer: lowercase hex of
// MD5(challenge)[i] XOR pw[i] for the first 16 password bytes.
func challengeResponse(challenge, pw string) string {
	sum := md5.Sum([]byte(challenge))
	n := min(len(pw), 16)
	out := make([]byte, n)
	for i := range n {
		out[i] = sum[i] ^ pw[i]
	}
	return hex.EncodeToString(out)
}

// loginForm builds the pairs posted to log in, from the login page.
func loginForm(p *page, user, pw string) (*form, [][2]string, error) {
	var f *form
	for _, cand := range p.Forms {
		for _, c := range cand.Controls {
			if c.Name == quirks.LoginChallenge {
				f = cand
			}
		}
	}
	if f == nil {
		return nil, nil, errors.New("the login page has no challenge field: is this an NPort web console?")
	}
	var challenge string
	for _, c := range f.Controls {
		if c.Name == quirks.LoginChallenge {
			challenge = c.Value
		}
	}
	pairs := [][2]string{
		{quirks.LoginUser, user},
		{quirks.LoginPassword, ""},
		{quirks.LoginHash, challengeResponse(challenge, pw)},
		{quirks.LoginChallenge, challenge},
	}
	pairs = append(pairs, quirks.LoginExtra...)
	return f, pairs, nil
}

// login opens a session on base ("https://host:port/").
func login(ctx context.Context, hc *transport.HTTPClient, base *url.URL, user, pw string) (*session, error) {
	s := &session{http: hc, base: base, user: user}
	lp, err := s.get(ctx, base.String())
	if err != nil {
		return nil, fmt.Errorf("open the login page: %w", err)
	}
	f, pairs, err := loginForm(lp, user, pw)
	if err != nil {
		return nil, err
	}
	action := f.Action
	if action == "" {
		action = "/"
	}
	target, err := lp.resolve(action)
	if err != nil {
		return nil, err
	}
	resp, err := hc.PostFormPairs(ctx, target, pairs)
	if err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	s.local = resp.Local
	p, err := parsePage(resp.URL, resp.Body)
	if err != nil {
		return nil, err
	}
	menuSrc, ok := p.Frames[quirks.MenuFrame]
	if !ok {
		return nil, loginRefusal(p)
	}
	murl, err := p.resolve(menuSrc)
	if err != nil {
		return nil, err
	}
	if s.menu, err = s.get(ctx, murl); err != nil {
		return nil, fmt.Errorf("open the menu: %w", err)
	}
	if _, ok := s.menu.link(quirks.MenuOverview); !ok {
		return nil, errors.New("logged in, but the menu has no Overview link: the console's layout is not the one this tool knows")
	}
	return s, nil
}

// loginRefusal turns a refused login page into an error.
func loginRefusal(p *page) error {
	low := strings.ToLower(p.Text)
	switch {
	case strings.Contains(low, strings.ToLower(quirks.LockedOut)):
		return ErrLockedOut
	case strings.Contains(low, strings.ToLower(quirks.TooManyUsers)):
		return ErrTooManySessions
	case strings.Contains(low, strings.ToLower(quirks.LoginFailed)) && strings.Contains(low, strings.ToLower(quirks.Expired)):
		return errExpired
	case strings.Contains(low, strings.ToLower(quirks.LoginFailed)):
		return ErrWrongPassword
	}
	msg := "no message"
	if len(p.Errors) > 0 {
		msg = devices.Printable(p.Errors[0])
	}
	return fmt.Errorf("the login was not accepted and no frameset came back (%s)", msg)
}

// get fetches and parses a page; a redirect back to the login page means
// the session ended.
func (s *session) get(ctx context.Context, u string) (*page, error) {
	resp, err := s.http.Get(ctx, u)
	if err != nil {
		return nil, err
	}
	if resp.Status != 200 {
		return nil, fmt.Errorf("%s: HTTP status %d", resp.URL.Path, resp.Status)
	}
	return parsePage(resp.URL, resp.Body)
}

// open follows the menu link with the given text.
func (s *session) open(ctx context.Context, text string) (*page, error) {
	href, ok := s.menu.link(text)
	if !ok {
		return nil, fmt.Errorf("the menu has no %q link", text)
	}
	u, err := s.menu.resolve(href)
	if err != nil {
		return nil, err
	}
	p, err := s.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", text, err)
	}
	if _, isLogin := p.Frames[quirks.MenuFrame]; !isLogin && hasLoginForm(p) {
		return nil, fmt.Errorf("open %s: %w (the login page came back)", text, errSessionEnded)
	}
	return p, nil
}

func hasLoginForm(p *page) bool {
	for _, f := range p.Forms {
		for _, c := range f.Controls {
			if c.Name == quirks.LoginChallenge {
				return true
			}
		}
	}
	return false
}

var portLink = regexp.MustCompile(`^` + regexp.QuoteMeta(quirks.MenuPortPrefix) + `(\d+)$`)

// serialPorts counts the "Port N" links of the menu.
func (s *session) serialPorts() int {
	n := 0
	for _, l := range s.menu.Links {
		if portLink.MatchString(l.Text) {
			n++
		}
	}
	return n
}

// submit posts f as if its button labelled button were clicked, and
// checks the reply for the success text (want) or the error marker.
func (s *session) submit(ctx context.Context, p *page, f *form, button, want, pageName string) (*page, error) {
	target, err := p.resolve(f.Action)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pageName, err)
	}
	resp, err := s.http.PostFormPairs(ctx, target, f.pairs(button), f.secretNames()...)
	if err != nil {
		return nil, fmt.Errorf("%s: the submit did not complete, the change may or may not be saved: %w", pageName, err)
	}
	rp, err := parsePage(resp.URL, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pageName, err)
	}
	if len(rp.Errors) > 0 {
		return rp, &DeviceError{Page: pageName, Message: devices.Printable(rp.Errors[0])}
	}
	if resp.Status != 200 {
		return rp, fmt.Errorf("%s: HTTP status %d", pageName, resp.Status)
	}
	if !strings.Contains(rp.Text, want) {
		if hasLoginForm(rp) {
			return rp, fmt.Errorf("%s: the session ended before the submit (the login page came back)", pageName)
		}
		return rp, fmt.Errorf("%s: the device did not confirm the change (no %q in its reply)", pageName, want)
	}
	return rp, nil
}

// logout ends the session; errors are ignored (the session times out).
func (s *session) logout(ctx context.Context) {
	if href, ok := s.menu.link(quirks.MenuLogout); ok {
		if u, err := s.menu.resolve(href); err == nil {
			_, _ = s.http.Get(ctx, u)
		}
	}
}
