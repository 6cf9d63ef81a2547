package kepware

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/commission-tool/commission/internal/printable"
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

// APIError is a reply of the Configuration API with a status the driver
// did not expect, with the fields of its JSON error body. It wraps the
// transport's *transport.HTTPStatusError, and ErrUnauthorized,
// ErrForbidden or ErrNotFound for 401, 403 and 404.
type APIError struct {
	Method, Path string
	Status       int
	Code         int    `json:"code"`
	Message      string `json:"message"`
	Property     string `json:"property"`
	Description  string `json:"description"`
	// HTTP is the transport's classification of the same reply.
	HTTP *transport.HTTPStatusError `json:"-"`
}

func (e *APIError) Error() string {
	msg := printable.String(e.Message)
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if d := printable.String(e.Description); d != "" && !strings.Contains(msg, d) {
		msg += ": " + d
	}
	return fmt.Sprintf("%s %s: the server answered %d: %s", e.Method, e.Path, e.Status, msg)
}

// Unwrap returns the transport error and, for 401, 403 and 404, the
// matching sentinel.
func (e *APIError) Unwrap() []error {
	out := []error{}
	if e.HTTP != nil {
		out = append(out, e.HTTP)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		out = append(out, ErrUnauthorized)
	case http.StatusForbidden:
		out = append(out, ErrForbidden)
	case http.StatusNotFound:
		out = append(out, ErrNotFound)
	}
	return out
}

// StaleProjectError is a change the server refused because another
// client changed the project since the tool read it. Nothing was changed.
type StaleProjectError struct {
	Sent, Now int64
}

func (e *StaleProjectError) Error() string {
	return fmt.Sprintf("someone else changed the Kepware project while you worked (the tool read revision %d, the server is now at %d): nothing was changed. The tool has fetched the new revision: check the server again to see the other change, then apply the step again", e.Sent, e.Now)
}

// client speaks the Configuration API's JSON over the shared transport.
type client struct {
	rc *transport.RESTClient
}

// newClient builds a client for base ("https://host:port"); it sends nothing.
func newClient(base string, tlsConf *tls.Config, user, pass string, c config) (*client, error) {
	rc, err := transport.NewRESTClient(transport.RESTOptions{
		BaseURL: base, Network: "tcp4", // Kepware does not listen on IPv6
		Timeout: c.Timeout, MaxBody: maxBody, TLS: tlsConf,
		Auth:       transport.BasicAuth(user, pass),
		Header:     http.Header{"Accept": {"application/json"}},
		Transcript: c.Transcript, Observe: c.Observe, Mask: c.mask,
		MaxConns: readParallel,
		// the driver changes no certificate; a stale session would be
		// refused by the pin check in any case
		Resume: true,
	})
	if err != nil {
		return nil, fmt.Errorf("kepware: %w", err)
	}
	return &client{rc: rc}, nil
}

func (c *client) close() { c.rc.Close() }

// do sends one request; a status outside accept is an *APIError naming
// the endpoint and the status.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body any, accept ...int) (int, []byte, error) {
	return c.send(ctx, transport.RESTRequest{Method: method, Path: path, Query: query, JSON: body, Accept: accept})
}

// doAs sends one GET with other credentials than the client's, on the
// same connections.
func (c *client) doAs(ctx context.Context, auth transport.Auth, method, path string, accept ...int) (int, []byte, error) {
	return c.send(ctx, transport.RESTRequest{Method: method, Path: path, Auth: &auth, Accept: accept})
}

func (c *client) send(ctx context.Context, rq transport.RESTRequest) (int, []byte, error) {
	method, path := rq.Method, rq.Path
	resp, err := c.rc.Do(ctx, rq)
	var se *transport.HTTPStatusError
	if errors.As(err, &se) {
		e := &APIError{}
		_ = json.Unmarshal(se.Raw, e) // a non-JSON error body keeps the status text
		e.Method, e.Path, e.Status, e.HTTP = method, path, se.Status, se
		return se.Status, se.Raw, e
	}
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Body, nil
}

// getObject reads one JSON object.
func (c *client) getObject(ctx context.Context, path string, query url.Values) (obj, error) {
	_, data, err := c.do(ctx, http.MethodGet, path, query, nil, http.StatusOK)
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
	_, data, err := c.do(ctx, http.MethodGet, path, query, nil, http.StatusOK)
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
	r := transport.RESTResponse{Body: data}
	return r.DecodeJSON(v)
}

// MultiStatusError is a 207 reply: some posted items failed.
type MultiStatusError struct {
	Path   string
	Failed []APIError
}

func (e *MultiStatusError) Error() string {
	var parts []string
	for _, f := range e.Failed {
		m := printable.String(f.Description)
		if m == "" {
			m = printable.String(f.Message)
		}
		parts = append(parts, m)
	}
	return fmt.Sprintf("POST %s: the server created only part of it: %s", e.Path, strings.Join(parts, "; "))
}

// post creates objects; 201 is success, 207 a partial failure.
func (c *client) post(ctx context.Context, path string, body any) error {
	status, data, err := c.do(ctx, http.MethodPost, path, nil, body, http.StatusCreated, http.StatusMultiStatus)
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
	}
	return nil
}

// put modifies one object; 200 is success. Properties the server did not
// apply come back as an error.
func (c *client) put(ctx context.Context, path string, body obj) error {
	_, data, err := c.do(ctx, http.MethodPut, path, nil, body, http.StatusOK)
	if err != nil {
		return err
	}
	var r struct {
		Message    string         `json:"message"`
		NotApplied map[string]any `json:"not_applied"`
	}
	if len(strings.TrimSpace(string(data))) > 0 && decode(data, &r) == nil && len(r.NotApplied) > 0 {
		var keys []string
		for k := range r.NotApplied {
			keys = append(keys, printable.String(k))
		}
		return fmt.Errorf("PUT %s: the server did not apply %s", path, strings.Join(keys, ", "))
	}
	return nil
}

// obj is one Configuration API object.
type obj map[string]any

func (o obj) str(k string) string {
	if v, ok := o[k].(string); ok {
		return printable.String(v)
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

// escape percent-encodes an object name for a path segment, every
// reserved character included (as PTC's SDK does).
func escape(name string) string { return strings.ReplaceAll(url.QueryEscape(name), "+", "%20") }
