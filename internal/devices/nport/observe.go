package nport

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
)

// MIB-II system OIDs.
const (
	oidSysDescr    = ".1.3.6.1.2.1.1.1.0"
	oidSysObjectID = ".1.3.6.1.2.1.1.2.0"
)

// targets lists the probes for every service in ports. UDP serial data
// ports are left out: the only request they take is data for the plant's
// serial device.
func targets(ports map[string]int) []probe.Target {
	var out []probe.Target
	for name, port := range ports {
		t := probe.Target{Name: name, Network: "tcp", Port: port}
		switch {
		case name == "moxa-udp":
			t.Network, t.Request = "udp", discoverRequest
			t.Accept = func(b []byte) bool { return len(b) >= 8 && b[0] == fnDiscover|0x80 }
		case name == "snmp":
			continue // readSNMP's asks are the probe (their wait is derived from the round trip)
		case strings.HasPrefix(name, "udp-data-"):
			continue
		}
		out = append(out, t)
	}
	return out
}

// observe runs the outside probes and the TLS check concurrently. The
// TLS check is made once per session: prev, when it holds one, gives it.
// Otherwise it waits for the login's verified connection on seen (nil:
// none, as over HTTP) and probes only what that connection did not show.
func (d *Driver) observe(ctx context.Context, prev *session, seen <-chan *transport.TLSSeen) Observed {
	var obs Observed
	d.mu.Lock()
	var cached *Observed
	if prev != nil {
		cached = prev.tls
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cached != nil {
			obs.TLS, obs.Cert = cached.TLS.Clone(), cached.Cert
			return
		}
		// the legacy versions, which the session does not offer, are
		// probed during the login; the others wait for what it showed
		obs.TLS = probe.TLSBeside(ctx, d.o.Host, d.ports["https"], d.o.Timeout, transport.SessionMinTLS, seen)
		obs.Cert = judgeCert(obs.TLS)
	}()
	res := probe.Run(ctx, d.o.Host, targets(d.ports), d.o.Timeout)
	<-done
	obs.Ports = make(map[string]probe.Result, len(res)+1)
	for _, r := range res {
		obs.Ports[r.Name] = r
	}
	return obs
}

// judgeCert describes the HTTPS certificate with transport.DescribeCert:
// an expired, SHA-1 signed or short-key certificate carries its problems.
func judgeCert(r probe.TLSReport) *transport.CertInfo {
	if r.Cert == nil || r.Cert.PEM == "" {
		return nil
	}
	blk, _ := pem.Decode([]byte(r.Cert.PEM))
	if blk == nil {
		return nil
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil
	}
	ci := transport.DescribeCert(c, time.Now())
	return &ci
}

// snmpInfo is what the SNMP agent told.
type snmpInfo struct {
	ok               bool
	descr, objectID  string
	defaultCommunity bool
}

// errSNMPWait ends the SNMP asks once the wait derived from the round
// trip has passed without an answer.
var errSNMPWait = errors.New("no answer within the wait derived from the round trip")

