package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/commission-tool/commission/internal/secret"
)

// REST defaults. A caller sets its own in RESTOptions.
const (
	DefaultRESTMaxBody    = 4 << 20 // a reply
	DefaultRESTMaxRequest = 8 << 20 // a request body, multipart included
	// excerptLen bounds the reply text an HTTPStatusError carries.
	excerptLen = 300
)

// RESTOptions configures a RESTClient. Zero values take the defaults.
type RESTOptions struct {
	// BaseURL is "scheme://host:port" (an optional path prefix is kept);
	// request paths are appended to it.
	BaseURL string
	// Network is the dial network, "tcp" by default; "tcp4" for a device
	// that does not listen on IPv6.
	Network     string
	Timeout     time.Duration // per request, default DefaultTimeout
	DialTimeout time.Duration // default Timeout
	MaxBody     int64         // reply limit, default DefaultRESTMaxBody
	MaxRequest  int64         // request body limit, default DefaultRESTMaxRequest
	// TLS verifies https URLs, normally PinnedTLS. Required for https.
	TLS *tls.Config
	// Auth is sent on every request unless the request says NoAuth.
	Auth Auth
	// Header is added to every request (e.g. Accept).
	Header http.Header
	// Transcript, when set, receives one line per request with secrets
	// masked (see RESTClient.Do).
	Transcript io.Writer
	// Observe, when set, receives every exchange with secrets masked:
	// what `commission capture` and the evidence record.
	Observe func(RESTExchange)
	// Secret reports whether a JSON, query or form key holds a secret.
	// Nil: RESTSecret.
	Secret func(key string) bool
	// Mask replaces secret values in the transcript and in Observe,
	// default "***" (a capture uses transcript.Masked).
	Mask string
	// MaxConns, when set, bounds the connections open to the device at
	// once, and that many stay open, idle, for the next requests. A
	// driver that sends requests in parallel (RunOrdered) sets it to its
	// parallelism, so that every connection is kept and reused. Zero:
	// no bound, and two stay idle.
	MaxConns int
	// Resume lets the client's connections resume an earlier one's TLS
	// session instead of making a full handshake each. Close forgets the
	// sessions, so a driver calls it where the certificate may change
	// (after importing one, at a restart); the pin check still runs on
	// every resumed connection.
	Resume bool
}

// Auth is how a RESTClient authenticates: Basic or a bearer token.
// The zero value sends nothing.
type Auth struct {
	scheme, user, secret string
}

// BasicAuth authenticates with a user name and password on every request.
func BasicAuth(user, password string) Auth {
	return Auth{scheme: "basic", user: user, secret: password}
}

// BearerAuth authenticates with a token ("Authorization: Bearer ...").
func BearerAuth(token string) Auth { return Auth{scheme: "bearer", secret: token} }

func (a Auth) apply(r *http.Request) {
	switch a.scheme {
	case "basic":
		r.SetBasicAuth(a.user, a.secret)
	case "bearer":
		r.Header.Set("Authorization", "Bearer "+a.secret)
	}
}

// String names the scheme and user, never the secret.
func (a Auth) String() string {
	switch a.scheme {
	case "basic":
		return "basic " + a.user
	case "bearer":
		return "bearer"
	}
	return "none"
}

// Part is one part of a multipart/form-data body: a field, or a file when
// FileName is set. A Secret part is masked in the transcript.
type Part struct {
	Field       string
	FileName    string
	ContentType string
	Data        []byte
	Secret      bool
}

// RESTRequest is one request. Exactly one of JSON, Body and Parts may be set.
type RESTRequest struct {
	Method string
	Path   string // appended to BaseURL; escape object names with url.PathEscape
	Query  url.Values
	// JSON is marshalled as the body, with Content-Type application/json.
	JSON any
	// Body is sent as it is, with ContentType.
	Body        []byte
	ContentType string
	// Parts make a multipart/form-data body.
	Parts  []Part
	Header http.Header
	// Timeout overrides the client's for this request (an upload).
	Timeout time.Duration
	// NoAuth sends no Authorization (a login request, a probe of the
	// server's answer to an anonymous client).
	NoAuth bool
	// Auth, when set, replaces the client's for this request only.
	Auth *Auth
	// Accept lists the statuses that are not an error; empty means 2xx.
	Accept []int
}

