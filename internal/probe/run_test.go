package probe

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunStates(t *testing.T) {
	openTCP := tcpOpen(t, false)
	peerClose := tcpOpen(t, true)
	closedTCP := tcpClosed(t)
	udpOpen := udpServer(t, echoAck)
	udpSilent := udpServer(t, nil)
	closedUDP := udpClosed(t)
	udpWrong := udpServer(t, func([]byte) []byte { return []byte("NOPE") })
	accept := func(b []byte) bool { return bytes.HasPrefix(b, []byte("ACK ")) }

	targets := []Target{
		{Name: "http", Network: "tcp", Port: openTCP},
		{Name: "allow-listed", Network: "tcp", Port: peerClose},
		{Name: "telnet", Network: "tcp", Port: closedTCP},
		{Name: "moxa-udp", Network: "udp", Port: udpOpen, Request: []byte("hello"), Accept: accept},
		{Name: "any-reply", Network: "udp", Port: udpOpen, Request: []byte("hello")},
		{Name: "silent", Network: "udp", Port: udpSilent, Request: []byte("hello"), Accept: accept},
		{Name: "closed-udp", Network: "udp", Port: closedUDP, Request: []byte("hello")},
		{Name: "wrong-reply", Network: "udp", Port: udpWrong, Request: []byte("hello"), Accept: accept},
		{Name: "no-request", Network: "udp", Port: udpOpen},
		{Name: "bad-port", Network: "tcp", Port: 70000},
		{Name: "bad-net", Network: "sctp", Port: openTCP},
	}
	want := []PortState{Open, Open, Closed, Open, Open, Filtered, Closed, Filtered, Failed, Failed, Failed}

	const timeout = 150 * time.Millisecond
	start := time.Now()
	got := Run(context.Background(), "127.0.0.1", targets, timeout)
	took := time.Since(start)

	if len(got) != len(targets) {
		t.Fatalf("got %d results for %d targets", len(got), len(targets))
	}
	for i, r := range got {
		if r.Name != targets[i].Name || r.Port != targets[i].Port || r.Network != targets[i].Network {
			t.Errorf("result %d is %s %d/%s, want target %s %d/%s (order lost)", i, r.Name, r.Port, r.Network,
				targets[i].Name, targets[i].Port, targets[i].Network)
		}
		if r.State != want[i] {
			t.Errorf("%s %d/%s: state %s (%s), want %s", r.Name, r.Port, r.Network, r.State, r.Detail, want[i])
		}
		if r.State != Failed && r.Elapsed <= 0 {
			t.Errorf("%s: elapsed %v not recorded", r.Name, r.Elapsed)
		}
	}
	if got[0].Detail != "" {
		t.Errorf("open port held by server has detail %q", got[0].Detail)
	}
	if got[1].Detail != DetailClosedByPeer {
		t.Errorf("port closed by server at once: detail %q, want %q", got[1].Detail, DetailClosedByPeer)
	}
	if !strings.Contains(got[7].Detail, "unrecognised") {
		t.Errorf("wrong reply: detail %q does not mention the unrecognised reply", got[7].Detail)
	}
	if got[5].Elapsed < timeout {
		t.Errorf("silent udp gave up after %v, before the %v timeout", got[5].Elapsed, timeout)
	}
	// Probes run in parallel: two filtered ports cost one timeout, not two.
	if took > 2*timeout+500*time.Millisecond {
		t.Errorf("run took %v; probes do not seem to run in parallel", took)
	}
}

func TestRunInvalidHost(t *testing.T) {
	targets := []Target{{Name: "http", Network: "tcp", Port: 80}, {Name: "x", Network: "udp", Port: 4800, Request: []byte{1}}}
	for _, host := range []string{"", "bad host", "host/../x", "\x1b[31mevil"} {
		got := Run(context.Background(), host, targets, 100*time.Millisecond)
		for _, r := range got {
			if r.State != Failed || r.Detail == "" {
				t.Errorf("host %q: %s state %s detail %q, want error with detail", host, r.Name, r.State, r.Detail)
			}
			if strings.ContainsRune(r.Detail, 0x1b) {
				t.Errorf("host %q: detail carries an escape: %q", host, r.Detail)
			}
		}
	}
}