// readSNMP asks the agent for sysDescr and sysObjectID with each factory
// community over v2c and v1 (the SNMP page has v1, v2 and v3 boxes: an
// agent may answer v1 only), concurrently, and returns what it told and
// the outside view of the SNMP port. A wrong community gets no reply at
// all, so an unanswered ask is given snmpWait of the round trip rt
// measures (from the asks' start; the full timeout until rt knows one),
// not the timeout: the first answer ends the wait.
func readSNMP(ctx context.Context, host string, port int, timeout time.Duration, rt *roundTrip) (_ snmpInfo, res probe.Result) {
	start := time.Now()
	res = probe.Result{Name: "snmp", Network: "udp", Port: port}
	defer func() { res.Elapsed = time.Since(start) }()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	tctx, tcancel := context.WithTimeout(ctx, timeout)
	defer tcancel()
	actx, cancel := context.WithCancelCause(tctx)
	defer cancel(nil)
	waited := make(chan struct{})
	go func() {
		select {
		case <-rt.ready:
		case <-actx.Done():
			return
		}
		// the wait follows the recent round trips: a slow answer elsewhere
		// while waiting lengthens it
		for {
			left := 5 * time.Millisecond // until enough round trips are measured
			if r := rt.recent(); r > 0 {
				left = time.Until(start.Add(snmpWait(r, timeout)))
			}
			if left <= 0 {
				close(waited)
				cancel(errSNMPWait)
				return
			}
			t := time.NewTimer(left)
			select {
			case <-t.C:
			case <-actx.Done():
				t.Stop()
				return
			}
		}
	}()
	type ask struct {
		community string
		v         gosnmp.SnmpVersion
	}
	asks := []ask{{"public", gosnmp.Version2c}, {"private", gosnmp.Version2c}, {"public", gosnmp.Version1}, {"private", gosnmp.Version1}}
	infos := make([]snmpInfo, len(asks))
	errs := make([]error, len(asks))
	var wg sync.WaitGroup
	for i, a := range asks {
		wg.Go(func() {
			infos[i], errs[i] = snmpGet(actx, addr, a.community, a.v, rt)
			if infos[i].ok {
				cancel(nil) // one answer tells all this Read needs
			}
		})
	}
	wg.Wait()
	for _, r := range infos {
		if r.ok {
			res.State = probe.Open
			return r, res
		}
	}
	refused := true
	for _, err := range errs {
		refused = refused && errors.Is(err, transport.ErrPortUnreachable)
	}
	select {
	case <-waited:
		res.State, res.Detail = probe.Filtered, fmt.Sprintf("no answer within %s (%d recent round trips)", time.Since(start).Round(time.Millisecond), snmpWaitRTTs)
		return snmpInfo{}, res
	default:
	}
	switch {
	case refused:
		res.State, res.Detail = probe.Closed, "refused"
	case ctx.Err() != nil:
		res.State, res.Detail = probe.Failed, "probe canceled: "+ctx.Err().Error()
	default:
		res.State, res.Detail = probe.Filtered, "no answer within "+timeout.String()
	}
	return snmpInfo{}, res
}

// snmpGet sends one GET of sysDescr and sysObjectID and decodes the answer.
func snmpGet(ctx context.Context, addr, community string, v gosnmp.SnmpVersion, rt *roundTrip) (snmpInfo, error) {
	var info snmpInfo
	p := gosnmp.SnmpPacket{Version: v, Community: community, PDUType: gosnmp.GetRequest, RequestID: 0x4e51,
		Variables: []gosnmp.SnmpPDU{{Name: oidSysDescr, Type: gosnmp.Null}, {Name: oidSysObjectID, Type: gosnmp.Null}}}
	req, err := p.MarshalMsg()
	if err != nil {
		return info, fmt.Errorf("snmp request: %w", err)
	}
	sent := time.Now()
	b, err := transport.Exchange(ctx, addr, req, maxSNMPReply)
	if err != nil {
		return info, err
	}
	pkt, err := (&gosnmp.GoSNMP{Version: v}).SnmpDecodePacket(b)
	if err != nil || pkt == nil || pkt.PDUType != gosnmp.GetResponse || pkt.Error != gosnmp.NoError {
		return info, errors.New("snmp: not a good answer")
	}
	rt.observe(time.Since(sent))
	info.ok, info.defaultCommunity = true, true
	for _, v := range pkt.Variables {
		switch v.Name {
		case oidSysDescr:
			if b, ok := v.Value.([]byte); ok {
				info.descr = printable.String(string(b))
			}
		case oidSysObjectID:
			if s, ok := v.Value.(string); ok {
				info.objectID = printable.String(s)
			}
		}
	}
	return info, nil
}

// maxSNMPReply bounds an SNMP answer.
const maxSNMPReply = 4096
