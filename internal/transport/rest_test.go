package transport

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
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/secret"
)

// restEcho answers every request with what it received, as JSON.
func restEcho(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		switch r.URL.Path {
		case "/status/404":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			w.Write([]byte(`{"code":404,"message":"no such \u0007thing","token":"leak-me-not"}`))
			return
		case "/login-reply":
			w.Header().Set("Set-Cookie", "session=Cookie-Val-42")
			w.Write([]byte(`{"data":{"token":"T0ken-xyz-987","user":"admin"},"list":[{"password":"Nested-Pw-1"}]}`))
			return
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 2048))
			return
		case "/bom":
			w.Write([]byte("\xef\xbb\xbf{\"a\":1}"))
			return
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		case "/drop":
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		case "/slow":
			<-r.Context().Done()
			return
		}
		user, pw, _ := r.BasicAuth()
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"auth": r.Header.Get("Authorization"), "user": user, "pw": pw, "ctype": r.Header.Get("Content-Type"),
			"accept": r.Header.Get("Accept"), "body": string(b)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRESTMethodsBodiesAuthAndTranscript(t *testing.T) {
	srv := restEcho(t)
	var tr syncBuf
	var seen []RESTExchange
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL + "/api", Auth: BasicAuth("admin", "Sekr3t-Passw0rd!"), Timeout: 2 * time.Second,
		Header: http.Header{"Accept": {"application/json"}}, Transcript: &tr, Observe: func(e RESTExchange) { seen = append(seen, e) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	echo := func(r *RESTResponse, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := r.DecodeJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := echo(c.Get(ctx, "/users/Default%20User", url.Values{"filter": {"a b"}, "password": {"q-secret"}}))
	if m["method"] != "GET" || m["path"] != "/api/users/Default%20User" || m["user"] != "admin" || m["pw"] != "Sekr3t-Passw0rd!" || m["accept"] != "application/json" {
		t.Errorf("GET: %v", m)
	}
	m = echo(c.Put(ctx, "/x", map[string]any{"name": "n", "libadminsettings.USERMANAGER_USER_PASSWORD": "Pw-In-Body-123!"}))
	if m["method"] != "PUT" || m["ctype"] != "application/json" || !strings.Contains(m["body"].(string), "Pw-In-Body-123!") {
		t.Errorf("PUT: %v", m)
	}
	for _, f := range []func() (*RESTResponse, error){
		func() (*RESTResponse, error) { return c.Post(ctx, "/x", []any{1}) },
		func() (*RESTResponse, error) { return c.Patch(ctx, "/x", map[string]any{"a": 1}) },
		func() (*RESTResponse, error) { return c.Delete(ctx, "/x") },
	} {
		echo(f())
	}
	c.SetAuth(BearerAuth("tok-123456"))
	m = echo(c.Get(ctx, "/y", nil))
	if m["auth"] != "Bearer tok-123456" {
		t.Errorf("bearer: %v", m)
	}
	m = echo(c.Do(ctx, RESTRequest{Method: "POST", Path: "/login", NoAuth: true, JSON: map[string]any{"password": "Login-Pw-99!"}}))
	if m["auth"] != "" {
		t.Errorf("NoAuth sent %v", m["auth"])
	}
	m = echo(c.Do(ctx, RESTRequest{Method: "POST", Path: "/upload", Parts: []Part{
		{Field: "name", Data: []byte("fw")}, {Field: "passphrase", Data: []byte("Part-Secret-77")},
		{Field: "file", FileName: "fw.rom", Data: []byte("ROMDATA")}}}))
	if !strings.HasPrefix(m["ctype"].(string), "multipart/form-data; boundary=") || !strings.Contains(m["body"].(string), "ROMDATA") ||
		!strings.Contains(m["body"].(string), `filename="fw.rom"`) {
		t.Errorf("multipart: %v", m)
	}
	// the transcript and the observed requests hold no secret (the echo
	// server's replies repeat them under keys no masking can know)
	text := tr.String()
	for _, e := range seen {
		text += e.URL + e.RequestBody
	}
	for _, secret := range []string{"Sekr3t-Passw0rd!", "q-secret", "Pw-In-Body-123!", "tok-123456", "Login-Pw-99!", "Part-Secret-77", "ROMDATA"} {
		if strings.Contains(text, secret) {
			t.Errorf("secret %q in the transcript", secret)
		}
	}
	for _, want := range []string{"GET /users/Default%20User?filter=a+b&password=%2A%2A%2A -> 200 (basic admin)",
		`PUT /x -> 200 (basic admin) json: {"libadminsettings.USERMANAGER_USER_PASSWORD":"***","name":"n"}`,
		"GET /y -> 200 (bearer)", "POST /login -> 200 (none)", "file=file fw.rom (7 bytes)", "passphrase=***", "name=fw"} {
		if !strings.Contains(tr.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr.String())
		}
	}
	if len(seen) != 8 || seen[1].RequestBody == "" || !strings.Contains(seen[0].ReplyBody, `"pw":"***"`) {
		t.Errorf("observed %+v", seen)
	}
}

func TestRESTRepliesMasked(t *testing.T) {
	srv := restEcho(t)
	var seen []RESTExchange
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL, Observe: func(e RESTExchange) { seen = append(seen, e) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get(context.Background(), "/login-reply", nil); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(seen)
	for _, secret := range []string{"T0ken-xyz-987", "Nested-Pw-1", "Cookie-Val-42"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("secret %q observed: %s", secret, b)
		}
	}
	if !bytes.Contains(b, []byte(`\"user\":\"admin\"`)) {
		t.Errorf("non-secret field lost: %s", b)
	}
}

func TestRESTErrorsAreTyped(t *testing.T) {
	srv := restEcho(t)
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL, Timeout: 300 * time.Millisecond, MaxBody: 1024, MaxRequest: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	r, err := c.Get(ctx, "/status/404", nil)
	var se *HTTPStatusError
	if !errors.As(err, &se) || se.Status != 404 || se.Method != "GET" || se.Path != "/status/404" || r == nil || r.Status != 404 {
		t.Fatalf("404: %v", err)
	}
	if strings.Contains(se.Body, "leak-me-not") || strings.Contains(se.Body, "\a") || !strings.Contains(err.Error(), "GET /status/404: the server answered 404 Not Found") {
		t.Errorf("excerpt %q / %v", se.Body, err)
	}
	if !bytes.Contains(se.Raw, []byte("no such")) {
		t.Errorf("raw %q", se.Raw)
	}
	if _, err := c.Do(ctx, RESTRequest{Method: "GET", Path: "/status/404", Accept: []int{404}}); err != nil {
		t.Errorf("accepted 404: %v", err)
	}
	if _, err := c.Get(ctx, "/redirect", nil); !errors.As(err, &se) || se.Status != 302 {
		t.Errorf("redirect followed or unclassified: %v", err)
	}
	if _, err := c.Get(ctx, "/big", nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big reply: %v", err)
	}
	if _, err := c.Put(ctx, "/x", strings.Repeat("y", 100)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big request: %v", err)
	}
	r, err = c.Get(ctx, "/bom", nil)
	if err != nil || string(r.Body) != `{"a":1}` {
		t.Errorf("BOM: %q %v", r.Body, err)
	}
	var de *DroppedError
	if _, err := c.Post(ctx, "/drop", map[string]any{}); !errors.As(err, &de) || de.Method != "POST" {
		t.Errorf("dropped: %v", err)
	}
	var ue *UnreachableError
	if _, err := c.Get(ctx, "/slow", nil); !errors.As(err, &ue) || ue.Kind != Silent {
		t.Errorf("slow: %v", err)
	}
	if _, err := c.Do(ctx, RESTRequest{Method: "PUT", Path: "/x", JSON: 1, Body: []byte("2")}); err == nil {
		t.Error("two bodies accepted")
	}
	// a closed port is a refusal
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c2, _ := NewRESTClient(RESTOptions{BaseURL: "http://" + addr, Network: "tcp4", Timeout: time.Second})
	if _, err := c2.Get(ctx, "/", nil); !errors.As(err, &ue) || ue.Kind != Refused {
		t.Errorf("refused: %v", err)
	}
}

func TestRESTOptionsChecked(t *testing.T) {
	for _, u := range []string{"", "ftp://h", "http://", "127.0.0.1:80", "http://h/?q=1"} {
		if _, err := NewRESTClient(RESTOptions{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := NewRESTClient(RESTOptions{BaseURL: "https://127.0.0.1:1"}); err == nil {
		t.Error("https without TLS accepted")
	}
}

func TestRESTPinnedTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	defer srv.Close()
	pins, err := OpenPins(filepath.Join(t.TempDir(), "known"))
	if err != nil {
		t.Fatal(err)
	}
	hp := strings.TrimPrefix(srv.URL, "https://")
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL, TLS: PinnedTLS(pins, hp), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var unknown *UnknownFingerprintError
	if _, err := c.Get(context.Background(), "/", nil); !errors.As(err, &unknown) {
		t.Fatalf("unpinned: %v", err)
	}
	if err := pins.Trust(hp, Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.Get(context.Background(), "/", nil); err != nil {
		t.Fatalf("pinned: %v", err)
	}
}

func BenchmarkRESTGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`[{"common.ALLTYPES_NAME":"a","libadminsettings.USERMANAGER_USER_PASSWORD":"x"}]`))
	}))
	defer srv.Close()
	c, _ := NewRESTClient(RESTOptions{BaseURL: srv.URL, Auth: BasicAuth("u", "p"), Transcript: io.Discard})
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "/x", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRESTSecretIsTheSharedList: the REST client's secret test is the
// one list of internal/secret, and that list holds every word the REST
// client used to add on its own (token, cookie, session, authorization,
// CSRF), so masking is unchanged.
func TestRESTSecretIsTheSharedList(t *testing.T) {
	for _, k := range []string{"token", "X-Auth-Token", "Set-Cookie", "Cookie", "sessionId", "X-Session", "Authorization",
		"Proxy-Authorization", "csrf", "X-CSRF-Token", "password", "newPassword", "client_secret"} {
		if !RESTSecret(k) {
			t.Errorf("RESTSecret(%q) = false, want a secret", k)
		}
	}
	for _, k := range []string{"name", "user", "userName", "Content-Type", "Date", "data", "count", "id", "enable", "roles",
		"Location", "certFileName", "message", "SIMULATED"} {
		if RESTSecret(k) != secret.Name(k) {
			t.Errorf("RESTSecret(%q) = %v, the shared list says %v", k, RESTSecret(k), secret.Name(k))
		}
		if RESTSecret(k) {
			t.Errorf("RESTSecret(%q) = true, want public", k)
		}
	}
}

