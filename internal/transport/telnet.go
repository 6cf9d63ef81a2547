package transport

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"
)

// Telnet protocol bytes (RFC 854).
const (
	iac  = 255
	dont = 254
	do   = 253
	wont = 252
	will = 251
	sb   = 250
	se   = 240
)

// Telnet is a telnet client connection that refuses every option the
// server proposes (it answers DO with WONT and WILL with DONT) and hands
// back only the data bytes.
type Telnet struct {
	conn    net.Conn
	timeout time.Duration
	buf     []byte // data received and not yet returned
	state   int    // IAC parser state
	cmd     byte
	out     bytes.Buffer
}

// IAC parser states.
const (
	stData = iota
	stIAC
	stOpt
	stSB
	stSBIAC
)

// DialTelnet connects with a timeout (DefaultTimeout when zero); the same
// timeout bounds every later read and write that has no earlier context
// deadline.
func DialTelnet(ctx context.Context, hostport string, timeout time.Duration) (*Telnet, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c, err := Dial(ctx, "tcp", hostport, timeout)
	if err != nil {
		return nil, err
	}
	return &Telnet{conn: c, timeout: timeout}, nil
}

// NewTelnet wraps an open connection.
func NewTelnet(c net.Conn, timeout time.Duration) *Telnet {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Telnet{conn: c, timeout: timeout}
}

// Close closes the connection.
func (t *Telnet) Close() error { return t.conn.Close() }

// Write sends s, escaping IAC bytes.
func (t *Telnet) Write(ctx context.Context, s string) error {
	t.conn.SetWriteDeadline(t.deadline(ctx))
	_, err := t.conn.Write(bytes.ReplaceAll([]byte(s), []byte{iac}, []byte{iac, iac}))
	if err != nil {
		return fmt.Errorf("telnet write: %w", err)
	}
	return nil
}

func (t *Telnet) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(t.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

// ReadUntil reads data until it contains one of patterns (or, with no
// patterns, until the deadline or EOF), at most max bytes (4096 when 0).
// It returns everything read, including the pattern. Text is returned
// raw: the caller cleans it with printable.String before showing it.
func (t *Telnet) ReadUntil(ctx context.Context, max int, patterns ...string) (string, error) {
	if max <= 0 {
		max = 4096
	}
	stop := context.AfterFunc(ctx, func() { t.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	t.conn.SetReadDeadline(t.deadline(ctx))
	chunk := make([]byte, 1024)
	for {
		for _, p := range patterns {
			if i := bytes.Index(t.buf, []byte(p)); i >= 0 {
				out := string(t.buf[:i+len(p)])
				t.buf = t.buf[i+len(p):]
				return out, nil
			}
		}
		if len(t.buf) > max {
			out := string(t.buf[:max])
			t.buf = nil
			return out, fmt.Errorf("telnet: no prompt within %d bytes: %w", max, ErrTooLarge)
		}
		n, err := t.conn.Read(chunk)
		t.feed(chunk[:n])
		if err != nil {
			out := string(t.buf)
			t.buf = nil
			if len(patterns) == 0 {
				return out, nil
			}
			if ctx.Err() != nil {
				return out, fmt.Errorf("telnet: %w", ctx.Err())
			}
			if isTimeout(err) {
				return out, &UnreachableError{HostPort: t.conn.RemoteAddr().String(), Kind: Silent, Timeout: t.timeout, Err: err}
			}
			return out, fmt.Errorf("telnet read: %w", err)
		}
	}
}

// feed runs the IAC state machine over p, appending data to t.buf and
// sending refusals for option requests.
func (t *Telnet) feed(p []byte) {
	t.out.Reset()
	for _, b := range p {
		switch t.state {
		case stData:
			if b == iac {
				t.state = stIAC
			} else {
				t.buf = append(t.buf, b)
			}
		case stIAC:
			switch b {
			case iac:
				t.buf = append(t.buf, iac)
				t.state = stData
			case do, dont, will, wont:
				t.cmd, t.state = b, stOpt
			case sb:
				t.state = stSB
			default: // NOP, GA, and friends carry no option
				t.state = stData
			}
		case stOpt:
			switch t.cmd {
			case do:
				t.out.Write([]byte{iac, wont, b})
			case will:
				t.out.Write([]byte{iac, dont, b})
			}
			t.state = stData
		case stSB:
			if b == iac {
				t.state = stSBIAC
			}
		case stSBIAC:
			if b == se {
				t.state = stData
			} else {
				t.state = stSB
			}
		}
	}
	if t.out.Len() > 0 {
		t.conn.SetWriteDeadline(time.Now().Add(t.timeout))
		_, _ = t.conn.Write(t.out.Bytes()) // a failed refusal shows up on the next read
	}
}
