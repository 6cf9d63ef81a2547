package thingspro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/transport"
)

// Errors a technician can act on.
var (
	// ErrLockedOut is the gateway's 423: too many wrong passwords.
	ErrLockedOut = errors.New("the gateway locked this account after too many wrong passwords (HTTP 423): wait for the lockout to end (about 10 minutes) and check the password before trying again")
	// ErrBadLogin is a refused user name or password (HTTP 401).
	ErrBadLogin = errors.New("the gateway refused the user name or password (HTTP 401); repeated wrong passwords lock the account")
	// ErrPasswordMustChange is a first login with the factory password:
	// the gateway lets nothing else through until it is changed. The
	// wizard recognises it by its PasswordChangeRequired method.
	ErrPasswordMustChange error = mustChangeError{}
	// ErrNotFound is a 404: the endpoint or app does not exist on this gateway.
	ErrNotFound = errors.New("not found on this gateway")
)

// mustChangeError is ErrPasswordMustChange.
type mustChangeError struct{}

func (mustChangeError) Error() string {
	return "the gateway requires a new password for this account before anything else: give a new password to set at login"
}

// PasswordChangeRequired tells the wizard to ask for a new password.
func (mustChangeError) PasswordChangeRequired() bool { return true }

// APIError is any other refusal of the API.
type APIError struct {
	Method, Path string
	Status       int
	Message      string // from the gateway, cleaned with devices.Printable
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s %s: the gateway answered HTTP %d", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: the gateway answered HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// maxBody bounds every API reply.
const maxBody = 2 << 20

// client is the REST layer: bearer token, one re-login on 401.
type client struct {
	hc       *http.Client
	tr       *http.Transport
	base     string // https://host:port/api/v1
	user, pw string
	timeout  time.Duration

	mu    sync.Mutex
	token string
	local netip.Addr
}

func newClient(base string, tlsCfg *http.Transport, user, pw string, timeout time.Duration) *client {
	return &client{hc: &http.Client{Transport: tlsCfg, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tr: tlsCfg, base: base, user: user, pw: pw, timeout: timeout}
}

// envelope is every shape of reply body the API uses.
type envelope struct {
	Data  json.RawMessage `json:"data"`
	Count *int            `json:"count"`
	Error json.RawMessage `json:"error"`
	Code  int             `json:"code"`
	Msg   string          `json:"message"`
}

// message extracts the error text from {"error":{"message"}}, {"message"} or {"error":"..."}.
func (e envelope) message() string {
	var inner struct {
		Message string `json:"message"`
	}
	if len(e.Error) > 0 {
		if json.Unmarshal(e.Error, &inner) == nil && inner.Message != "" {
			return devices.Printable(inner.Message)
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil {
			return devices.Printable(s)
		}
	}
	return devices.Printable(e.Msg)
}

// request is one API call's body.
type request struct {
	json      any
	multipart func(*multipart.Writer) error
}

func (c *client) send(ctx context.Context, method, path string, body request, token string) (int, []byte, error) {
	var rd io.Reader
	ctype := ""
	switch {
	case body.multipart != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if err := body.multipart(mw); err != nil {
			return 0, nil, err
		}
		if err := mw.Close(); err != nil {
			return 0, nil, fmt.Errorf("build upload: %w", err)
		}
		rd, ctype = &buf, mw.FormDataContentType()
	case body.json != nil:
		b, err := json.Marshal(body.json)
		if err != nil {
			return 0, nil, fmt.Errorf("encode request: %w", err)
		}
		rd, ctype = bytes.NewReader(b), "application/json"
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if ap, err := netip.ParseAddrPort(ci.Conn.LocalAddr().String()); err == nil {
			c.mu.Lock()
			c.local = ap.Addr().Unmap()
			c.mu.Unlock()
		}
	}})
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, classify(req.URL.Host, c.timeout, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: the connection dropped while reading the reply: %w", method, path, classify(req.URL.Host, c.timeout, err))
	}
	if len(b) > maxBody {
		return 0, nil, fmt.Errorf("%s %s: reply over %d bytes: %w", method, path, maxBody, transport.ErrTooLarge)
	}
	return resp.StatusCode, b, nil
}

// classify keeps pin errors as they are and turns timeouts and refusals
// into transport.UnreachableError.
func classify(hostport string, timeout time.Duration, err error) error {
	var unknown *transport.UnknownFingerprintError
	if errors.As(err, &unknown) {
		return unknown
	}
	var changed *transport.FingerprintChangedError
	if errors.As(err, &changed) {
		return changed
	}
	return transport.Classify(hostport, timeout, err)
}

// loginResult is what POST /auth returns.
type loginResult struct {
	Token string  `json:"token"`
	User  apiUser `json:"user"`
}

// login posts the credentials and keeps the token.
func (c *client) login(ctx context.Context) (loginResult, error) {
	status, b, err := c.send(ctx, http.MethodPost, "/auth", request{json: map[string]any{"name": c.user, "password": c.pw, "acceptEULA": true}}, "")
	if err != nil {
		return loginResult{}, fmt.Errorf("log in: %w", err)
	}
	switch status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return loginResult{}, ErrBadLogin
	case http.StatusLocked:
		return loginResult{}, ErrLockedOut
	default:
		return loginResult{}, apiErr(http.MethodPost, "/auth", status, b)
	}
	var env struct {
		Data loginResult `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Data.Token == "" {
		return loginResult{}, errors.New("log in: the gateway's reply has no token: is this a ThingsPro Edge API?")
	}
	c.mu.Lock()
	c.token = env.Data.Token
	c.mu.Unlock()
	return env.Data, nil
}

func apiErr(method, path string, status int, body []byte) error {
	var env envelope
	_ = json.Unmarshal(body, &env)
	if status == http.StatusNotFound {
		return fmt.Errorf("%s %s: %w", method, path, ErrNotFound)
	}
	if status == http.StatusLocked {
		return ErrLockedOut
	}
	return &APIError{Method: method, Path: path, Status: status, Message: env.message()}
}

// do sends an authenticated call; on 401 it logs in again once. out,
// when not nil, receives the reply's "data".
func (c *client) do(ctx context.Context, method, path string, body request, out any) error {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	status, b, err := c.send(ctx, method, path, body, tok)
	if err != nil {
		return err
	}
	if status == http.StatusUnauthorized {
		if _, err := c.login(ctx); err != nil {
			return fmt.Errorf("the session ended and logging in again failed: %w", err)
		}
		c.mu.Lock()
		tok = c.token
		c.mu.Unlock()
		if status, b, err = c.send(ctx, method, path, body, tok); err != nil {
			return err
		}
	}
	if status < 200 || status > 299 {
		return apiErr(method, path, status, b)
	}
	if out == nil || status == http.StatusNoContent {
		return nil
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s %s: the reply is not JSON: %w", method, path, err)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected reply: %w", method, path, err)
	}
	return nil
}

func (c *client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, request{}, out)
}

func (c *client) localAddr() netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local
}
