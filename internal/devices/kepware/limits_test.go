package kepware_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/transport"
)

// fakeServer is a Configuration API that h answers.
func fakeServer(t *testing.T, timeout time.Duration, h http.HandlerFunc) *kepware.Device {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Trust(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), transport.Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	return kepware.New(kepware.Options{Options: access.Options{Host: "127.0.0.1", Password: "fake-password", Pins: ps,
		Ports: map[string]int{kepware.SvcConfigHTTPS: port}, Timeout: timeout}})
}

// TestReplyOverLimitRefused: a reply over the driver's limit (4 MiB) is
// refused, not read whole.
func TestReplyOverLimitRefused(t *testing.T) {
	big := append([]byte(`{"product_name":"`), bytes.Repeat([]byte("x"), 5<<20)...)
	d := fakeServer(t, 5*time.Second, func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	defer d.Close(context.Background())
	if err := d.Open(context.Background()); !errors.Is(err, transport.ErrTooLarge) {
		t.Fatalf("a 5 MiB reply: %v, want ErrTooLarge", err)
	}
}

// TestCloseBounded: Close returns at once while a request hangs; the
// hung Read then ends within the driver's timeout.
func TestCloseBounded(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	var answered atomic.Bool
	d := fakeServer(t, 1500*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		if answered.CompareAndSwap(false, true) { // the login
			w.Write([]byte(`{"product_id":"012","product_name":"KEPServerEX","product_version_major":6}`))
			return
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	if err := d.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := d.Read(context.Background()); done <- err }()
	<-arrived
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := d.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	if el := time.Since(start); el >= 500*time.Millisecond {
		t.Errorf("Close took %v with a request hung", el)
	}
	if err := <-done; err == nil {
		t.Error("the hung Read succeeded")
	}
}
