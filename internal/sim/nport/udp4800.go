package nport

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// Identity values for the UDP 4800 device ID. They are illustrative: the
// reference has no capture of a 5150A.
const (
	apid5150A = 0x80005150
	hwid5150A = 0x515A
)

// Moxa UDP 4800 status codes.
const statusBad = 0x04

// deviceID is the 12-byte ID every request but discovery carries.
func (d *Device) deviceID() []byte {
	id := make([]byte, 12)
	binary.LittleEndian.PutUint32(id[0:], apid5150A)
	binary.LittleEndian.PutUint16(id[4:], hwid5150A)
	copy(id[6:], d.mac[:])
	return id
}

func ip4(s string) []byte {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return make([]byte, 4)
	}
	b := a.As4()
	return b[:]
}

func putString(dst []byte, s string) {
	copy(dst, s) // NUL-padded, truncated to the field
}

// serveMoxaUDP answers one UDP 4800 request.
func (d *Device) serveMoxaUDP(pc net.PacketConn, req []byte, from *net.UDPAddr) {
	d.mu.Lock()
	if len(d.udpPeers) < 256 {
		d.udpPeers = append(d.udpPeers, from.AddrPort().Addr().Unmap())
	}
	d.mu.Unlock()
	if len(req) < 8 || int(binary.BigEndian.Uint16(req[2:4])) != len(req) || req[0]&0x80 != 0 {
		return
	}
	if reply := d.moxaReply(req); reply != nil {
		pc.WriteTo(reply, from)
	}
}

// moxaReply builds the reply to a well-formed request.
func (d *Device) moxaReply(req []byte) []byte {
	fn := req[0]
	id := d.deviceID()
	reply := func(status byte, payload []byte) []byte {
		out := make([]byte, 8, 8+len(payload))
		out[0] = fn | 0x80
		out[1] = status
		copy(out[4:8], req[4:8])
		out = append(out, payload...)
		binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
		return out
	}
	d.mu.Lock()
	eff := d.effective.clone()
	d.mu.Unlock()
	if fn == 0x01 {
		return reply(0, append(id, ip4(eff.Network.IP)...))
	}
	if len(req) < 20 || string(req[8:20]) != string(id) {
		return reply(statusBad, nil)
	}
	withID := func(n int) []byte { return append(append([]byte(nil), id...), make([]byte, n)...) }
	switch fn {
	case 0x10: // server name
		p := withID(40)
		putString(p[12:], eff.ServerName)
		return reply(0, p)
	case 0x16: // product details: firmware at 20, serial at 28 (absolute)
		p := withID(20)
		binary.LittleEndian.PutUint32(p[12:], d.cfg.FirmwareCode)
		binary.LittleEndian.PutUint16(p[20:], serialNumber(d.cfg.Serial))
		return reply(0, p)
	case 0x21:
		return reply(0, append(id, ip4(eff.Network.IP)...))
	case 0x22:
		return reply(0, append(id, ip4(eff.Network.Netmask)...))
	case 0x23:
		return reply(0, append(id, ip4(eff.Network.Gateway)...))
	case 0x28: // SNMP: 4 unknown, community(40) at absolute 24, contact, location, trap server
		p := withID(4 + 160)
		if d.cfg.Vulnerable {
			putString(p[16:56], eff.SNMP.ReadCommunity)
		}
		putString(p[56:96], eff.SNMP.Contact)
		putString(p[96:136], eff.SNMP.Location)
		return reply(0, p)
	case 0x51: // accessible IP: 4 bytes (list enabled, u32 LE), then 16 x {active u32 LE, ip, mask}
		p := withID(4 + 16*12)
		if eff.AccessList.Enabled {
			binary.LittleEndian.PutUint32(p[12:], 1)
		}
		for i, r := range eff.AccessList.Rules {
			o := 16 + i*12
			if r.Active {
				binary.LittleEndian.PutUint32(p[o:], 1)
			}
			if r.IP.Is4() {
				a := r.IP.As4()
				copy(p[o+4:], a[:])
			}
			if r.Netmask.Is4() {
				m := r.Netmask.As4()
				copy(p[o+8:], m[:])
			}
		}
		return reply(0, p)
	}
	return reply(statusBad, nil)
}

// serialNumber turns the printed serial number into the u16 on the wire.
func serialNumber(s string) uint16 {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
		if n > 0xFFFF {
			return 0xFFFF
		}
	}
	return uint16(n)
}

// MoxaUDPSenders lists the source address of every UDP 4800 request the
// device received (the first 256), oldest first.
func (d *Device) MoxaUDPSenders() []netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]netip.Addr(nil), d.udpPeers...)
}
