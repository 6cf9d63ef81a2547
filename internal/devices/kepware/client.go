package kepware

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/transport"
)

// maxBody bounds every reply of the Configuration API.
const maxBody = 4 << 20

// ErrUnauthorized is a login the server refused (HTTP 401).
var ErrUnauthorized = errors.New("the server refused the user name or password (401): check them in the Kepware User Manager")

// ErrForbidden is a request the logged-in user has no permission for (HTTP 403).
var ErrForbidden = errors.New("the user has no permission for this (403): log in with a member of Administrators")

// ErrNotFound is an object the server does not have (HTTP 404).
var ErrNotFound = errors.New("not found (404)")

// APIError is an error reply of the Configuration API, with its JSON body.
type APIError struct {
	Method, Path string
	Status       int
	Code         int    `json:"code"`
	Message      string `json:"message"`
	Property     string `json:"property"`
	Description  string `json:"description"`
}

func (e *APIError) Error() string {
	msg := devices.Printable(e.Message)
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if d := devices.Printable(e.Description); d != "" && !strings.Contains(msg, d) {
		msg += ": " + d
	}
	return fmt.Sprintf("%s %s: the server answered %d: %s", e.Method, e.Path, e.Status, msg)
}

// Unwrap maps 401, 403 and 404 to their sentinel errors.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// StaleProjectError is a change the server refused because another
// client changed the project since the tool read it. Nothing was changed.
type StaleProjectError struct {
	Sent, Now int64
}

func (e *StaleProjectError) Error() string {
	return fmt.Sprintf("someone else changed the Kepware project while you worked (the tool read revision %d, the server is now at %d): nothing was changed. The tool has fetched the new revision: check the server again to see the other change, then apply the step again", e.Sent, e.Now)
}

// client is a bounded JSON client for one Configuration API endpoint.
type client struct {
	hc      *http.Client
	tr      *http.Transport
	base    string // scheme://host:port
	user    string
	pass    string
	timeout time.Duration
}

func newClient(scheme, hostport string, tlsConf *tls.Config, user, pass string, timeout time.Duration) *client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return transport.Dial(ctx, "tcp4", addr, timeout)
		},
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &client{
		hc: &http.Client{Transport: tr, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tr: tr, base: scheme + "://" + hostport, user: user, pass: pass, timeout: timeout,
	}
}

func (c *client) close() { c.tr.CloseIdleConnections() }

// do sends one request with Basic auth and a JSON body, and returns the
// bounded reply. A non-2xx reply is an *APIError.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, c.netError(method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: the connection dropped while reading the reply: %w", method, path, err)
	}
	if len(data) > maxBody {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: reply over %d bytes: %w", method, path, maxBody, transport.ErrTooLarge)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
		_ = json.Unmarshal(data, e) // a non-JSON error body keeps the status text
		e.Method, e.Path, e.Status = method, path, resp.StatusCode
		return resp.StatusCode, data, e
	}
	return resp.StatusCode, data, nil
}

// netError turns a transport failure into a message the technician can act on.
func (c *client) netError(method, path string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var unreach *transport.UnreachableError
	var unknown *transport.UnknownFingerprintError
	var changed *transport.FingerprintChangedError
	switch {
	case errors.As(err, &unreach), errors.As(err, &unknown), errors.As(err, &changed):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "server closed"):
		return fmt.Errorf("%s %s: the server closed the connection before answering; the change may or may not have been made, so the tool reads the server again before anything else: %w", method, path, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &transport.UnreachableError{HostPort: strings.TrimPrefix(strings.TrimPrefix(c.base, "https://"), "http://"), Kind: transport.Silent, Timeout: c.timeout, Err: err}
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// getObject reads one JSON object.
func (c *client) getObject(ctx context.Context, path string) (obj, error) {
	_, data, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	var o obj
	if err := decode(data, &o); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return o, nil
}

// getList reads a JSON array of objects.
func (c *client) getList(ctx context.Context, path string, query url.Values) ([]obj, error) {
	_, data, err := c.do(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	var l []obj
	if err := decode(data, &l); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return l, nil
}

func decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("the reply is not the JSON this tool expects: %w", err)
	}
	return nil
}

// MultiStatusError is a 207 reply: some posted items failed.
type MultiStatusError struct {
	Path   string
	Failed []APIError
}

func (e *MultiStatusError) Error() string {
	var parts []string
	for _, f := range e.Failed {
		m := devices.Printable(f.Description)
		if m == "" {
			m = devices.Printable(f.Message)
		}
		parts = append(parts, m)
	}
	return fmt.Sprintf("POST %s: the server created only part of it: %s", e.Path, strings.Join(parts, "; "))
}

// post creates objects; 201 is success, 207 a partial failure.
func (c *client) post(ctx context.Context, path string, body any) error {
	status, data, err := c.do(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return err
	}
	if status == http.StatusMultiStatus {
		var items []APIError
		if err := decode(data, &items); err != nil {
			return fmt.Errorf("POST %s: %w", path, err)
		}
		ms := &MultiStatusError{Path: path}
		for _, it := range items {
			if it.Code != http.StatusCreated {
				ms.Failed = append(ms.Failed, it)
			}
		}
		if len(ms.Failed) > 0 {
			return ms
		}
		return nil
	}
	if status != http.StatusCreated {
		return fmt.Errorf("POST %s: the server answered %d, not 201 Created", path, status)
	}
	return nil
}

// put modifies one object; 200 is success. Properties the server did not
// apply come back as an error.
func (c *client) put(ctx context.Context, path string, body obj) error {
	status, data, err := c.do(ctx, http.MethodPut, path, nil, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("PUT %s: the server answered %d, not 200", path, status)
	}
	var r struct {
		Message    string         `json:"message"`
		NotApplied map[string]any `json:"not_applied"`
	}
	if len(bytes.TrimSpace(data)) > 0 && decode(data, &r) == nil && len(r.NotApplied) > 0 {
		var keys []string
		for k := range r.NotApplied {
			keys = append(keys, devices.Printable(k))
		}
		return fmt.Errorf("PUT %s: the server did not apply %s", path, strings.Join(keys, ", "))
	}
	return nil
}

// obj is one Configuration API object.
type obj map[string]any

func (o obj) str(k string) string {
	if v, ok := o[k].(string); ok {
		return devices.Printable(v)
	}
	return ""
}

func (o obj) boolean(k string) bool {
	switch v := o[k].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

func (o obj) integer(k string) int64 {
	switch v := o[k].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			f, _ := v.Float64()
			return int64(f)
		}
		return n
	case string:
		var n int64
		_, _ = fmt.Sscan(v, &n)
		return n
	}
	return 0
}

// escape percent-encodes an object name for a path segment.
func escape(name string) string { return url.PathEscape(name) }
