package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transport"
)

// DefaultTimeout bounds one probe when the caller passes no timeout.
const DefaultTimeout = 2 * time.Second

// MaxParallel is how many probes of one host run at the same time.
const MaxParallel = 32

// MaxUDPReply bounds the bytes read from one UDP reply.
const MaxUDPReply = 64 << 10

// An open TCP connection is watched for the server closing it at once (an
// allow-list refusal). A server that refuses sends its FIN right after
// the handshake, about one round trip after the connect returns, so the
// watch lasts peerCloseRTTs times the measured connect time (one round
// trip plus the local scheduling delay), at least minPeerCloseGrace and at
// most peerCloseGrace, and never more than a quarter of the probe
// timeout. When the watch ends, the socket is read once more: a FIN the
// kernel already holds is seen even if a busy scheduler let the deadline
// fire first.
const (
	peerCloseRTTs     = 4
	minPeerCloseGrace = 4 * time.Millisecond
	peerCloseGrace    = 25 * time.Millisecond
)

// closeGrace is how long to watch a connection that took rtt to open.
func closeGrace(rtt, timeout time.Duration) time.Duration {
	g := max(min(peerCloseRTTs*rtt, peerCloseGrace), minPeerCloseGrace)
	return min(g, timeout/4)
}

// DetailClosedByPeer is the Detail of an open TCP port whose server closed
// the connection at once, as a device does for a client its allow list
// refuses.
const DetailClosedByPeer = "closed by peer at once"

// Run probes every target on host in parallel (at most MaxParallel at a
// time), each bounded by timeout and by ctx, and returns one Result per
// target in the order of targets. A non-positive timeout means
// DefaultTimeout. The host is resolved once; if it is invalid or does not
// resolve, every result is Failed with a Detail saying why.
func Run(ctx context.Context, host string, targets []Target, timeout time.Duration) []Result {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	results := make([]Result, len(targets))
	if len(targets) == 0 {
		return results
	}
	ip, err := resolve(ctx, host, timeout)
	if err != nil {
		for i, t := range targets {
			results[i] = Result{Name: t.Name, Network: t.Network, Port: t.Port, State: Failed, Detail: printable.String(err.Error())}
		}
		return results
	}
	// A pool of at most MaxParallel workers takes the targets in order:
	// no goroutine waits for a free slot.
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range min(len(targets), MaxParallel) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(targets) {
					return
				}
				t := targets[i]
				if err := ctx.Err(); err != nil {
					results[i] = Result{Name: t.Name, Network: t.Network, Port: t.Port, State: Failed,
						Detail: "probe canceled: " + err.Error()}
					continue
				}
				results[i] = probeOne(ctx, ip, t, timeout)
			}
		})
	}
	wg.Wait()
	return results
}

// resolve turns host into one IP address (an IPv4 one when there is a
// choice), bounded by timeout.
func resolve(ctx context.Context, host string, timeout time.Duration) (string, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(host), "["), "]")
	if h == "" {
		return "", errors.New("invalid host: empty")
	}
	if err := transport.CheckDestination("ip", h); err != nil {
		return "", err
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), nil
	}
	if strings.ContainsAny(h, " /:@?#%") || len(h) > 253 || printable.String(h) != h {
		return "", fmt.Errorf("invalid host %q", printable.String(h))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, h)
	if err != nil {
		return "", fmt.Errorf("invalid host %q: %w", printable.String(h), err)
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return a.IP.String(), nil
		}
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("invalid host %q: no address", printable.String(h))
	}
	return addrs[0].IP.String(), nil
}

// probeOne probes one target on ip.
func probeOne(parent context.Context, ip string, t Target, timeout time.Duration) (r Result) {
	r = Result{Name: t.Name, Network: t.Network, Port: t.Port}
	start := time.Now()
	defer func() { r.Elapsed = time.Since(start) }()
	if t.Port < 1 || t.Port > 65535 {
		r.State, r.Detail = Failed, fmt.Sprintf("port %d out of range", t.Port)
		return r
	}
	deadline := start.Add(timeout)
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(t.Port))
	switch t.Network {
	case "tcp":
		ctx, cancel := context.WithDeadline(parent, deadline)
		defer cancel()
		r.State, r.Detail = probeTCP(ctx, parent, addr, timeout)
	case "udp":
		if len(t.Request) == 0 {
			r.State, r.Detail = Failed, "udp probe needs a request"
			return r
		}
		r.State, r.Detail = probeUDP(parent, addr, t, timeout, deadline)
	default:
		r.State, r.Detail = Failed, fmt.Sprintf("unknown network %q", printable.String(t.Network))
	}
	return r
}

