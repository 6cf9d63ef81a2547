package nport

import (
	"crypto/subtle"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// sysObjectID of the NPort 5000 series.
const sysObjectID = ".1.3.6.1.4.1.8691.2.7"

// mibVar is one scalar of the system group.
type mibVar struct {
	oid []int
	get func(d *Device, s Settings) gosnmp.SnmpPDU
}

func oidString(o []int) string {
	var b strings.Builder
	for _, n := range o {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

func parseOID(s string) []int {
	var out []int
	for _, p := range strings.Split(strings.Trim(s, "."), ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil
		}
		out = append(out, n)
	}
	return out
}

func cmpOID(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func str(oid []int, v string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: oidString(oid), Type: gosnmp.OctetString, Value: []byte(v)}
}

// systemGroup is MIB-II system, in OID order.
var systemGroup = []mibVar{
	{[]int{1, 3, 6, 1, 2, 1, 1, 1, 0}, func(d *Device, _ Settings) gosnmp.SnmpPDU {
		return str([]int{1, 3, 6, 1, 2, 1, 1, 1, 0}, "NP"+strings.TrimPrefix(d.cfg.Model, "NPort "))
	}},
	{[]int{1, 3, 6, 1, 2, 1, 1, 2, 0}, func(*Device, Settings) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: sysObjectID}
	}},
	{[]int{1, 3, 6, 1, 2, 1, 1, 3, 0}, func(d *Device, _ Settings) gosnmp.SnmpPDU {
		ticks := uint32(d.cfg.Now().Sub(d.started) / (10 * time.Millisecond))
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: ticks}
	}},
	{[]int{1, 3, 6, 1, 2, 1, 1, 4, 0}, func(_ *Device, s Settings) gosnmp.SnmpPDU {
		return str([]int{1, 3, 6, 1, 2, 1, 1, 4, 0}, s.SNMP.Contact)
	}},
	{[]int{1, 3, 6, 1, 2, 1, 1, 5, 0}, func(_ *Device, s Settings) gosnmp.SnmpPDU {
		return str([]int{1, 3, 6, 1, 2, 1, 1, 5, 0}, s.ServerName)
	}},
	{[]int{1, 3, 6, 1, 2, 1, 1, 6, 0}, func(_ *Device, s Settings) gosnmp.SnmpPDU {
		return str([]int{1, 3, 6, 1, 2, 1, 1, 6, 0}, s.SNMP.Location)
	}},
	{[]int{1, 3, 6, 1, 2, 1, 1, 7, 0}, func(*Device, Settings) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.7.0", Type: gosnmp.Integer, Value: 72}
	}},
}

// serveSNMP answers v1 and v2c GET, GETNEXT and GETBULK for the system
// group. A wrong community, a disabled version, v3 or SET gets no reply.
func (d *Device) serveSNMP(pc net.PacketConn, buf []byte, from *net.UDPAddr) {
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	req, err := dec.SnmpDecodePacket(buf)
	if err != nil {
		return
	}
	d.mu.Lock()
	eff := d.effective.clone()
	d.mu.Unlock()
	switch req.Version {
	case gosnmp.Version1:
		if !eff.SNMP.V1 {
			return
		}
	case gosnmp.Version2c:
		if !eff.SNMP.V2 {
			return
		}
	default:
		return // SNMPv3 is not simulated
	}
	c := []byte(req.Community)
	if subtle.ConstantTimeCompare(c, []byte(eff.SNMP.ReadCommunity)) != 1 &&
		subtle.ConstantTimeCompare(c, []byte(eff.SNMP.WriteCommunity)) != 1 {
		return
	}
	resp := &gosnmp.SnmpPacket{
		Version:   req.Version,
		Community: req.Community,
		PDUType:   gosnmp.GetResponse,
		RequestID: req.RequestID,
	}
	v1 := req.Version == gosnmp.Version1
	fail := func(status gosnmp.SNMPError, idx int) {
		resp.Error, resp.ErrorIndex = status, uint8(min(idx, 255))
		resp.Variables = req.Variables
		for i := range resp.Variables {
			resp.Variables[i].Type, resp.Variables[i].Value = gosnmp.Null, nil
		}
	}
	next := func(oid []int) (gosnmp.SnmpPDU, bool) {
		for _, v := range systemGroup {
			if cmpOID(v.oid, oid) > 0 {
				return v.get(d, eff), true
			}
		}
		return gosnmp.SnmpPDU{Name: oidString(oid), Type: gosnmp.EndOfMibView}, false
	}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for i, vb := range req.Variables {
			oid := parseOID(vb.Name)
			found := false
			for _, v := range systemGroup {
				if cmpOID(v.oid, oid) == 0 {
					resp.Variables = append(resp.Variables, v.get(d, eff))
					found = true
				}
			}
			if !found {
				if v1 {
					fail(gosnmp.NoSuchName, i+1)
					break
				}
				resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.NoSuchObject})
			}
		}
	case gosnmp.GetNextRequest:
		for i, vb := range req.Variables {
			pdu, ok := next(parseOID(vb.Name))
			if !ok && v1 {
				fail(gosnmp.NoSuchName, i+1)
				break
			}
			resp.Variables = append(resp.Variables, pdu)
		}
	case gosnmp.GetBulkRequest:
		if v1 {
			return
		}
		nonRep := min(int(req.NonRepeaters), len(req.Variables))
		for _, vb := range req.Variables[:nonRep] {
			pdu, _ := next(parseOID(vb.Name))
			resp.Variables = append(resp.Variables, pdu)
		}
		reps := min(int(req.MaxRepetitions), len(systemGroup)+1)
		for _, vb := range req.Variables[nonRep:] {
			oid := parseOID(vb.Name)
			for range reps {
				pdu, ok := next(oid)
				resp.Variables = append(resp.Variables, pdu)
				if !ok {
					break
				}
				oid = parseOID(pdu.Name)
			}
		}
	default:
		return // SET and traps are not simulated
	}
	out, err := resp.MarshalMsg()
	if err != nil || len(out) > 1472 {
		return
	}
	pc.WriteTo(out, from)
}
