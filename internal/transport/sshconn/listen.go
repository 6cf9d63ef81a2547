package sshconn

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ListenCommand asks a Linux shell for listening TCP and UDP sockets,
// with netstat as the fallback for systems without ss.
const ListenCommand = "ss -ltnuH 2>/dev/null || ss -ltnu 2>/dev/null || netstat -ltnu"

// Socket is one listening socket.
type Socket struct {
	Proto string     // "tcp" or "udp" (IPv6 included)
	Addr  netip.Addr // unspecified (0.0.0.0 or ::) for every address
	Port  int
}

// maxSockets bounds how many lines ParseListening accepts.
const maxSockets = 4096

// ParseListening reads the output of `ss -ltnu` (with or without its
// header) or `netstat -ltnu`. Lines it does not understand are skipped;
// output with no socket line at all and no header is an error.
func ParseListening(out string) ([]Socket, error) {
	var socks []Socket
	header := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		proto := strings.ToLower(f[0])
		var local string
		switch {
		case proto == "netid" || proto == "proto" || proto == "active":
			header = true
			continue
		case (proto == "tcp" || proto == "udp") && len(f) >= 5 && !isNumber(f[1]):
			// ss: Netid State Recv-Q Send-Q Local Peer
			local = f[4]
		case strings.HasPrefix(proto, "tcp") || strings.HasPrefix(proto, "udp"):
			// netstat: Proto Recv-Q Send-Q Local Foreign [State]
			if len(f) < 4 {
				continue
			}
			local = f[3]
		default:
			continue
		}
		s, err := parseLocal(local)
		if err != nil {
			continue
		}
		s.Proto = proto[:3]
		socks = append(socks, s)
		if len(socks) > maxSockets {
			return nil, fmt.Errorf("more than %d listening sockets: the output is not what ss or netstat print", maxSockets)
		}
	}
	if len(socks) == 0 && !header {
		return nil, errors.New("no listening socket and no header: the output is not what ss or netstat print")
	}
	return socks, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// parseLocal reads "0.0.0.0:22", "[::]:22", ":::22", "*:8443",
// "127.0.0.53%lo:53" or "[::1]%lo:631".
func parseLocal(s string) (Socket, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Socket{}, errors.New("no port")
	}
	host, portText := s[:i], s[i+1:]
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return Socket{}, errors.New("bad port")
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
	}
	host = strings.TrimSuffix(host, "]")
	var addr netip.Addr
	switch host {
	case "*", "0.0.0.0", "":
		addr = netip.IPv4Unspecified()
	case "::", ":":
		addr = netip.IPv6Unspecified()
	default:
		if addr, err = netip.ParseAddr(host); err != nil {
			return Socket{}, errors.New("bad address")
		}
	}
	return Socket{Addr: addr.Unmap(), Port: port}, nil
}