func TestRunCanceled(t *testing.T) {
	silent := udpServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	got := Run(ctx, "127.0.0.1", []Target{{Name: "silent", Network: "udp", Port: silent, Request: []byte("x")}}, 5*time.Second)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("canceled run took %v", took)
	}
	if got[0].State != Failed || !strings.Contains(got[0].Detail, "cancel") {
		t.Errorf("canceled probe: %s %q, want error mentioning cancel", got[0].State, got[0].Detail)
	}
}

func TestRunManyTargetsBounded(t *testing.T) {
	// More targets than MaxParallel still all get an answer, in order.
	open := tcpOpen(t, false)
	closed := tcpClosed(t)
	var targets []Target
	for i := range 3 * MaxParallel {
		p := open
		if i%2 == 1 {
			p = closed
		}
		targets = append(targets, Target{Name: "t", Network: "tcp", Port: p})
	}
	got := Run(context.Background(), "127.0.0.1", targets, time.Second)
	for i, r := range got {
		want := Open
		if i%2 == 1 {
			want = Closed
		}
		if r.State != want {
			t.Fatalf("target %d: %s (%s), want %s", i, r.State, r.Detail, want)
		}
	}
}

func TestSummary(t *testing.T) {
	got := Summary([]Result{
		{Name: "http", Network: "tcp", Port: 80, State: Open},
		{Name: "telnet", Network: "tcp", Port: 23, State: Closed, Detail: "refused"},
		{Name: "", Network: "udp", Port: 4800, State: Filtered, Detail: "no answer within 1s"},
		{Name: "https", Network: "tcp", Port: 443, State: Open, Detail: DetailClosedByPeer},
		{Name: "x\x1b[2J", Network: "tcp", Port: 1, State: Failed, Detail: "bad"},
	})
	want := "http 80/tcp open, telnet 23/tcp closed, 4800/udp filtered, " +
		"https 443/tcp open (closed by peer at once), x[2J 1/tcp error (bad)"
	if got != want {
		t.Errorf("Summary:\n got %q\nwant %q", got, want)
	}
	if Summary(nil) != "" {
		t.Errorf("Summary(nil) = %q, want empty", Summary(nil))
	}
}

func TestCloseGraceFollowsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		rtt, timeout, want time.Duration
	}{
		{50 * time.Microsecond, time.Second, minPeerCloseGrace},             // loopback: the floor
		{2 * time.Millisecond, time.Second, 8 * time.Millisecond},           // LAN: a few round trips
		{20 * time.Millisecond, time.Second, peerCloseGrace},                // slow link: the cap
		{2 * time.Millisecond, 20 * time.Millisecond, 5 * time.Millisecond}, // a quarter of a short timeout
	} {
		if got := closeGrace(tc.rtt, tc.timeout); got != tc.want {
			t.Errorf("closeGrace(%v, %v) = %v, want %v", tc.rtt, tc.timeout, got, tc.want)
		}
	}
}

// TestRunPoolBounded checks that Run keeps at most MaxParallel probe
// goroutines alive: each datagram the server sees is sent by a probe that
// is running, and the goroutines alive then are counted.
func TestRunPoolBounded(t *testing.T) {
	var mu sync.Mutex
	peak := 0
	port := udpServer(t, func([]byte) []byte {
		n := runtime.NumGoroutine()
		mu.Lock()
		peak = max(peak, n)
		mu.Unlock()
		return []byte("NOPE")
	})
	base := runtime.NumGoroutine()
	var targets []Target
	for range 3 * MaxParallel {
		targets = append(targets, Target{Name: "u", Network: "udp", Port: port, Request: []byte("x"),
			Accept: func([]byte) bool { return false }})
	}
	for i, r := range Run(context.Background(), "127.0.0.1", targets, 60*time.Millisecond) {
		if r.State != Filtered {
			t.Fatalf("target %d: %s (%s), want filtered", i, r.State, r.Detail)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// A few spare: the runtime's own and a context timer's goroutine.
	if limit := base + MaxParallel + 4; peak > limit {
		t.Errorf("%d goroutines alive while probing (%d before Run), want at most %d", peak, base, limit)
	}
	t.Logf("peak %d goroutines, %d before Run", peak, base)
}

// TestClosedAtOnceLooksOnceMore: a FIN the kernel already holds when the
// watch's deadline has passed (a busy scheduler let the timer win) is
// still seen: the socket is read once more before the port is called
// plainly open.
func TestClosedAtOnceLooksOnceMore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		close(closed)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	<-closed
	if !closedAtOnce(conn, 0) { // the deadline has passed before the first read
		t.Error("a connection its server had already closed was not seen as closed")
	}
}
