package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// udpDeadline is the context's deadline, or DefaultTimeout from now.
func udpDeadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(DefaultTimeout)
}

// Exchange sends req to addr ("host:port") over a connected UDP socket
// and returns the first reply, at most maxReply bytes (longer replies are
// an error). The context's deadline (DefaultTimeout without one) bounds
// the wait. An ICMP port unreachable returns ErrPortUnreachable; no reply
// returns an *UnreachableError of kind NoAnswer.
func Exchange(ctx context.Context, addr string, req []byte, maxReply int) ([]byte, error) {
	deadline := udpDeadline(ctx)
	wait := time.Until(deadline).Round(time.Millisecond)
	if err := CheckDestination("udp", addr); err != nil {
		return nil, err
	}
	c, err := Dialer(0).DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp %s: %w", addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.SetDeadline(deadline)
	if _, err := c.Write(req); err != nil {
		return nil, udpError(ctx, addr, wait, err)
	}
	buf := make([]byte, maxReply+1)
	n, err := c.Read(buf)
	if err != nil {
		return nil, udpError(ctx, addr, wait, err)
	}
	if n > maxReply {
		return nil, fmt.Errorf("udp %s: reply over %d bytes: %w", addr, maxReply, ErrTooLarge)
	}
	return buf[:n], nil
}

func udpError(ctx context.Context, addr string, wait time.Duration, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("udp %s: %w", addr, ErrPortUnreachable)
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("udp %s: %w", addr, ctx.Err())
	case isTimeout(err) || ctx.Err() != nil:
		return &UnreachableError{HostPort: addr, Kind: NoAnswer, Timeout: wait, Err: err}
	}
	return fmt.Errorf("udp %s: %w", addr, err)
}

// Reply is one datagram received by Gather.
type Reply struct {
	From netip.AddrPort
	Data []byte
}

// Gather sends req to each of targets ("host:port", broadcast addresses
// included) from one unconnected socket bound to the local IPv4 address
// from ("" binds any: the system picks the interface) and collects every
// reply, each at most maxReply bytes (longer ones are dropped), until the
// context's deadline (DefaultTimeout without one) or maxReplies replies.
// Binding from makes the request leave by the interface the technician
// chose, with that interface's address as its source.
func Gather(ctx context.Context, from string, targets []string, req []byte, maxReply, maxReplies int) ([]Reply, error) {
	deadline := udpDeadline(ctx)
	laddr := ":0"
	if from != "" {
		a, err := netip.ParseAddr(from)
		if err != nil || !a.Unmap().Is4() {
			return nil, fmt.Errorf("send from %q: not an IPv4 address of this laptop", from)
		}
		laddr = netip.AddrPortFrom(a.Unmap(), 0).String()
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp4", laddr)
	if err != nil {
		return nil, fmt.Errorf("open udp socket on %s: %w", laddr, err)
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	pc.SetDeadline(deadline)
	sent := 0
	var lastErr error
	for _, t := range targets {
		if err := CheckDestination("udp", t); err != nil {
			lastErr = err
			continue
		}
		ua, err := net.ResolveUDPAddr("udp4", t)
		if err != nil {
			lastErr = fmt.Errorf("udp %s: %w", t, err)
			continue
		}
		if err := CheckDestination("udp", ua.String()); err != nil {
			lastErr = err
			continue
		}
		if _, err := pc.WriteTo(req, ua); err != nil {
			lastErr = fmt.Errorf("udp %s: %w", t, err)
			continue
		}
		sent++
	}
	if sent == 0 {
		if lastErr == nil {
			lastErr = errors.New("no target to send to")
		}
		return nil, lastErr
	}
	var out []Reply
	buf := make([]byte, maxReply+1)
	for maxReplies <= 0 || len(out) < maxReplies {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if isTimeout(err) || ctx.Err() != nil || errors.Is(err, syscall.ECONNREFUSED) {
				break
			}
			return out, fmt.Errorf("udp read: %w", err)
		}
		if n > maxReply {
			continue
		}
		ap, err := netip.ParseAddrPort(from.String())
		if err != nil {
			continue
		}
		out = append(out, Reply{From: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), Data: append([]byte(nil), buf[:n]...)})
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return out, fmt.Errorf("udp: %w", err)
	}
	return out, nil
}
