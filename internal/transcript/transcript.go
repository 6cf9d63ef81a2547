// Package transcript records a device conversation with its secrets
// masked and replays it. The format is family-neutral: a folder holding
// manifest.json and one numbered JSON file per exchange (an HTTP request
// and its reply, a UDP datagram and its replies, an SNMP get). A
// technician sends the folder back from a field visit; tests replay it.
package transcript

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Format names the transcript layout, written in every manifest.
const Format = "commission-transcript/1"

// Masked replaces every secret value in a transcript.
const Masked = "**masked**"

// Manifest describes a transcript folder.
type Manifest struct {
	Format    string    `json:"format"`
	Family    string    `json:"family"`
	Target    string    `json:"target"` // the address as the technician typed it
	Created   time.Time `json:"created"`
	Tool      string    `json:"tool,omitempty"`
	Notes     []string  `json:"notes,omitempty"` // e.g. the console generation seen
	Exchanges []string  `json:"exchanges"`       // file names, in order
}

// Request is an HTTP request as sent.
type Request struct {
	Method string              `json:"method"`
	URL    string              `json:"url"` // path and query, masked
	Header map[string][]string `json:"header,omitempty"`
	Body   string              `json:"body,omitempty"` // form body, masked
}

// Response is an HTTP reply as received.
type Response struct {
	Status   int                 `json:"status"`
	Header   map[string][]string `json:"header,omitempty"`
	Body     string              `json:"body,omitempty"`
	FinalURL string              `json:"final_url,omitempty"` // after redirects
	Error    string              `json:"error,omitempty"`
}

// Datagram is a UDP request and its reply, hex encoded.
type Datagram struct {
	Service string `json:"service"` // e.g. "moxa-udp"
	Request string `json:"request"`
	Reply   string `json:"reply,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Value is one SNMP variable read.
type Value struct {
	OID   string `json:"oid"`
	Value string `json:"value"`
}

// Exchange is one numbered file of a transcript.
type Exchange struct {
	Seq      int       `json:"seq"`
	Kind     string    `json:"kind"` // "http", "udp", "snmp"
	Request  *Request  `json:"request,omitempty"`
	Response *Response `json:"response,omitempty"`
	Datagram *Datagram `json:"datagram,omitempty"`
	SNMP     []Value   `json:"snmp,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Recorder collects exchanges in memory and masks them when written, so a
// secret learned late (a cookie, a challenge) is masked everywhere.
// Safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	ex      []Exchange
	secrets map[string]bool
	notes   []string
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{secrets: map[string]bool{}} }

// Secret registers a value to mask wherever it appears. Values shorter
// than 3 characters are ignored (they would mask ordinary text).
func (r *Recorder) Secret(vs ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vs {
		if len(v) >= 3 {
			r.secrets[v] = true
			if e := url.QueryEscape(v); e != v {
				r.secrets[e] = true
			}
		}
	}
}

// Note adds a line to the manifest.
func (r *Recorder) Note(s string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.notes = append(r.notes, s)
	r.mu.Unlock()
}

// Add appends an exchange; its Seq is set here.
func (r *Recorder) Add(e Exchange) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Seq = len(r.ex) + 1
	r.ex = append(r.ex, e)
}

// Exchanges returns the exchanges recorded so far, masked.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.masker()
	out := make([]Exchange, len(r.ex))
	for i, e := range r.ex {
		out[i] = m.exchange(e)
	}
	return out
}

type masker struct{ secrets []string }

func (r *Recorder) masker() masker {
	var s []string
	for k := range r.secrets {
		s = append(s, k)
	}
	// longest first, so a value containing another is masked whole
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) || len(s[i]) == len(s[j]) && s[i] < s[j] })
	return masker{s}
}

func (m masker) str(v string) string {
	for _, s := range m.secrets {
		if strings.Contains(v, s) {
			v = strings.ReplaceAll(v, s, Masked)
		}
	}
	return v
}

