package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPClientBoundsItsConnections: many requests at once to one
// device share at most four connections. A small embedded console is
// not asked for more, and each connection it is spared is a TLS
// handshake neither side makes.
func TestHTTPClientBoundsItsConnections(t *testing.T) {
	var conns, open, peak atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
			if n := open.Add(1); n > peak.Load() {
				peak.Store(n)
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := NewHTTPClient(HTTPOptions{Timeout: 5 * time.Second})
	defer c.Close()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), srv.URL+"/"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n > 4 || n < 1 {
		t.Errorf("16 concurrent requests opened %d connections, want 1 to 4", n)
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("%d connections were open at once, want at most 4", p)
	}
}

// TestHTTPClientResumesOnlyWhenAsked: with Resume, a client's later
// connections resume the first one's TLS session, and the pin check
// still runs on them (a pin changed in between refuses the resumed
// connection); Close forgets the sessions, so the connection after it
// makes a full handshake and sees the certificate the server has now.
// Without Resume every connection makes a full handshake.
func TestHTTPClientResumesOnlyWhenAsked(t *testing.T) {
	srv, full, resumed := countingTLSServer(t)
	hp := strings.TrimPrefix(srv.URL, "https://")
	for _, resume := range []bool{false, true} {
		full.Store(0)
		resumed.Store(0)
		store := pinnedTo(t, srv)
		c := NewHTTPClient(HTTPOptions{Timeout: 5 * time.Second, TLS: PinnedTLS(store, hp), Resume: resume})
		for i := range 3 {
			if _, err := c.Get(context.Background(), srv.URL+"/"); err != nil {
				t.Fatalf("resume %v, request %d: %v", resume, i, err)
			}
			c.tr.CloseIdleConnections() // the next request needs a new connection
		}
		if resume && (full.Load() != 1 || resumed.Load() != 2) {
			t.Errorf("with Resume: %d full handshakes and %d resumed, want 1 and 2", full.Load(), resumed.Load())
		}
		if !resume && (full.Load() != 3 || resumed.Load() != 0) {
			t.Errorf("without Resume: %d full handshakes and %d resumed, want 3 and 0", full.Load(), resumed.Load())
		}
		if !resume {
			continue
		}
		if err := store.Trust(hp, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err != nil {
			t.Fatal(err)
		}
		_, err := c.Get(context.Background(), srv.URL+"/")
		var changed *FingerprintChangedError
		if !errors.As(err, &changed) {
			t.Errorf("a resumed connection under a changed pin: %v, want a FingerprintChangedError", err)
		}
		if resumed.Load() != 2 {
			t.Errorf("the refused connection reached the handler")
		}
		c.Close()
		if _, err := c.Get(context.Background(), srv.URL+"/"); !errors.As(err, &changed) {
			t.Errorf("after Close, under the changed pin: %v, want a FingerprintChangedError", err)
		}
		if err := store.Trust(hp, Fingerprint(srv.Certificate().Raw)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		full.Store(0)
		if _, err := c.Get(context.Background(), srv.URL+"/"); err != nil || full.Load() != 1 {
			t.Errorf("after Close: %v, %d full handshakes, want one (Close forgets the sessions)", err, full.Load())
		}
		c.Close()
	}
}

// TestRESTClientResumesAndCloseForgets: the REST client's Resume works
// as the HTTP client's: later connections resume, and after Close (what
// a driver calls once it has imported a certificate) the next
// connection makes a full handshake.
func TestRESTClientResumesAndCloseForgets(t *testing.T) {
	srv, full, resumed := countingTLSServer(t)
	hp := strings.TrimPrefix(srv.URL, "https://")
	c, err := NewRESTClient(RESTOptions{BaseURL: srv.URL, TLS: PinnedTLS(pinnedTo(t, srv), hp), Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	get := func() {
		t.Helper()
		if _, err := c.Get(context.Background(), "/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	get()
	c.tr.CloseIdleConnections()
	get()
	if full.Load() != 1 || resumed.Load() != 1 {
		t.Errorf("%d full handshakes and %d resumed, want 1 and 1", full.Load(), resumed.Load())
	}
	c.Close()
	get()
	if full.Load() != 2 || resumed.Load() != 1 {
		t.Errorf("after Close: %d full handshakes and %d resumed, want 2 and 1", full.Load(), resumed.Load())
	}
}

// TestTLSSeenAnswers: what a verified connection settles, and what not.
func TestTLSSeenAnswers(t *testing.T) {
	leaf := &x509.Certificate{Raw: []byte{1}}
	s := &TLSSeen{Min: tls.VersionTLS12, Max: tls.VersionTLS13, Version: tls.VersionTLS12, Leaf: leaf}
	for _, tc := range []struct {
		v            uint16
		accepted, ok bool
	}{
		{tls.VersionTLS13, false, true}, // offered, newer than chosen: refused
		{tls.VersionTLS12, true, true},  // chosen
		{tls.VersionTLS11, false, false},
		{tls.VersionTLS10, false, false},
	} {
		if a, ok := s.Answers(tc.v); a != tc.accepted || ok != tc.ok {
			t.Errorf("Answers(%#x) = %v %v, want %v %v", tc.v, a, ok, tc.accepted, tc.ok)
		}
	}
	top := &TLSSeen{Min: tls.VersionTLS12, Max: tls.VersionTLS12, Version: tls.VersionTLS12, Leaf: leaf}
	if _, ok := top.Answers(tls.VersionTLS13); ok {
		t.Error("a connection that did not offer TLS 1.3 settled it")
	}
	var none *TLSSeen
	if _, ok := none.Answers(tls.VersionTLS12); ok {
		t.Error("a nil TLSSeen settled a version")
	}
}

// TestHTTPClientTLSSeen: after its first verified request the client
// tells what the connection showed: the versions PinnedTLS offers, the
// one chosen and the server's certificate; nothing before.
func TestHTTPClientTLSSeen(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	hp := strings.TrimPrefix(srv.URL, "https://")
	store, err := OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Trust(hp, Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	c := NewHTTPClient(HTTPOptions{Timeout: 5 * time.Second, TLS: PinnedTLS(store, hp), Resume: true})
	defer c.Close()
	if _, ok := c.TLSSeen(); ok {
		t.Fatal("TLSSeen before any connection")
	}
	if _, err := c.Get(context.Background(), srv.URL+"/"); err != nil {
		t.Fatal(err)
	}
	s, ok := c.TLSSeen()
	if !ok || s.Version != tls.VersionTLS12 || s.Min != tls.VersionTLS12 || s.Max != tls.VersionTLS13 || s.Leaf == nil || !s.Leaf.Equal(srv.Certificate()) {
		t.Errorf("TLSSeen = %+v %v, want TLS 1.2 chosen of 1.2-1.3 with the server's certificate", s, ok)
	}
	// A connection the pin refuses is not seen.
	c2 := NewHTTPClient(HTTPOptions{Timeout: 5 * time.Second, TLS: PinnedTLS(nil, hp)})
	defer c2.Close()
	if _, err := c2.Get(context.Background(), srv.URL+"/"); err == nil {
		t.Fatal("an unpinned certificate was accepted")
	}
	if _, ok := c2.TLSSeen(); ok {
		t.Error("a refused connection was taken as seen")
	}
}

// TestPinsTrustedAtOnceAllReachTheFile: many devices pinned at the same
// time (an inventory's first run) share writes of the pin file, and
// every pin reaches it; a pin whose write fails is not kept in memory.
func TestPinsTrustedAtOnceAllReachTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_devices")
	store, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	fp := func(i int) string {
		sum := make([]byte, 32)
		sum[0], sum[1] = byte(i), byte(i>>8)
		return FingerprintHex("SHA256:" + base64.RawStdEncoding.EncodeToString(sum))
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if err := store.Trust(net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+i)), fp(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	again, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		hp := net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+i))
		got, ok := again.Lookup(hp)
		if want, _ := store.Lookup(hp); !ok || got != want {
			t.Errorf("%s: the file holds %q %v, the store %q", hp, got, ok, want)
		}
	}
	// A write that fails: the pin is not kept.
	bad, err := OpenPins(filepath.Join(t.TempDir(), "file", "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Dir(bad.Path()), []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bad.Trust("127.0.0.1:1", fp(1)); err == nil {
		t.Fatal("a pin file that cannot be written was accepted")
	}
	if _, ok := bad.Lookup("127.0.0.1:1"); ok {
		t.Error("a pin whose write failed is kept")
	}
}

// countingTLSServer is an HTTPS test server answering "{}" that counts
// the requests that came over a full handshake and over a resumed one.
func countingTLSServer(t *testing.T) (srv *httptest.Server, full, resumed *atomic.Int32) {
	t.Helper()
	full, resumed = new(atomic.Int32), new(atomic.Int32)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.DidResume {
			resumed.Add(1)
		} else {
			full.Add(1)
		}
		io.WriteString(w, "{}")
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, full, resumed
}

// pinnedTo is a fresh pin store that trusts srv's certificate.
func pinnedTo(t *testing.T, srv *httptest.Server) *PinStore {
	t.Helper()
	store, err := OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Trust(strings.TrimPrefix(srv.URL, "https://"), Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	return store
}