// RESTResponse is a fully read, bounded reply.
type RESTResponse struct {
	Status int
	Header http.Header
	Body   []byte // a UTF-8 byte order mark is removed
}

// DecodeJSON decodes the body into v, numbers as json.Number when v
// holds interfaces.
func (r *RESTResponse) DecodeJSON(v any) error {
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("the reply is not the JSON expected: %w", err)
	}
	return nil
}

// RESTExchange is one request and its reply as Observe sees them, secret
// values replaced by RESTOptions.Mask.
type RESTExchange struct {
	Method, URL string // URL: path and query
	// BodyKind is "json", "form", "multipart", "raw" or "" (no body).
	BodyKind string
	// RequestBody is the masked body: JSON, a url-encoded form, or for
	// multipart a description of its parts (files by name and size).
	RequestBody string
	Status      int // 0 when no reply came
	ReplyHeader http.Header
	// ReplyBody is the masked JSON reply, or "(N bytes, not JSON)".
	ReplyBody string
	Error     string
}

// HTTPStatusError is a reply with a status the caller did not accept. It
// names the request and carries a short, printable excerpt of the reply
// with secrets masked.
type HTTPStatusError struct {
	Method, Path string
	Status       int
	Body         string // excerpt
	// Raw is the whole bounded reply, for the caller to decode (an API's
	// JSON error body). Not masked: never log it.
	Raw []byte
}