func (m masker) header(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		lk := strings.ToLower(k)
		for _, v := range vs {
			switch lk {
			case "cookie", "set-cookie", "authorization":
				v = maskCookie(v)
			default:
				v = m.str(v)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// maskCookie keeps a cookie's name and attributes and masks its value.
func maskCookie(v string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		if i > 0 && !strings.Contains(v, "=") {
			break
		}
		name, _, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			continue
		}
		if i == 0 || !slices.Contains([]string{"path", "domain", "expires", "max-age", "samesite"}, strings.ToLower(name)) {
			parts[i] = name + "=" + Masked
			if i > 0 {
				parts[i] = " " + parts[i]
			}
		}
	}
	return strings.Join(parts, ";")
}

func (m masker) exchange(e Exchange) Exchange {
	if e.Request != nil {
		q := *e.Request
		q.URL, q.Body, q.Header = m.str(q.URL), m.str(q.Body), m.header(q.Header)
		e.Request = &q
	}
	if e.Response != nil {
		p := *e.Response
		p.Body, p.Header, p.FinalURL, p.Error = m.str(p.Body), m.header(p.Header), m.str(p.FinalURL), m.str(p.Error)
		e.Response = &p
	}
	if e.Datagram != nil {
		d := *e.Datagram
		e.Datagram = &d
	}
	if len(e.SNMP) > 0 {
		vs := make([]Value, len(e.SNMP))
		for i, v := range e.SNMP {
			vs[i] = Value{OID: v.OID, Value: m.str(v.Value)}
		}
		e.SNMP = vs
	}
	e.Note = m.str(e.Note)
	return e
}

// MaskPairs renders form pairs url-encoded, replacing the values of keys
// that secret reports with Masked (an empty value stays empty).
func MaskPairs(pairs [][2]string, secret func(key string) bool) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		v := p[1]
		if v != "" && secret(p[0]) {
			v = Masked
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(v))
	}
	return b.String()
}

// Write writes the transcript folder dir (created; it must not exist or
// be empty): manifest.json and NNN-kind.json per exchange.
func (r *Recorder) Write(dir string, man Manifest) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write transcript: %w", err)
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("write transcript: %s is not empty: choose a new folder", dir)
	}
	ex := r.Exchanges()
	r.mu.Lock()
	man.Notes = append(man.Notes, r.notes...)
	r.mu.Unlock()
	man.Format = Format
	man.Exchanges = nil
	for _, e := range ex {
		name := fmt.Sprintf("%03d-%s.json", e.Seq, e.Kind)
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			return fmt.Errorf("write transcript: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write transcript: %w", err)
		}
		man.Exchanges = append(man.Exchanges, name)
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fmt.Errorf("write transcript: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write transcript: %w", err)
	}
	return nil
}

// maxFile bounds one transcript file when it is read back.
const maxFile = 8 << 20

// Read loads a transcript folder.
func Read(dir string) (Manifest, []Exchange, error) {
	var man Manifest
	b, err := readBounded(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return man, nil, err
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return man, nil, fmt.Errorf("read transcript: manifest.json: %w", err)
	}
	if man.Format != Format {
		return man, nil, fmt.Errorf("read transcript: format %q, this tool reads %q", man.Format, Format)
	}
	var out []Exchange
	for _, name := range man.Exchanges {
		if filepath.Base(name) != name {
			return man, nil, fmt.Errorf("read transcript: bad file name %q in the manifest", name)
		}
		b, err := readBounded(filepath.Join(dir, name))
		if err != nil {
			return man, nil, err
		}
		var e Exchange
		if err := json.Unmarshal(b, &e); err != nil {
			return man, nil, fmt.Errorf("read transcript: %s: %w", name, err)
		}
		out = append(out, e)
	}
	return man, out, nil
}

func readBounded(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read transcript: %w", err)
	}
	if fi.Size() > maxFile {
		return nil, fmt.Errorf("read transcript: %s is over %d bytes", path, maxFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read transcript: %w", err)
	}
	return b, nil
}
