package nport

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Telnet protocol bytes.
const (
	iac  = 255
	will = 251
	wont = 252
	do   = 253
	dont = 254
	sb   = 250
	se   = 240

	optBinary = 0
	optEcho   = 1
	optSGA    = 3

	telnetIdle    = 60 * time.Second
	telnetMaxLine = 256
)

var errLineTooLong = errors.New("telnet line too long")

// telnetConn reads lines from a telnet client, skipping IAC sequences.
type telnetConn struct {
	c  net.Conn
	r  *bufio.Reader
	cr bool // the last line ended with CR; skip a following LF or NUL
}

// readLine reads one line; echo says whether typed characters are echoed.
func (t *telnetConn) readLine(echo bool) (string, error) {
	var line []byte
	for {
		t.c.SetReadDeadline(time.Now().Add(telnetIdle))
		b, err := t.r.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case b == iac:
			if err := t.skipCommand(); err != nil {
				return "", err
			}
			continue
		case (b == '\n' || b == 0) && t.cr:
			t.cr = false
			continue
		case b == '\r' || b == '\n':
			t.cr = b == '\r'
			t.write("\r\n")
			return string(line), nil
		}
		t.cr = false
		if b == 8 || b == 127 {
			if len(line) > 0 {
				line = line[:len(line)-1]
			}
			continue
		}
		if b < 0x20 || b > 0x7e {
			continue
		}
		if len(line) >= telnetMaxLine {
			return "", errLineTooLong
		}
		line = append(line, b)
		if echo {
			t.write(string(rune(b)))
		}
	}
}

// skipCommand consumes the rest of an IAC command (the client's answers
// to our WILL ECHO / WILL SGA, or anything else).
func (t *telnetConn) skipCommand() error {
	cmd, err := t.r.ReadByte()
	if err != nil {
		return err
	}
	switch cmd {
	case will, wont, do, dont:
		_, err = t.r.ReadByte()
	case sb:
		for n := 0; n < 512; n++ {
			b, err := t.r.ReadByte()
			if err != nil {
				return err
			}
			if b == iac {
				if b2, err := t.r.ReadByte(); err != nil || b2 == se {
					return err
				}
			}
		}
	}
	return err
}

// write sends s with every line ending as a real unit ends it: CR NUL LF.
func (t *telnetConn) write(s string) {
	t.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	t.c.Write([]byte(strings.ReplaceAll(s, "\r\n", "\r\x00\n")))
}

// serveTelnet is the telnet console: banner, login, main menu.
func (d *Device) serveTelnet(c net.Conn) {
	t := &telnetConn{c: c, r: bufio.NewReaderSize(c, 1024)}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	// the options a real unit sends first (nmap's service probe matches them)
	c.Write([]byte{iac, will, optEcho, iac, will, optSGA, iac, will, optBinary, iac, do, optEcho, iac, do, optBinary})
	t.write(d.banner())
	for tries := 0; ; tries++ {
		if tries == 3 {
			return
		}
		t.write("Please keyin your username:")
		u, err := t.readLine(true)
		if err != nil {
			return
		}
		t.write("Please keyin your password:")
		pw, err := t.readLine(false)
		if err != nil {
			return
		}
		msg := d.checkLogin(u, func(want string) bool { return want == pw })
		who := printableName(u)
		if msg == "" {
			d.log("Config", fmt.Sprintf("%s: Telnet Login Success %s", who, c.RemoteAddr()))
			break
		}
		d.log("Config", fmt.Sprintf("%s: Telnet Login Fail %s", who, c.RemoteAddr()))
		t.write("\r\n" + strings.ReplaceAll(unescape(msg), "\n", "\r\n") + "\r\n\r\n")
	}
	for {
		t.write(mainMenu)
		sel, err := t.readLine(true)
		if err != nil {
			return
		}
		switch strings.ToLower(strings.TrimSpace(sel)) {
		case "q":
			t.write("Bye.\r\n")
			return
		case "v":
			t.write(d.viewSettings())
		case "m", "":
		default:
			t.write("This function is not available in the simulator.\r\n")
		}
	}
}

// unescape undoes the HTML escaping of checkLogin's message.
func unescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'")
	return r.Replace(s)
}

const mainMenu = "\r\n<< Main Menu >>\r\n" +
	"  (1) Basic settings\r\n  (2) Network settings\r\n  (3) Serial settings\r\n" +
	"  (4) Operating settings\r\n  (5) Accessible IP settings\r\n  (6) Auto warning settings\r\n" +
	"  (7) Monitor\r\n  (8) Ping\r\n  (9) Change password\r\n  (a) Load factory default\r\n" +
	"  (v) View settings\r\n  (s) Save/Restart\r\n  (q) Quit\r\n\r\nKey in your selection: "

func (d *Device) banner() string {
	return fmt.Sprintf("\r\n\r\n"+strings.Repeat("-", 77)+"\r\nModel name       : %s\r\nMAC address      : %s\r\nSerial No.       : %s\r\nFirmware version : %s\r\nSystem uptime    : %s\r\n\r\n",
		d.cfg.Model, strings.ToUpper(net.HardwareAddr(d.mac[:]).String()), d.cfg.Serial, d.cfg.Firmware,
		uptime(d.cfg.Now().Sub(d.started)))
}

func onOff(b bool) string {
	if b {
		return "Enable"
	}
	return "Disable"
}

func (d *Device) viewSettings() string {
	s := d.Effective()
	var b strings.Builder
	fmt.Fprintf(&b, "\r\nServer name      : %s\r\n", s.ServerName)
	fmt.Fprintf(&b, "IP address       : %s\r\nNetmask          : %s\r\n", s.Network.IP, s.Network.Netmask)
	fmt.Fprintf(&b, "HTTP console     : %s\r\nHTTPS console    : %s\r\nTelnet console   : %s\r\n",
		onOff(s.Console.HTTP), onOff(s.Console.HTTPS), onOff(s.Console.Telnet))
	fmt.Fprintf(&b, "Moxa Service     : %s\r\nSNMP agent       : %s\r\n", onOff(s.Console.MoxaService), onOff(s.SNMP.Enabled))
	for i, m := range s.PortModes {
		fmt.Fprintf(&b, "Port %d mode      : %s\r\n", i+1, m)
	}
	return b.String()
}