func (e *HTTPStatusError) Error() string {
	s := fmt.Sprintf("%s %s: the server answered %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// DroppedError is a connection that closed or reset after the request was
// sent and before a reply: a change may or may not have been made.
type DroppedError struct {
	Method, Path string
	Err          error
}

func (e *DroppedError) Error() string {
	return fmt.Sprintf("%s %s: the server closed the connection before answering; the change may or may not have been made, so read the device again before anything else: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the network error.
func (e *DroppedError) Unwrap() error { return e.Err }

// RESTClient is a bounded JSON/HTTP client for one device API: Basic or
// bearer auth, JSON and multipart bodies, size limits, timeouts, pinned
// TLS, one error classification and a masked transcript. Redirects are
// not followed (a 3xx is an *HTTPStatusError unless accepted). Safe for
// concurrent use.
//
// Errors: an unaccepted status is *HTTPStatusError; a refused, silent or
// timed-out connection is *UnreachableError; a connection closed before
// the reply is *DroppedError; a certificate that does not match its pin
// is *UnknownFingerprintError or *FingerprintChangedError; a reply over
// MaxBody wraps ErrTooLarge.
type RESTClient struct {
	o    RESTOptions
	base *url.URL
	hc   *http.Client
	tr   *http.Transport
	ss   *sessions // with Resume
	w    *tlsWatch

	mu   sync.Mutex
	auth Auth
	tmu  sync.Mutex
}

// NewRESTClient checks the options and builds a client; it sends nothing.
func NewRESTClient(o RESTOptions) (*RESTClient, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("rest client: base URL %q: use scheme://host:port", o.BaseURL)
	}
	if u.Scheme == "https" && o.TLS == nil {
		return nil, errors.New("rest client: an https base URL needs a TLS configuration (PinnedTLS)")
	}
	if o.Network == "" {
		o.Network = "tcp"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = o.Timeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultRESTMaxBody
	}
	if o.MaxRequest <= 0 {
		o.MaxRequest = DefaultRESTMaxRequest
	}
	if o.Secret == nil {
		o.Secret = RESTSecret
	}
	if o.Mask == "" {
		o.Mask = "***"
	}
	idle := 2
	if o.MaxConns > 0 {
		idle = o.MaxConns
	}
	var w *tlsWatch
	var ss *sessions
	o.TLS, w, ss = clientTLS(o.TLS, o.Resume)
	u.Path = strings.TrimSuffix(u.Path, "/")
	network, dialTimeout := o.Network, o.DialTimeout
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return Dial(ctx, network, addr, dialTimeout)
		},
		TLSClientConfig:        o.TLS,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxIdleConns:           idle,
		MaxIdleConnsPerHost:    idle,
		MaxConnsPerHost:        max(o.MaxConns, 0),
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c := &RESTClient{o: o, base: u, tr: tr, ss: ss, w: w, auth: o.Auth,
		hc: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return c, nil
}

// RESTSecret is the default secret-key test of a RESTClient: the shared
// list of internal/secret (passwords, keys, communities, tokens, cookies,
// sessions, authorizations, CSRF values), the same one every transcript,
// journal and record uses.
func RESTSecret(key string) bool { return secret.Name(key) }

// SetAuth replaces the credentials sent from now on (a token obtained at
// login, a changed password).
func (c *RESTClient) SetAuth(a Auth) {
	c.mu.Lock()
	c.auth = a
	c.mu.Unlock()
}

// TLSSeen is what the client's last fully verified TLS connection
// showed; false before any.
func (c *RESTClient) TLSSeen() (TLSSeen, bool) { return c.w.get() }

// Base is the base URL, for messages.
func (c *RESTClient) Base() string { return c.base.String() }

// Close drops idle connections and forgets the TLS sessions they could
// resume.
func (c *RESTClient) Close() {
	c.ss.forget()
	c.tr.CloseIdleConnections()
}

// Get sends a GET.
func (c *RESTClient) Get(ctx context.Context, path string, query url.Values) (*RESTResponse, error) {
	return c.Do(ctx, RESTRequest{Method: http.MethodGet, Path: path, Query: query})
}

// Post sends a POST with a JSON body.
func (c *RESTClient) Post(ctx context.Context, path string, body any) (*RESTResponse, error) {
	return c.Do(ctx, RESTRequest{Method: http.MethodPost, Path: path, JSON: body})
}

// Put sends a PUT with a JSON body.
func (c *RESTClient) Put(ctx context.Context, path string, body any) (*RESTResponse, error) {
	return c.Do(ctx, RESTRequest{Method: http.MethodPut, Path: path, JSON: body})
}

// Patch sends a PATCH with a JSON body.
func (c *RESTClient) Patch(ctx context.Context, path string, body any) (*RESTResponse, error) {
	return c.Do(ctx, RESTRequest{Method: http.MethodPatch, Path: path, JSON: body})
}

// Delete sends a DELETE.
func (c *RESTClient) Delete(ctx context.Context, path string) (*RESTResponse, error) {
	return c.Do(ctx, RESTRequest{Method: http.MethodDelete, Path: path})
}

// Do sends one request and reads the bounded reply. The transcript line
// is "METHOD /path?query -> STATUS" followed by the masked request body
// ("json: {...}" or "multipart: field=..., file=name (N bytes)"); the
// Authorization header is never written, only its scheme and user.
func (c *RESTClient) Do(ctx context.Context, rq RESTRequest) (*RESTResponse, error) {
	body, ctype, kind, shown, err := c.encode(rq)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rq.Method, rq.Path, err)
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + rq.Path
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return nil, fmt.Errorf("%s %s: bad path: %w", rq.Method, rq.Path, err)
	}
	if len(rq.Query) > 0 {
		u.RawQuery = rq.Query.Encode()
	}
	timeout := c.o.Timeout
	if rq.Timeout > 0 {
		timeout = rq.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.Method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: build request: %w", rq.Method, rq.Path, err)
	}
	for k, vs := range c.o.Header {
		req.Header[k] = slices.Clone(vs)
	}
	for k, vs := range rq.Header {
		req.Header[k] = slices.Clone(vs)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c.mu.Lock()
	auth := c.auth
	c.mu.Unlock()
	if rq.Auth != nil {
		auth = *rq.Auth
	}
	if rq.NoAuth {
		auth = Auth{}
	}
	auth.apply(req)
	target := rq.Path
	if len(rq.Query) > 0 {
		target += "?" + c.maskValues(rq.Query)
	}
	ex := RESTExchange{Method: rq.Method, URL: target, BodyKind: kind, RequestBody: shown}

	resp, err := c.hc.Do(req)
	if err != nil {
		err = c.classify(rq.Method, rq.Path, timeout, err)
		ex.Error = err.Error()
		c.record(ctx, ex, auth)
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, c.o.MaxBody)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%s %s: reply over %d bytes: %w", rq.Method, rq.Path, c.o.MaxBody, ErrTooLarge)
		} else {
			err = c.classify(rq.Method, rq.Path, timeout, err)
		}
		ex.Status, ex.Error = resp.StatusCode, err.Error()
		c.record(ctx, ex, auth)
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	ex.Status = resp.StatusCode
	if c.o.Observe != nil { // the transcript shows no reply
		ex.ReplyHeader, ex.ReplyBody = c.maskHeader(resp.Header), c.maskBody(data)
	}
	c.record(ctx, ex, auth)
	out := &RESTResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if !accepted(resp.StatusCode, rq.Accept) {
		return out, &HTTPStatusError{Method: rq.Method, Path: rq.Path, Status: resp.StatusCode, Body: excerpt(c.maskBody(data)), Raw: data}
	}
	return out, nil
}

func accepted(status int, list []int) bool {
	if len(list) == 0 {
		return status >= 200 && status <= 299
	}
	return slices.Contains(list, status)
}

// encode builds the body, and its kind and masked form for the transcript.
func (c *RESTClient) encode(rq RESTRequest) (body []byte, ctype, kind, shown string, err error) {
	n := 0
	for _, set := range []bool{rq.JSON != nil, rq.Body != nil, len(rq.Parts) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, "", "", "", errors.New("a request takes one body: JSON, Body or Parts")
	}
	switch {
	case rq.JSON != nil:
		if body, err = json.Marshal(rq.JSON); err != nil {
			return nil, "", "", "", fmt.Errorf("encode request: %w", err)
		}
		ctype, kind, shown = "application/json", "json", c.maskBody(body)
	case rq.Body != nil:
		body, ctype, kind = rq.Body, rq.ContentType, "raw"
		shown = c.maskBody(body)
		if strings.HasPrefix(ctype, "application/x-www-form-urlencoded") {
			if v, perr := url.ParseQuery(string(body)); perr == nil {
				kind, shown = "form", c.maskValues(v)
			}
		}
	case len(rq.Parts) > 0:
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		var desc []string
		for _, p := range rq.Parts {
			h := textproto.MIMEHeader{}
			disp := fmt.Sprintf(`form-data; name=%q`, p.Field)
			if p.FileName != "" {
				disp += fmt.Sprintf(`; filename=%q`, p.FileName)
			}
			h.Set("Content-Disposition", disp)
			if p.ContentType != "" {
				h.Set("Content-Type", p.ContentType)
			} else if p.FileName != "" {
				h.Set("Content-Type", "application/octet-stream")
			}
			w, err := mw.CreatePart(h)
			if err != nil {
				return nil, "", "", "", fmt.Errorf("encode multipart: %w", err)
			}
			if _, err := w.Write(p.Data); err != nil {
				return nil, "", "", "", fmt.Errorf("encode multipart: %w", err)
			}
			switch {
			case p.FileName != "":
				desc = append(desc, fmt.Sprintf("%s=file %s (%d bytes)", p.Field, printable(p.FileName), len(p.Data)))
			case p.Secret || c.o.Secret(p.Field):
				desc = append(desc, p.Field+"="+c.o.Mask)
			default:
				desc = append(desc, p.Field+"="+excerpt(string(p.Data)))
			}
		}
		if err := mw.Close(); err != nil {
			return nil, "", "", "", fmt.Errorf("encode multipart: %w", err)
		}
		body, ctype, kind, shown = b.Bytes(), mw.FormDataContentType(), "multipart", strings.Join(desc, ", ")
	}
	if int64(len(body)) > c.o.MaxRequest {
		return nil, "", "", "", fmt.Errorf("request body of %d bytes over the %d-byte limit: %w", len(body), c.o.MaxRequest, ErrTooLarge)
	}
	return body, ctype, kind, shown, nil
}

// classify turns a transport failure into the package's typed errors.
func (c *RESTClient) classify(method, path string, timeout time.Duration, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var ue *UnreachableError
	var unknown *UnknownFingerprintError
	var changed *FingerprintChangedError
	switch {
	case errors.As(err, &ue):
		return ue
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &changed):
		return changed
	case isTimeout(err):
		return &UnreachableError{HostPort: c.base.Host, Kind: Silent, Timeout: timeout, Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return &DroppedError{Method: method, Path: path, Err: err}
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// record writes the exchange to Observe and the transcript, or holds it
// back when ctx belongs to a task of RunOrdered.
func (c *RESTClient) record(ctx context.Context, ex RESTExchange, auth Auth) {
	if h, ok := ctx.Value(heldKey{}).(*held); ok {
		h.add(func() { c.emit(ex, auth) })
		return
	}
	c.emit(ex, auth)
}

func (c *RESTClient) emit(ex RESTExchange, auth Auth) {
	if c.o.Observe != nil {
		c.o.Observe(ex)
	}
	if c.o.Transcript == nil {
		return
	}
	line := ex.Method + " " + ex.URL
	if ex.Status > 0 {
		line += fmt.Sprintf(" -> %d", ex.Status)
	}
	line += " (" + auth.String() + ")"
	if ex.RequestBody != "" {
		line += " " + ex.BodyKind + ": " + ex.RequestBody
	}
	if ex.Error != "" {
		line += " error"
	}
	c.tmu.Lock()
	defer c.tmu.Unlock()
	fmt.Fprintln(c.o.Transcript, line)
}

// maskValues renders query or form values sorted by key, secrets masked.
func (c *RESTClient) maskValues(v url.Values) string { return maskValues(v, c.o.Secret, c.o.Mask) }

func (c *RESTClient) maskHeader(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		if c.o.Secret(k) {
			out[k] = []string{c.o.Mask}
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out
}

// maskBody returns a JSON body with the values of secret keys replaced
// by the mask; a body that is not JSON is shown only by its size.
func (c *RESTClient) maskBody(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Sprintf("(%d bytes, not JSON)", len(b))
	}
	out, err := json.Marshal(c.maskJSON(v))
	if err != nil {
		return fmt.Sprintf("(%d bytes)", len(b))
	}
	return string(out)
}

func (c *RESTClient) maskJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			if c.o.Secret(k) {
				if s, ok := x.(string); !ok || s != "" {
					x = c.o.Mask
				}
			} else {
				x = c.maskJSON(x)
			}
			m[k] = x
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = c.maskJSON(x)
		}
		return l
	}
	return v
}