// reverseServer answers /0 .. /n-1 only once all n requests have arrived,
// and then in reverse order: /n-1 first, /0 last. It counts the
// connections its clients opened.
type reverseServer struct {
	*httptest.Server
	n       int
	arrived chan struct{}
	turn    []chan struct{}
	conns   atomic.Int32
}

func newReverseServer(t *testing.T, n int) *reverseServer {
	t.Helper()
	rs := &reverseServer{n: n, arrived: make(chan struct{}, n)}
	for range n {
		rs.turn = append(rs.turn, make(chan struct{}))
	}
	var once sync.Once
	rs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i < 0 || i >= n {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		rs.arrived <- struct{}{}
		once.Do(func() {
			go func() {
				for range n {
					select {
					case <-rs.arrived:
					case <-time.After(5 * time.Second):
						return // not all in flight at once: the handlers time out
					}
				}
				close(rs.turn[n-1])
			}()
		})
		select {
		case <-rs.turn[i]:
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		fmt.Fprintf(w, `{"i":%d}`, i)
		w.(http.Flusher).Flush()
		if i > 0 {
			close(rs.turn[i-1])
		}
	}))
	rs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rs.conns.Add(1)
		}
	}
	rs.Start()
	t.Cleanup(rs.Close)
	return rs
}

