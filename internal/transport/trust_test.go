package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// trustChanged is the wizard's contract for a changed identity.
type trustChanged interface {
	error
	TrustChanged() (subject, pinned, seen string)
}

var _ trustChanged = (*FingerprintChangedError)(nil)

func tlsGet(t *testing.T, store *PinStore, srv *httptest.Server) error {
	t.Helper()
	hp := strings.TrimPrefix(srv.URL, "https://")
	c := NewHTTPClient(HTTPOptions{Timeout: 2 * time.Second, TLS: PinnedTLS(store, hp)})
	defer c.Close()
	_, err := c.Get(context.Background(), srv.URL)
	return err
}

// TestExpectedFingerprintAlwaysCompared: a fingerprint the technician
// gives is compared with the certificate whether or not a pin exists.
func TestExpectedFingerprintAlwaysCompared(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	hp := strings.TrimPrefix(srv.URL, "https://")
	host, _, _ := net.SplitHostPort(hp)
	real := Fingerprint(srv.Certificate().Raw)
	wrong := "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

	// No pin, wrong expectation: stop, not "unknown".
	store, err := OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Expect(host, wrong); err != nil {
		t.Fatal(err)
	}
	err = tlsGet(t, store, srv)
	var changed *FingerprintChangedError
	if !errors.As(err, &changed) || !changed.Given || changed.Seen != real {
		t.Fatalf("no pin, wrong --fingerprint: %v", err)
	}
	var tc trustChanged
	if !errors.As(err, &tc) {
		t.Fatalf("%T does not satisfy the TrustChanged contract", err)
	}
	if subj, pinned, seen := tc.TrustChanged(); subj != hp || pinned != wrong || seen != real {
		t.Errorf("TrustChanged() = %q %q %q", subj, pinned, seen)
	}
	if !strings.Contains(err.Error(), "impostor") {
		t.Errorf("message does not name the risk: %v", err)
	}

	// A correct pin, wrong expectation: still stop.
	if err := store.Trust(hp, real); err != nil {
		t.Fatal(err)
	}
	if err := tlsGet(t, store, srv); !errors.As(err, &changed) || !changed.Given {
		t.Fatalf("pin + wrong --fingerprint: %v, want a stop", err)
	}

	// The right expectation (in hex form) with the pin: connects.
	if err := store.Expect(host, FingerprintHex(real)); err != nil {
		t.Fatal(err)
	}
	if err := tlsGet(t, store, srv); err != nil {
		t.Fatalf("pin + right --fingerprint: %v", err)
	}

	// Right expectation, no pin: connects at the first attempt and pins
	// the certificate, which NewPins reports once, with its details.
	store2, _ := OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err := store2.Expect("", real); err != nil {
		t.Fatal(err)
	}
	if err := tlsGet(t, store2, srv); err != nil {
		t.Fatalf("no pin, right --fingerprint: %v, want connected", err)
	}
	if got, ok := store2.Lookup(hp); !ok || got != real {
		t.Errorf("after a match with no pin: pin %q %v, want %q", got, ok, real)
	}
	added := store2.NewPins()
	if len(added) != 1 || added[0].HostPort != hp || added[0].Fingerprint != real {
		t.Fatalf("NewPins = %+v, want the one pin of %s", added, hp)
	}
	if again := store2.NewPins(); len(again) != 0 {
		t.Errorf("NewPins a second time = %+v, want none", again)
	}
	if reread, err := OpenPins(store2.Path()); err != nil {
		t.Fatal(err)
	} else if got, ok := reread.Lookup(hp); !ok || got != real {
		t.Errorf("the pin file does not hold the new pin: %q %v", got, ok)
	}
	checkDetails := func(ci CertInfo, lines string) {
		t.Helper()
		if ci.Fingerprint != real || ci.SHA256Hex != FingerprintHex(real) || ci.NotAfter.IsZero() || ci.SigAlg == "" || ci.KeyBits == 0 {
			t.Errorf("certificate details missing: %+v", ci)
		}
		for _, want := range []string{ci.SHA256Hex, real, ci.NotAfter.Format("2006-01-02"), ci.SigAlg, ci.Key()} {
			if !strings.Contains(lines, want) {
				t.Errorf("trust lines lack %q:\n%s", want, lines)
			}
		}
	}
	checkDetails(added[0].Cert, strings.Join(added[0].Cert.Lines(), "\n"))

	// A wrong expectation for that port alone, no pin: stops, pins nothing.
	store4, _ := OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err := store4.Expect(hp, wrong); err != nil {
		t.Fatal(err)
	}
	if err := tlsGet(t, store4, srv); !errors.As(err, &changed) {
		t.Fatalf("no pin, wrong --fingerprint for the port: %v, want a stop", err)
	}
	if _, ok := store4.Lookup(hp); ok || len(store4.NewPins()) != 0 {
		t.Error("a wrong expectation left a pin")
	}

	// No expectation, no pin: unknown, with the certificate's details.
	store3, _ := OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	err = tlsGet(t, store3, srv)
	var unk *UnknownFingerprintError
	if !errors.As(err, &unk) {
		t.Fatalf("no pin, no --fingerprint: %v, want unknown", err)
	}
	checkDetails(unk.Cert, strings.Join(unk.CertificateLines(), "\n"))

	if err := store.Expect(host, "not-a-fingerprint"); err == nil {
		t.Error("a malformed expected fingerprint was accepted")
	}
}

