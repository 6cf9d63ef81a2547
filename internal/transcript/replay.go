package transcript

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Replay is an http.Handler that answers from a transcript's HTTP
// exchanges. A request is matched to a recorded one by method, path,
// query and body (a url-encoded form, or JSON compared as values, so key
// order and spacing do not matter), where a recorded Masked value matches
// anything; a
// request that matches nothing gets 599 and is listed in Mismatches, so a
// test sees what the client sent differently. An exchange whose reply
// came after redirects is answered with a 303 to its final URL first.
type Replay struct {
	mu       sync.Mutex
	ex       []Exchange
	used     []bool
	pending  map[string]int // final URL path -> exchange to serve there
	mismatch []string
}

// NewReplay serves the HTTP exchanges of ex.
func NewReplay(ex []Exchange) *Replay {
	var h []Exchange
	for _, e := range ex {
		if e.Kind == "http" && e.Request != nil && e.Response != nil && e.Response.Error == "" {
			h = append(h, e)
		}
	}
	return &Replay{ex: h, used: make([]bool, len(h)), pending: map[string]int{}}
}

// Mismatches lists the requests that matched no recorded exchange.
func (rp *Replay) Mismatches() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.mismatch...)
}

// Unused lists the recorded requests the client never sent.
func (rp *Replay) Unused() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var out []string
	for i, e := range rp.ex {
		if !rp.used[i] {
			out = append(out, e.Request.Method+" "+e.Request.URL)
		}
	}
	return out
}

const maxReplayBody = 1 << 20

func (rp *Replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxReplayBody))
	rp.mu.Lock()
	if i, ok := rp.pending[r.URL.Path]; ok && r.Method == http.MethodGet {
		delete(rp.pending, r.URL.Path)
		rp.mu.Unlock()
		write(w, rp.ex[i].Response)
		return
	}
	idx := -1
	for i, e := range rp.ex {
		if matches(e.Request, r, string(body)) {
			if !rp.used[i] {
				idx = i
				break
			}
			if idx < 0 {
				idx = i // a repeat of a request already answered
			}
		}
	}
	if idx < 0 {
		rp.mismatch = append(rp.mismatch, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		rp.mu.Unlock()
		http.Error(w, "no recorded exchange matches this request", 599)
		return
	}
	// a repeat prefers the latest recorded answer after the first use
	for i := idx + 1; i < len(rp.ex) && rp.used[idx]; i++ {
		if matches(rp.ex[i].Request, r, string(body)) {
			idx = i
		}
	}
	rp.used[idx] = true
	e := rp.ex[idx]
	if f := e.Response.FinalURL; f != "" {
		if fu, err := url.Parse(f); err == nil && fu.Path != r.URL.Path {
			rp.pending[fu.Path] = idx
			rp.mu.Unlock()
			w.Header().Set("Location", fu.RequestURI())
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	rp.mu.Unlock()
	write(w, e.Response)
}

func write(w http.ResponseWriter, resp *Response) {
	for k, vs := range resp.Header {
		switch strings.ToLower(k) {
		case "content-length", "connection", "transfer-encoding", "date":
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.Status)
	io.WriteString(w, resp.Body)
}

// matches compares a live request with a recorded one.
func matches(rec *Request, r *http.Request, body string) bool {
	if rec.Method != r.Method {
		return false
	}
	ru, err := url.Parse(rec.URL)
	if err != nil || ru.Path != r.URL.Path {
		return false
	}
	if !sameForm(ru.RawQuery, r.URL.RawQuery) {
		return false
	}
	return sameBody(rec.Body, body)
}

// sameBody compares a recorded body with a live one: as JSON values when
// the recorded body is JSON, else as url-encoded forms.
func sameBody(rec, live string) bool {
	if rec == live {
		return true
	}
	if rv, ok := decodeJSON(rec); ok {
		lv, ok := decodeJSON(live)
		return ok && sameJSON(rv, lv)
	}
	return sameForm(rec, live)
}

// decodeJSON decodes s when it is one JSON object or array, numbers kept
// as their literals.
func decodeJSON(s string) (any, bool) {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	d := json.NewDecoder(strings.NewReader(t))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false // trailing data
	}
	return v, true
}

// sameJSON compares two decoded JSON values; a recorded Masked string
// matches any live value, of any type.
func sameJSON(rec, live any) bool {
	if s, ok := rec.(string); ok && s == Masked {
		return true
	}
	switch r := rec.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok || len(l) != len(r) {
			return false
		}
		for k, rv := range r {
			lv, ok := l[k]
			if !ok || !sameJSON(rv, lv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(r) {
			return false
		}
		for i := range r {
			if !sameJSON(r[i], l[i]) {
				return false
			}
		}
		return true
	case json.Number:
		l, ok := live.(json.Number)
		if !ok {
			return false
		}
		if r == l {
			return true
		}
		a, err1 := r.Float64()
		b, err2 := l.Float64()
		return err1 == nil && err2 == nil && a == b
	}
	return rec == live // string, bool, nil
}

// sameForm compares two url-encoded forms in order; a recorded Masked
// value matches any value.
func sameForm(rec, live string) bool {
	if rec == live {
		return true
	}
	a, b := splitForm(rec), splitForm(live)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i][0] != b[i][0] {
			return false
		}
		if a[i][1] != b[i][1] && a[i][1] != Masked {
			return false
		}
	}
	return true
}

func splitForm(s string) [][2]string {
	var out [][2]string
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		uk, err1 := url.QueryUnescape(k)
		uv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			uk, uv = k, v
		}
		out = append(out, [2]string{uk, uv})
	}
	return out
}

// String summarises the replay for a test failure.
func (rp *Replay) String() string {
	return fmt.Sprintf("mismatches %q, unused %q", rp.Mismatches(), rp.Unused())
}