// TestRunOrderedRecordsInRequestOrder: requests all in flight at once,
// answered last to first, are recorded first to last, in the transcript
// and in Observe.
func TestRunOrderedRecordsInRequestOrder(t *testing.T) {
	const n = 6
	rs := newReverseServer(t, n)
	var tr strings.Builder
	var seen []string
	c, err := NewRESTClient(RESTOptions{BaseURL: rs.URL, Transcript: &tr, MaxConns: n,
		Observe: func(e RESTExchange) { seen = append(seen, e.URL) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var tasks []func(context.Context) error
	for i := range n {
		tasks = append(tasks, func(ctx context.Context) error {
			_, err := c.Get(ctx, "/"+strconv.Itoa(i), nil)
			return err
		})
	}
	if err := RunOrdered(context.Background(), n, tasks...); err != nil {
		t.Fatal(err)
	}
	var want, wantSeen []string
	for i := range n {
		want = append(want, fmt.Sprintf("GET /%d -> 200 (none)", i))
		wantSeen = append(wantSeen, "/"+strconv.Itoa(i))
	}
	if got := strings.TrimSpace(tr.String()); got != strings.Join(want, "\n") {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if strings.Join(seen, " ") != strings.Join(wantSeen, " ") {
		t.Errorf("observed %v, want %v", seen, wantSeen)
	}
	if got := rs.conns.Load(); got > n {
		t.Errorf("%d connections for %d requests in parallel, limit %d", got, n, n)
	}
}

// TestRunOrderedBoundedAndReused: at most limit requests are in flight,
// and three rounds open at most limit connections, one TLS handshake
// each: the connections are kept and reused.
func TestRunOrderedBoundedAndReused(t *testing.T) {
	const limit, n = 3, 12
	var inFlight, peak atomic.Int32
	var conns atomic.Int32
	// requests are answered limit at a time, each once limit are in
	// flight: every round needs limit connections
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	arrived := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		mu.Lock()
		arrived++
		full := (arrived + limit - 1) / limit * limit
		cond.Broadcast()
		stop := time.AfterFunc(5*time.Second, func() { mu.Lock(); arrived = 1 << 30; cond.Broadcast(); mu.Unlock() })
		for arrived < full {
			cond.Wait()
		}
		stop.Stop()
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig
	var handshakes atomic.Int32
	tlsConf = tlsConf.Clone()
	tlsConf.VerifyConnection = func(tls.ConnectionState) error { handshakes.Add(1); return nil }
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL, TLS: tlsConf, MaxConns: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	round := func() {
		var tasks []func(context.Context) error
		for i := range n {
			tasks = append(tasks, func(ctx context.Context) error {
				_, err := c.Get(ctx, "/"+strconv.Itoa(i), nil)
				return err
			})
		}
		if err := RunOrdered(context.Background(), limit, tasks...); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		round()
	}
	c.Close() // no dial is left half done: every handshake is counted
	if p := peak.Load(); p > limit {
		t.Errorf("%d requests in flight at once, limit %d", p, limit)
	}
	if got := conns.Load(); got > limit || got < 1 {
		t.Errorf("%d requests in three rounds opened %d connections, want 1 to %d (kept alive)", 3*n, got, limit)
	}
	if h := handshakes.Load(); h > limit {
		t.Errorf("%d TLS handshakes, want at most %d", h, limit)
	}
}

// TestRunOrderedFirstErrorInOrder: every task runs; the error is the
// first in the order given, not the first to happen.
func TestRunOrderedFirstErrorInOrder(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int32
	errA, errB := errors.New("a"), errors.New("b")
	err := RunOrdered(context.Background(), 4,
		func(context.Context) error { ran.Add(1); return nil },
		func(context.Context) error { <-release; ran.Add(1); return errA },
		func(context.Context) error { defer close(release); ran.Add(1); return errB },
		func(context.Context) error { ran.Add(1); return nil },
	)
	if !errors.Is(err, errA) {
		t.Errorf("err %v, want %v", err, errA)
	}
	if ran.Load() != 4 {
		t.Errorf("%d tasks ran, want 4", ran.Load())
	}
}

// TestRunOrderedNested: a RunOrdered inside a task records into that
// task's place.
func TestRunOrderedNested(t *testing.T) {
	srv := restEcho(t)
	var tr strings.Builder
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL, Transcript: &tr, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	get := func(p string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.Get(ctx, p, nil); return err }
	}
	gate := make(chan struct{})
	err = RunOrdered(context.Background(), 4,
		func(ctx context.Context) error {
			<-gate // the outer /c is answered before the inner ones are sent
			return RunOrdered(ctx, 2, get("/a1"), get("/a2"))
		},
		func(ctx context.Context) error { defer close(gate); return get("/c")(ctx) },
	)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range strings.Split(strings.TrimSpace(tr.String()), "\n") {
		paths = append(paths, strings.Fields(l)[1])
	}
	if strings.Join(paths, " ") != "/a1 /a2 /c" {
		t.Errorf("recorded %v, want /a1 /a2 /c:\n%s", paths, tr.String())
	}
}
