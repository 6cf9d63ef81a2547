package thingspro_test

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
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/transport"
)

// fakeGateway serves a login and hands every other request to h.
func fakeGateway(t *testing.T, timeout time.Duration, h http.HandlerFunc) *thingspro.Driver {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/auth" {
			w.Write([]byte(`{"data":{"token":"fake-token","user":{"id":1,"name":"admin"}}}`))
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Trust(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), transport.Fingerprint(srv.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	closed := closedPort(t)
	return thingspro.New(thingspro.Options{Options: access.Options{Host: "127.0.0.1", User: "admin", Password: "fake-password", Pins: ps,
		Ports: map[string]int{"https": port, "http": closed, "ssh": closed, "discovery": closed}, Timeout: timeout}})
}

// TestReplyOverLimitRefused: a reply over the driver's limit (2 MiB) is
// refused, not read whole.
func TestReplyOverLimitRefused(t *testing.T) {
	big := append([]byte(`{"data":{"hostName":"`), bytes.Repeat([]byte("x"), 3<<20)...)
	d := fakeGateway(t, 5*time.Second, func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	defer d.Close(context.Background())
	_, err := d.Read(context.Background())
	if !errors.Is(err, transport.ErrTooLarge) {
		t.Fatalf("a 3 MiB reply: %v, want ErrTooLarge", err)
	}
}

// TestCloseBounded: Close returns at once while a request hangs; the
// hung Read then ends within the driver's timeout.
func TestCloseBounded(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	d := fakeGateway(t, 1500*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
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
