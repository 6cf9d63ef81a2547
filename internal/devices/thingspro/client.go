package thingspro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/printable"
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
	Message      string // from the gateway, cleaned with printable.String
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s %s: the gateway answered HTTP %d", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: the gateway answered HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// maxBody bounds every API reply.
const maxBody = 2 << 20

// client is the REST layer: bearer token, one re-login on 401, on the
// shared bounded REST client (timeouts, size limit, pinned TLS, masked
// transcript).
type client struct {
	rc       *transport.RESTClient
	user, pw string
	timeout  time.Duration

	mu    sync.Mutex
	token string
	local netip.Addr
	// relogin makes one login at a time: requests in parallel that all
	// find the session ended log in once.
	relogin sync.Mutex
	// rtt measures the round trips of the client's connects and requests.
	rtt roundTrip
}

func newClient(o transport.RESTOptions, user, pw string) (*client, error) {
	o.MaxBody = maxBody
	o.MaxConns = readParallel
	// importCert closes the client once the new certificate is pinned,
	// which forgets the sessions made under the old one
	o.Resume = true
	o.Header = http.Header{"Accept": {"application/json"}}
	rc, err := transport.NewRESTClient(o)
	if err != nil {
		return nil, err
	}
	return &client{rc: rc, user: user, pw: pw, timeout: o.Timeout}, nil
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
			return printable.String(inner.Message)
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil {
			return printable.String(s)
		}
	}
	return printable.String(e.Msg)
}

// request is one API call's body.
type request struct {
	json  any
	parts []transport.Part
}

// send makes one call and returns its status and bounded body, whatever
// the status; transport failures are errors.
func (c *client) send(ctx context.Context, method, path string, body request, token string) (int, []byte, error) {
	// the trace's callbacks run on the transport's goroutines
	var tmu sync.Mutex
	var wrote time.Time
	dials := map[string]time.Time{}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			if ap, err := netip.ParseAddrPort(ci.Conn.LocalAddr().String()); err == nil {
				c.mu.Lock()
				c.local = ap.Addr().Unmap()
				c.mu.Unlock()
			}
		},
		ConnectStart: func(_, addr string) {
			tmu.Lock()
			dials[addr] = time.Now()
			tmu.Unlock()
		},
		ConnectDone: func(_, addr string, err error) {
			tmu.Lock()
			t0, ok := dials[addr]
			tmu.Unlock()
			if ok && err == nil {
				c.rtt.observe(time.Since(t0))
			}
		},
		WroteRequest: func(wr httptrace.WroteRequestInfo) {
			if wr.Err == nil {
				tmu.Lock()
				wrote = time.Now()
				tmu.Unlock()
			}
		},
		GotFirstResponseByte: func() {
			tmu.Lock()
			t0 := wrote
			tmu.Unlock()
			if !t0.IsZero() {
				c.rtt.observe(time.Since(t0))
			}
		},
	})
	rq := transport.RESTRequest{Method: method, Path: path, JSON: body.json, Parts: body.parts, NoAuth: token == ""}
	if token != "" {
		a := transport.BearerAuth(token)
		rq.Auth = &a
	}
	resp, err := c.rc.Do(ctx, rq)
	if resp != nil {
		return resp.Status, resp.Body, nil // a status the API chose; the caller reads it
	}
	return 0, nil, err
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
		if tok, err = c.loginAgain(ctx, tok); err != nil {
			return fmt.Errorf("the session ended and logging in again failed: %w", err)
		}
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

// loginAgain logs in after a request with stale was refused, unless a
// request in parallel has already done so, and returns the new token.
func (c *client) loginAgain(ctx context.Context, stale string) (string, error) {
	c.relogin.Lock()
	defer c.relogin.Unlock()
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if tok != stale {
		return tok, nil
	}
	if _, err := c.login(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, nil
}

func (c *client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, request{}, out)
}

func (c *client) localAddr() netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local
}
