package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/secret"
)

// DefaultMaxBody bounds a response body unless the caller says otherwise.
const DefaultMaxBody = 2 << 20

// HTTPOptions configures an HTTPClient. Zero values take the defaults.
type HTTPOptions struct {
	Timeout     time.Duration // per request, default DefaultTimeout
	DialTimeout time.Duration // default Timeout
	MaxBody     int64         // default DefaultMaxBody
	TLS         *tls.Config   // for https URLs, e.g. PinnedTLS
	// Transcript, when set, receives one line per request: method, path,
	// status and form keys; secret values are replaced by "***".
	Transcript io.Writer
	// Resume lets the client's connections resume an earlier one's TLS
	// session instead of making a full handshake each. Close forgets the
	// sessions, so a driver calls it where the certificate may change
	// (after importing one, at a restart); the pin check still runs on
	// every resumed connection.
	Resume bool
	// Secret reports whether a form or query key holds a secret. Nil
	// treats keys containing "pass", "community", "secret" or "key" as
	// secret.
	Secret func(key string) bool
}

// HTTPClient is a bounded HTTP client with a cookie jar that follows
// redirects only on the same host. Safe for concurrent use.
type HTTPClient struct {
	c   *http.Client
	tr  *http.Transport
	ss  *sessions // with Resume
	w   *tlsWatch
	o   HTTPOptions
	tmu sync.Mutex
}

// Response is a fully read, bounded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	URL    *url.URL // after redirects
	// Local is the tool's address on the connection that carried the
	// request (how the device sees the technician).
	Local netip.Addr
}

// NewHTTPClient builds a client.
func NewHTTPClient(o HTTPOptions) *HTTPClient {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = o.Timeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Secret == nil {
		o.Secret = DefaultSecret
	}
	var w *tlsWatch
	var ss *sessions
	o.TLS, w, ss = clientTLS(o.TLS, o.Resume)
	jar, _ := cookiejar.New(nil) // never fails with nil options
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return Dial(ctx, network, addr, o.DialTimeout)
		},
		TLSClientConfig:        o.TLS,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxIdleConnsPerHost:    4,
		MaxConnsPerHost:        4,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      false,
	}
	c := &http.Client{
		Transport: tr,
		Jar:       jar,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return fmt.Errorf("refused redirect to another host or scheme (%s://%s)", req.URL.Scheme, req.URL.Host)
			}
			return nil
		},
	}
	return &HTTPClient{c: c, tr: tr, ss: ss, w: w, o: o}
}

// DefaultSecret is the default test for secret form keys: the one list
// of internal/secret.
func DefaultSecret(key string) bool { return secret.Name(key) }

// Close drops idle connections and forgets the TLS sessions they could
// resume.
func (h *HTTPClient) Close() {
	h.ss.forget()
	h.tr.CloseIdleConnections()
}

// TLSSeen is what the client's last fully verified TLS connection
// showed; false before any.
func (h *HTTPClient) TLSSeen() (TLSSeen, bool) { return h.w.get() }

// HasCookie reports whether the jar holds a cookie it would send to u.
func (h *HTTPClient) HasCookie(u *url.URL) bool { return len(h.c.Jar.Cookies(u)) > 0 }

// Get fetches rawURL.
func (h *HTTPClient) Get(ctx context.Context, rawURL string) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	return h.do(req, nil)
}

// PostForm posts form, url-encoded, to rawURL.
func (h *HTTPClient) PostForm(ctx context.Context, rawURL string, form url.Values) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(req, form)
}

// PostFormPairs posts an ordered list of key=value pairs (a browser keeps
// the document order of a form's fields, repeated keys included).
// secretKeys are masked in the transcript in addition to Options.Secret
// (e.g. the names of a form's password inputs).
func (h *HTTPClient) PostFormPairs(ctx context.Context, rawURL string, pairs [][2]string, secretKeys ...string) (*Response, error) {
	var b strings.Builder
	form := url.Values{}
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
		form.Add(p[0], p[1])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(b.String()))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, k := range secretKeys {
		if vs, ok := form[k]; ok {
			masked := make([]string, len(vs))
			for i, v := range vs {
				if v != "" {
					masked[i] = "***"
				}
			}
			form[k] = masked
		}
	}
	return h.do(req, form)
}

func (h *HTTPClient) do(req *http.Request, form url.Values) (*Response, error) {
	var local netip.Addr
	var lmu sync.Mutex
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if ap, err := netip.ParseAddrPort(ci.Conn.LocalAddr().String()); err == nil {
			lmu.Lock()
			local = ap.Addr().Unmap()
			lmu.Unlock()
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	hostport := req.URL.Host
	resp, err := h.c.Do(req)
	if err != nil {
		h.record(req, 0, form, err)
		return nil, h.classify(hostport, err)
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body, h.o.MaxBody)
	if err != nil {
		h.record(req, resp.StatusCode, form, err)
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%s %s: body over %d bytes: %w", req.Method, req.URL.Path, h.o.MaxBody, err)
		}
		return nil, fmt.Errorf("%s %s: the connection dropped while reading the reply: %w", req.Method, req.URL.Path, h.classify(hostport, err))
	}
	h.record(req, resp.StatusCode, form, nil)
	lmu.Lock()
	defer lmu.Unlock()
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, URL: resp.Request.URL, Local: local}, nil
}

// classify unwraps url.Error and turns timeouts into UnreachableError.
func (h *HTTPClient) classify(hostport string, err error) error {
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return ue
	}
	// keep a pin error as it is, without the "Get URL:" noise
	var unknown *UnknownFingerprintError
	if errors.As(err, &unknown) {
		return unknown
	}
	var changed *FingerprintChangedError
	if errors.As(err, &changed) {
		return changed
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if isTimeout(err) {
		return &UnreachableError{HostPort: hostport, Kind: Silent, Timeout: h.o.Timeout, Err: err}
	}
	return fmt.Errorf("%s: %w", hostport, err)
}

// record writes one transcript line.
func (h *HTTPClient) record(req *http.Request, status int, form url.Values, err error) {
	if h.o.Transcript == nil {
		return
	}
	line := req.Method + " " + req.URL.Path
	if q := req.URL.Query(); len(q) > 0 {
		line += "?" + h.mask(q)
	}
	if status > 0 {
		line += fmt.Sprintf(" -> %d", status)
	}
	if len(form) > 0 {
		line += " form: " + h.mask(form)
	}
	if err != nil {
		line += " error"
	}
	h.tmu.Lock()
	defer h.tmu.Unlock()
	fmt.Fprintln(h.o.Transcript, line)
}

// mask renders values sorted by key, with secret values as "***".
func (h *HTTPClient) mask(v url.Values) string { return maskValues(v, h.o.Secret, "***") }

// maskValues renders query or form values sorted by key, each value whose
// key secret names replaced by mask: the one rendering both clients'
// transcripts use.
func maskValues(v url.Values, secret func(string) bool, mask string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, val := range v[k] {
			if secret(k) && val != "" {
				val = mask
			}
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(val))
		}
	}
	return strings.Join(parts, "&")
}

// readLimited reads at most max bytes and fails with ErrTooLarge beyond.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrTooLarge
	}
	return b, nil
}
