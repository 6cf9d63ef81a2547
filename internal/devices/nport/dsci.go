package nport

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

// recordDatagram adds a UDP 4800 exchange to the transcript. The secret
// part of a 0x28 or 0x29 reply (communities, password) is zeroed.
func recordDatagram(ctx context.Context, rec *transcript.Recorder, req, reply []byte, err error) {
	if rec == nil {
		return
	}
	dg := &transcript.Datagram{Service: "moxa-udp", Request: hex.EncodeToString(req)}
	note := ""
	if err != nil {
		dg.Error = err.Error()
	} else {
		r := append([]byte(nil), reply...)
		if len(r) > 20 && (r[0] == fnSNMP|0x80 || r[0] == 0x29|0x80 || r[0] == 0x2C|0x80) {
			for i := 20; i < len(r); i++ {
				r[i] = 0
			}
			note = "the reply's payload after the device ID is zeroed: it may hold communities or a password"
		}
		dg.Reply = hex.EncodeToString(r)
	}
	addExchange(ctx, rec, transcript.Exchange{Kind: "udp", Datagram: dg, Note: note})
}

// UDP 4800 ("Moxa command", DSCI) function codes (nport.md 6.4).
const (
	fnDiscover = 0x01
	fnName     = 0x10
	fnDetails  = 0x16
	fnSNMP     = 0x28
)

// maxDSCIReply bounds a UDP 4800 reply.
const maxDSCIReply = 1024

// discoverRequest is the 8-byte discovery request.
var discoverRequest = []byte{fnDiscover, 0, 0, 8, 0, 0, 0, 0}

// dsciRequest builds a request for fn addressed to the 12-byte device ID.
func dsciRequest(fn byte, id []byte) []byte {
	req := make([]byte, 8, 8+len(id))
	req[0] = fn
	binary.BigEndian.PutUint16(req[2:], uint16(8+len(id)))
	return append(req, id...)
}

// checkReply validates a reply's header for fn.
func checkReply(fn byte, b []byte) error {
	if len(b) < 8 || b[0] != fn|0x80 {
		return fmt.Errorf("udp 4800: not a reply to function 0x%02x", fn)
	}
	if b[1] != 0 {
		return fmt.Errorf("udp 4800: function 0x%02x refused with status 0x%02x", fn, b[1])
	}
	// some firmware pads replies: a length field up to the datagram's is accepted
	if n := int(binary.BigEndian.Uint16(b[2:4])); n > len(b) || n < 8 {
		return fmt.Errorf("udp 4800: reply length field %d, got %d bytes", binary.BigEndian.Uint16(b[2:4]), len(b))
	}
	return nil
}

// Found is a device that answered discovery.
type Found struct {
	Address string // where the reply came from
	Model   string // from the hardware ID, e.g. "NPort 5110A" or "HWID 0x515A"
	HWID    uint16
	MAC     string
	IP      string // the address the device reports
	id      []byte
}

// parseDiscovery decodes a 24-byte discovery reply.
func parseDiscovery(b []byte) (Found, error) {
	if err := checkReply(fnDiscover, b); err != nil {
		return Found{}, err
	}
	if len(b) < 24 {
		return Found{}, fmt.Errorf("udp 4800: discovery reply of %d bytes, want at least 24", len(b))
	}
	f := Found{id: append([]byte(nil), b[8:20]...)}
	f.HWID = binary.LittleEndian.Uint16(b[12:14])
	f.Model = hwidModel(f.HWID)
	f.MAC = net.HardwareAddr(b[14:20]).String()
	f.IP = netip.AddrFrom4([4]byte(b[20:24])).String()
	return f, nil
}

// hwids maps hardware IDs to models (nport.md 6.5).
var hwids = map[uint16]string{
	0x0504: "NPort 5410", 0x0534: "NPort 5430", 0x1534: "NPort 5430I",
	0x0312: "NPort 5230", 0x0322: "NPort 5210", 0x0332: "NPort 5232", 0x1332: "NPort 5232I",
	0x5618: "NPort 5610-8", 0x5613: "NPort 5610-16", 0x5638: "NPort 5630-8", 0x5633: "NPort 5630-16",
	0x5700: "NPort 5610-8-DT", 0x5702: "NPort 5650-8-DT", 0x5703: "NPort 5650I-8-DT", 0x5710: "NPort 5610-8-DTL",
	0x5110: "NPort 5110", 0x511A: "NPort 5110A",
}

