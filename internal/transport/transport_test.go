package transport

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPinsTOFU(t *testing.T) {
	srv1 := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "one") }))
	defer srv1.Close()
	srv2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "two") }))
	srv2.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	srv2.StartTLS()
	defer srv2.Close()
	if Fingerprint(srv2.Certificate().Raw) == Fingerprint(srv1.Certificate().Raw) {
		t.Fatal("test servers share a certificate")
	}
	path := filepath.Join(t.TempDir(), "sub", "known_devices")
	store, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	hp := strings.TrimPrefix(srv1.URL, "https://")
	get := func(u, hp string) error {
		c := NewHTTPClient(HTTPOptions{Timeout: 2 * time.Second, TLS: PinnedTLS(store, hp)})
		defer c.Close()
		_, err := c.Get(context.Background(), u)
		return err
	}
	// first use: unknown, detectable through the method alone
	err = get(srv1.URL, hp)
	var tofu interface{ UnknownFingerprint() (string, string) }
	if !errors.As(err, &tofu) {
		t.Fatalf("first use: got %v, want an UnknownFingerprint error", err)
	}
	gotHP, fp := tofu.UnknownFingerprint()
	if gotHP != hp || fp != Fingerprint(srv1.Certificate().Raw) {
		t.Fatalf("unknown fingerprint = %s %s", gotHP, fp)
	}
	if err := store.Trust(hp, fp); err != nil {
		t.Fatal(err)
	}
	if err := get(srv1.URL, hp); err != nil {
		t.Fatalf("after trust: %v", err)
	}
	// reopened from disk, the pin holds
	store2, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := store2.Lookup(hp); !ok || got != fp {
		t.Fatalf("reopened lookup = %q %v", got, ok)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), hp+" sha256:") {
		t.Fatalf("file format: %q", raw)
	}
	// a different certificate behind a pinned name: changed
	hp2 := strings.TrimPrefix(srv2.URL, "https://")
	if err := store.Trust(hp2, fp); err != nil {
		t.Fatal(err)
	}
	err = get(srv2.URL, hp2)
	var changed *FingerprintChangedError
	if !errors.As(err, &changed) || changed.Seen != Fingerprint(srv2.Certificate().Raw) {
		t.Fatalf("changed cert: got %v", err)
	}
	if !strings.Contains(err.Error(), "STOP") || !strings.Contains(err.Error(), "impersonat") {
		t.Fatalf("message does not warn: %v", err)
	}
	if h := FingerprintHex(fp); len(h) != 95 || strings.Count(h, ":") != 31 {
		t.Fatalf("hex form %q", h)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "impostor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestOpenPinsRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_devices")
	os.WriteFile(path, []byte("10.0.0.1:443 sha256:zz\n"), 0o600)
	if _, err := OpenPins(path); err == nil {
		t.Fatal("malformed pin accepted")
	}
}

func TestHTTPLimitsRedirectsTranscript(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("x"), 2000)) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/x", http.StatusFound) })
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		io.WriteString(w, r.PostForm.Get("Username"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var tr bytes.Buffer
	c := NewHTTPClient(HTTPOptions{Timeout: 2 * time.Second, MaxBody: 1000, Transcript: &tr})
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Get(ctx, srv.URL+"/big"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big body: %v", err)
	}
	if _, err := c.Get(ctx, srv.URL+"/away"); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("cross-host redirect: %v", err)
	}
	resp, err := c.PostForm(ctx, srv.URL+"/form", url.Values{"Username": {"admin"}, "MD5Password": {"abcdef"}, "Community": {"public"}})
	if err != nil || string(resp.Body) != "admin" {
		t.Fatalf("post: %v %q", err, resp.Body)
	}
	if !resp.Local.IsLoopback() {
		t.Fatalf("local address %v", resp.Local)
	}
	got := tr.String()
	if strings.Contains(got, "abcdef") || strings.Contains(got, "public") {
		t.Fatalf("transcript leaks a secret: %s", got)
	}
	if !strings.Contains(got, "POST /form -> 200 form: Community=%2A%2A%2A&MD5Password=%2A%2A%2A&Username=admin") {
		t.Fatalf("transcript: %s", got)
	}
}

func TestHTTPSilentAndRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // accept and never answer
		}
	}()
	c := NewHTTPClient(HTTPOptions{Timeout: 200 * time.Millisecond})
	defer c.Close()
	start := time.Now()
	_, err = c.Get(context.Background(), "http://"+ln.Addr().String()+"/")
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Kind != Silent {
		t.Fatalf("silent server: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %s, want about the timeout", el)
	}
	ln.Close()
	<-done
	for _, c := range conns {
		c.Close()
	}
	// the port is now closed: refused
	_, err = c.Get(context.Background(), "http://"+ln.Addr().String()+"/")
	if !errors.As(err, &ue) || ue.Kind != Refused || !strings.Contains(err.Error(), "refused the connection: the service is off") {
		t.Fatalf("closed port: %v", err)
	}
}

func TestClassifyTimeoutMessage(t *testing.T) {
	err := Classify("192.0.2.1:80", 3*time.Second, context.DeadlineExceeded)
	want := "no answer from 192.0.2.1:80 within 3s: check the address, the cable and that your laptop is on the device's subnet"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
}

func TestTelnetIAC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	answers := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte{iac, do, 1, iac, will, 3, iac, sb, 24, 1, iac, se})
		c.Write([]byte("Model name : X\r\n\xff\xff"))
		c.Write([]byte("Please keyin your username:"))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 6)
		n, _ := io.ReadFull(c, buf)
		answers <- buf[:n]
	}()
	tn, err := DialTelnet(context.Background(), ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	got, err := tn.ReadUntil(context.Background(), 0, "username:")
	if err != nil {
		t.Fatal(err)
	}
	if got != "Model name : X\r\n\xffPlease keyin your username:" {
		t.Fatalf("data %q", got)
	}
	if a := <-answers; !bytes.Equal(a, []byte{iac, wont, 1, iac, dont, 3}) {
		t.Fatalf("negotiation answers % x", a)
	}
}

func TestTelnetLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(bytes.Repeat([]byte("a"), 5000))
		time.Sleep(300 * time.Millisecond)
	}()
	tn, err := DialTelnet(context.Background(), ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	if _, err := tn.ReadUntil(context.Background(), 100, "never"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestUDPExchange(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			switch string(buf[:n]) {
			case "ping":
				pc.WriteTo([]byte("pong"), from)
			case "big":
				pc.WriteTo(bytes.Repeat([]byte("b"), 50), from)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	addr := pc.LocalAddr().String()
	if got, err := Exchange(ctx, addr, []byte("ping"), 16); err != nil || string(got) != "pong" {
		t.Fatalf("exchange: %q %v", got, err)
	}
	if _, err := Exchange(ctx, addr, []byte("big"), 16); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big: %v", err)
	}
	var ue *UnreachableError
	if _, err := Exchange(ctx, addr, []byte("silence"), 16); !errors.As(err, &ue) || ue.Kind != NoAnswer {
		t.Fatalf("silence: %v", err)
	}
	replies, err := Gather(context.Background(), "", []string{addr}, []byte("ping"), 16, 1)
	if err != nil || len(replies) != 1 || string(replies[0].Data) != "pong" || replies[0].From.String() != addr {
		t.Fatalf("gather: %v %v", replies, err)
	}
	// a closed port answers with ICMP port unreachable
	closed, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	caddr := closed.LocalAddr().String()
	closed.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if _, err := Exchange(ctx2, caddr, []byte("ping"), 16); !errors.Is(err, ErrPortUnreachable) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestFingerprintForms(t *testing.T) {
	fp := Fingerprint([]byte("certificate"))
	h := FingerprintHex(fp)
	if back := FingerprintFromHex(h); back != fp {
		t.Fatalf("round trip %q -> %q -> %q", fp, h, back)
	}
	if !SameFingerprint(fp, strings.ToLower(h)) || SameFingerprint(fp, Fingerprint([]byte("other"))) || SameFingerprint("x", "x") {
		t.Fatal("SameFingerprint")
	}
}