// excerpt shortens s to excerptLen runes and drops control characters.
func excerpt(s string) string {
	s = printable(s)
	if r := []rune(s); len(r) > excerptLen {
		s = string(r[:excerptLen]) + "…"
	}
	return s
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
}

// heldKey marks a context whose REST exchanges are held back (RunOrdered).
type heldKey struct{}

// held is one task's exchanges, waiting for the tasks before it.
type held struct {
	parent *held // the enclosing task's, when RunOrdered runs inside a task
	mu     sync.Mutex
	items  []func()
}

func (h *held) add(f func()) {
	h.mu.Lock()
	h.items = append(h.items, f)
	h.mu.Unlock()
}

// release records what the task held: into the enclosing task, or out.
func (h *held) release() {
	h.mu.Lock()
	items := h.items
	h.items = nil
	h.mu.Unlock()
	for _, f := range items {
		if h.parent != nil {
			h.parent.add(f)
		} else {
			f()
		}
	}
}

// RunOrdered runs tasks in parallel, at most limit at a time (limit < 1
// means one at a time), and waits for all of them. Every exchange a task
// makes through a RESTClient with the context it is given is recorded
// (the transcript line and Observe) only once every task before it has
// finished, and in the order the task made them: the transcript and a
// capture read as if the tasks had run one after another, whatever order
// the replies came in. Held exchanges hold no secret: they are masked
// as they would be written.
//
// Every task runs to its end, even when another fails, so that the
// result does not depend on timing: the error returned is that of the
// first task, in the order given, that failed.
func RunOrdered(ctx context.Context, limit int, tasks ...func(ctx context.Context) error) error {
	if limit < 1 {
		limit = 1
	}
	parent, _ := ctx.Value(heldKey{}).(*held)
	holds := make([]*held, len(tasks))
	errs := make([]error, len(tasks))
	done := make([]bool, len(tasks))
	var mu sync.Mutex
	next := 0 // the first task whose exchanges are not released yet
	finish := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		done[i] = true
		for next < len(tasks) && done[next] {
			holds[next].release()
			next++
		}
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, task := range tasks {
		holds[i] = &held{parent: parent}
		tctx := context.WithValue(ctx, heldKey{}, holds[i])
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer finish(i)
			errs[i] = task(tctx)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
