package nport

import (
	"context"
	"crypto/x509"
	"encoding/pem"
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

// snmpGetRequest returns the bytes of an SNMP v2c GET of sysDescr with
// the given community, for the UDP probe.
func snmpGetRequest(community string) []byte {
	p := gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: community, PDUType: gosnmp.GetRequest,
		RequestID: 0x4e50, Variables: []gosnmp.SnmpPDU{{Name: oidSysDescr, Type: gosnmp.Null}}}
	b, err := p.MarshalMsg()
	if err != nil { // a fixed, valid packet: cannot fail
		panic("nport: marshal SNMP probe: " + err.Error())
	}
	return b
}

// snmpReply accepts an SNMP GetResponse (BER sequence, PDU tag 0xa2).
func snmpReply(b []byte) bool {
	return len(b) > 2 && b[0] == 0x30 && strings.Contains(string(b), "\xa2")
}

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
			t.Network, t.Request, t.Accept = "udp", snmpGetRequest("public"), snmpReply
		case strings.HasPrefix(name, "udp-data-"):
			continue
		}
		out = append(out, t)
	}
	return out
}

// observe runs the outside probes and the TLS check concurrently.
func (d *Driver) observe(ctx context.Context) Observed {
	var obs Observed
	done := make(chan struct{})
	go func() {
		defer close(done)
		obs.TLS = probe.TLS(ctx, d.o.Host, d.ports["https"], d.o.Timeout)
		obs.Cert = judgeCert(obs.TLS)
	}()
	res := probe.Run(ctx, d.o.Host, targets(d.ports), d.o.Timeout)
	<-done
	obs.Ports = make(map[string]probe.Result, len(res))
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

// readSNMP asks the agent for sysDescr and sysObjectID with each factory
// community over v2c and v1 (the SNMP page has v1, v2 and v3 boxes: an
// agent may answer v1 only), concurrently (a wrong community gets no
// reply at all).
func readSNMP(ctx context.Context, host string, port int, timeout time.Duration) snmpInfo {
	type ask struct {
		community string
		v         gosnmp.SnmpVersion
	}
	asks := []ask{{"public", gosnmp.Version2c}, {"private", gosnmp.Version2c}, {"public", gosnmp.Version1}, {"private", gosnmp.Version1}}
	res := make([]snmpInfo, len(asks))
	var wg sync.WaitGroup
	for i, a := range asks {
		wg.Go(func() { res[i] = snmpGet(ctx, host, port, timeout, a.community, a.v) })
	}
	wg.Wait()
	for _, r := range res {
		if r.ok {
			return r
		}
	}
	return snmpInfo{}
}

func snmpGet(ctx context.Context, host string, port int, timeout time.Duration, community string, v gosnmp.SnmpVersion) snmpInfo {
	var info snmpInfo
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(port), Community: community, Version: v,
		Timeout: timeout, Retries: 0, Context: ctx, MaxOids: 2}
	if err := g.Connect(); err != nil {
		return info
	}
	defer g.Conn.Close()
	pkt, err := g.Get([]string{oidSysDescr, oidSysObjectID})
	if err != nil || pkt == nil || pkt.Error != gosnmp.NoError {
		return info
	}
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
	return info
}