// probeTCP connects to addr. ctx carries the probe's timeout, parent the
// caller's context.
func probeTCP(ctx, parent context.Context, addr string, timeout time.Duration) (PortState, string) {
	start := time.Now()
	conn, err := transport.Dialer(0).DialContext(ctx, "tcp", addr)
	if err != nil {
		return classify(parent, err, timeout)
	}
	defer conn.Close()
	if closedAtOnce(conn, closeGrace(time.Since(start), timeout)) {
		return Open, DetailClosedByPeer
	}
	return Open, ""
}

// closedAtOnce watches a fresh connection for grace and reports whether
// the server closed or reset it without sending anything.
func closedAtOnce(conn net.Conn, grace time.Duration) bool {
	if err := conn.SetReadDeadline(time.Now().Add(grace)); err != nil {
		return false
	}
	var buf [512]byte
	n, err := conn.Read(buf[:])
	if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		if conn.SetReadDeadline(time.Now().Add(lastLook)) == nil {
			n, err = conn.Read(buf[:])
		}
	}
	return n == 0 && (errors.Is(err, io.EOF) || isRefused(err))
}

// lastLook bounds the second read of a watched connection: long enough
// for the read to reach the socket before its deadline, short enough to
// add nothing a technician notices.
const lastLook = time.Millisecond

// udpBufs holds the MaxUDPReply-byte read buffers of UDP probes.
var udpBufs = sync.Pool{New: func() any { b := make([]byte, MaxUDPReply); return &b }}

// probeUDP sends t.Request to addr on a connected socket and waits until
// deadline for a reply t.Accept recognises. The request is sent again
// once, half way through the timeout, in case one datagram was lost.
func probeUDP(parent context.Context, addr string, t Target, timeout time.Duration, deadline time.Time) (PortState, string) {
	conn, err := transport.Dialer(0).DialContext(parent, "udp", addr)
	if err != nil {
		return classify(parent, err, timeout)
	}
	defer conn.Close()
	// The read deadline enforces the probe's own timeout, with no context
	// timer; only the caller's cancellation needs a watcher (none for a
	// context that cannot be canceled).
	stop := context.AfterFunc(parent, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(t.Request); err != nil {
		return classify(parent, err, timeout)
	}
	resendAt := time.Now().Add(timeout / 2)
	if resendAt.After(deadline) {
		resendAt = deadline
	}
	resent := false
	unrecognised := 0
	bp := udpBufs.Get().(*[]byte)
	defer udpBufs.Put(bp)
	buf := *bp
	for {
		rd := deadline
		if !resent {
			rd = resendAt
		}
		if err := conn.SetReadDeadline(rd); err != nil {
			return Failed, fmt.Sprintf("udp: %v", err)
		}
		if parent.Err() != nil { // AfterFunc may have fired before the deadline was set
			return classify(parent, parent.Err(), timeout)
		}
		n, err := conn.Read(buf)
		if err != nil {
			if !resent && isTimeout(err) && parent.Err() == nil && time.Now().Before(deadline) {
				resent = true
				if _, err := conn.Write(t.Request); err != nil {
					return classify(parent, err, timeout)
				}
				continue
			}
			state, detail := classify(parent, err, timeout)
			if state == Filtered && unrecognised > 0 {
				detail += fmt.Sprintf("; %d unrecognised replies", unrecognised)
			}
			return state, detail
		}
		if t.Accept == nil || t.Accept(buf[:n]) {
			return Open, ""
		}
		unrecognised++
	}
}

// classify turns a dial, read or write error into a port state.
func classify(parent context.Context, err error, timeout time.Duration) (PortState, string) {
	switch {
	case isRefused(err):
		return Closed, "refused"
	case parent.Err() != nil:
		return Failed, "probe canceled: " + parent.Err().Error()
	case isTimeout(err):
		return Filtered, "no answer within " + timeout.String()
	case isUnreachable(err):
		return Filtered, "unreachable"
	default:
		return Failed, err.Error()
	}
}

// isTimeout reports whether err is a deadline or timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Summary is a short human text of results in their order, e.g.
// "http 80/tcp open, telnet 23/tcp closed". A Failed result carries its
// Detail in parentheses, as does an open port closed by its peer at once.
func Summary(results []Result) string {
	parts := make([]string, 0, len(results))
	for _, r := range results {
		s := fmt.Sprintf("%d/%s %s", r.Port, r.Network, r.State)
		if name := printable.String(r.Name); name != "" {
			s = name + " " + s
		}
		if r.Detail != "" && (r.State == Failed || r.Detail == DetailClosedByPeer) {
			s += " (" + printable.String(r.Detail) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
