package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// parseAddress splits what the technician gave as --address (or typed in
// the wizard) into a host and an optional port: "HOST", "HOST:PORT",
// "[V6]:PORT" or a bare IPv6 literal. It refuses, before any name
// lookup, a malformed IP literal (such as 127.0.0.999 or 1.2.3) and a
// host name that no resolver could take. port is 0 when none was given.
func parseAddress(s string) (host string, port int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, fmt.Errorf("no address given: use the device's IP address, such as 192.168.127.254 or 192.168.127.254:8443")
	}
	host = s
	switch {
	case strings.HasPrefix(s, "["):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", 0, fmt.Errorf("address %q: write an IPv6 address with a port as [ADDRESS]:PORT", s)
		}
		n, err := parsePort(p)
		if err != nil {
			return "", 0, fmt.Errorf("address %q: %w", s, err)
		}
		if _, err := netip.ParseAddr(h); err != nil {
			return "", 0, fmt.Errorf("address %q: %s is not an IPv6 address", s, h)
		}
		return h, n, nil
	case strings.Count(s, ":") == 1:
		h, p, _ := strings.Cut(s, ":")
		if port, err = parsePort(p); err != nil {
			return "", 0, fmt.Errorf("address %q: %w", s, err)
		}
		host = h
	case strings.Count(s, ":") > 1:
		if _, err := netip.ParseAddr(s); err != nil {
			return "", 0, fmt.Errorf("address %q is not an IPv6 address (with a port, write [ADDRESS]:PORT)", s)
		}
		return s, 0, nil
	}
	if err := checkHost(host); err != nil {
		return "", 0, fmt.Errorf("address %q: %w", s, err)
	}
	return host, port, nil
}

// parsePort reads a TCP port number.
func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return n, nil
}

// checkHost accepts an IPv4 literal or a host name. Anything made only
// of digits and dots must be a whole IPv4 address: it is never sent to
// a resolver.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("no host before the port")
	}
	if strings.Trim(h, "0123456789.") == "" {
		parts := strings.Split(h, ".")
		if len(parts) != 4 {
			return fmt.Errorf("%s is not an IPv4 address: it has %d numbers, an address has 4 (such as 192.168.127.254)", h, len(parts))
		}
		for _, p := range parts {
			if n, err := strconv.Atoi(p); p == "" || err != nil || n > 255 {
				return fmt.Errorf("%s is not an IPv4 address: %q is not a number from 0 to 255", h, p)
			}
		}
		if _, err := netip.ParseAddr(h); err != nil {
			return fmt.Errorf("%s is not an IPv4 address: write each number without leading zeros", h)
		}
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("the host name is longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a host name or an IP address", h)
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Errorf("%q is not a host name or an IP address", h)
			}
		}
	}
	return nil
}