func hwidModel(h uint16) string {
	if m, ok := hwids[h]; ok {
		return m
	}
	return fmt.Sprintf("HWID 0x%04X", h)
}

// firmwareCode decodes 0xMMmmpp00 whose hex digits read as decimal
// ("1.6", "2.10", "1.3.4").
func firmwareCode(v uint32) string {
	dec := func(b byte) int { return int(b>>4)*10 + int(b&0x0f) }
	s := strconv.Itoa(dec(byte(v>>24))) + "." + strconv.Itoa(dec(byte(v>>16)))
	if p := byte(v >> 8); p != 0 {
		s += "." + strconv.Itoa(dec(p))
	}
	return s
}

// dsciInfo is what UDP 4800 told about one device.
type dsciInfo struct {
	found    Found
	firmware string
	serial   int
	leak     bool // function 0x28 returned a non-empty community
	asked    bool // function 0x28 was sent
}

// readDSCI asks one device for discovery, details (0x16) and the SNMP
// configuration (0x28). Each request has its own timeout.
func readDSCI(ctx context.Context, addr string, timeout time.Duration, rec *transcript.Recorder, rt *roundTrip) (dsciInfo, error) {
	var info dsciInfo
	ask := func(req []byte) ([]byte, error) {
		c, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		sent := time.Now()
		b, err := transport.Exchange(c, addr, req, maxDSCIReply)
		if err == nil {
			rt.observe(time.Since(sent))
		}
		recordDatagram(ctx, rec, req, b, err)
		return b, err
	}
	b, err := ask(discoverRequest)
	if err == nil {
		info.found, err = parseDiscovery(b)
	}
	if err != nil {
		// ask for the community anyway, with an empty device ID: the check
		// is then made, whatever discovery said
		info.asked = true
		if b, qerr := ask(dsciRequest(fnSNMP, make([]byte, 12))); qerr == nil && checkReply(fnSNMP, b) == nil && len(b) >= 64 {
			info.leak = len(bytes.Trim(b[24:64], "\x00 ")) > 0
		}
		return info, err
	}
	info.found.Address = addr
	if b, err := ask(dsciRequest(fnDetails, info.found.id)); err == nil && checkReply(fnDetails, b) == nil && len(b) >= 30 {
		info.firmware = firmwareCode(binary.LittleEndian.Uint32(b[20:24]))
		info.serial = int(binary.LittleEndian.Uint16(b[28:30]))
	}
	info.asked = true
	if b, err := ask(dsciRequest(fnSNMP, info.found.id)); err == nil && checkReply(fnSNMP, b) == nil && len(b) >= 64 {
		info.leak = len(bytes.Trim(b[24:64], "\x00 ")) > 0
	}
	return info, nil
}

// Discover is DiscoverFrom any local address (the system picks the
// interface).
func Discover(ctx context.Context, targets []string, timeout time.Duration) ([]Found, error) {
	return DiscoverFrom(ctx, "", targets, timeout)
}

// DiscoverFrom sends the UDP 4800 discovery request from the local IPv4
// address from ("" for any; the chosen interface's address, so that the
// request leaves by it) to each target ("host:port"; on a real network the
// interface's broadcast address, port 4800) and lists every device that
// answers within timeout. Devices are listed once, by reply address.
func DiscoverFrom(ctx context.Context, from string, targets []string, timeout time.Duration) ([]Found, error) {
	if timeout <= 0 {
		timeout = transport.DefaultTimeout
	}
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	replies, err := transport.Gather(c, from, targets, discoverRequest, maxDSCIReply, 0)
	if err != nil && len(replies) == 0 {
		return nil, fmt.Errorf("discover: %w", err)
	}
	seen := map[string]bool{}
	var out []Found
	for _, r := range replies {
		f, perr := parseDiscovery(r.Data)
		if perr != nil || seen[r.From.String()] {
			continue
		}
		seen[r.From.String()] = true
		f.Address = r.From.String()
		f.Model = printable.String(f.Model)
		out = append(out, f)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return out, fmt.Errorf("discover: %w", err)
	}
	return out, nil
}