// TestLoopbackOnlyRefusesBeforeSending: with the loopback-only check
// installed, a broadcast, a LAN address and a host name are refused by
// every way transport sends, before any lookup or packet.
func TestLoopbackOnlyRefusesBeforeSending(t *testing.T) {
	restore := SetDestinationCheck(LoopbackOnly)
	defer restore()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, dst := range []string{"255.255.255.255:4800", "192.168.127.254:443", "device.example:80", "[2001:db8::1]:22"} {
		if _, err := Dial(ctx, "tcp", dst, time.Second); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Dial %s: %v, want ErrNotLoopback", dst, err)
		}
		if _, err := Exchange(ctx, dst, []byte{1}, 16); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Exchange %s: %v, want ErrNotLoopback", dst, err)
		}
		if _, err := Gather(ctx, "", []string{dst}, []byte{1}, 16, 1); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Gather %s: %v, want ErrNotLoopback", dst, err)
		}
	}
	// Loopback stays allowed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := Dial(ctx, "tcp", l.Addr().String(), time.Second)
	if err != nil {
		t.Fatalf("loopback dial refused: %v", err)
	}
	c.Close()
	for _, ok := range []string{"127.0.0.1", "127.9.9.9:1", "[::1]:80", "::1"} {
		if err := LoopbackOnly("tcp", ok); err != nil {
			t.Errorf("LoopbackOnly(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"localhost:80", "0.0.0.0:1", "10.0.0.1", ""} {
		if err := LoopbackOnly("tcp", bad); err == nil {
			t.Errorf("LoopbackOnly(%q) accepted", bad)
		}
	}
}

// TestPinOfAnotherProcessIsCompared: a device pinned by another
// commission process after this one opened the pin file is compared with
// that pin, never offered again as a first sight: the right certificate
// connects, another one stops the session.
func TestPinOfAnotherProcessIsCompared(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	hp := strings.TrimPrefix(srv.URL, "https://")
	path := filepath.Join(t.TempDir(), "known_devices")
	mine, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Trust(hp, Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	if err := tlsGet(t, mine, srv); err != nil {
		t.Fatalf("the other process's pin was not found: %v", err)
	}

	imp := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	imp.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	imp.StartTLS()
	defer imp.Close()
	impHP := strings.TrimPrefix(imp.URL, "https://")
	mine2, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	// another process pins a certificate for the impostor's address that
	// the impostor does not show
	if err := other.Trust(impHP, Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	err = tlsGet(t, mine2, imp)
	var changed *FingerprintChangedError
	if !errors.As(err, &changed) || changed.Given {
		t.Fatalf("a certificate other than the other process's pin: %v, want a stop as changed", err)
	}
}
