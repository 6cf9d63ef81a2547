// Package catalog turns each vendor guide into steps: one step per
// numbered recommendation, with its guide reference, our own wording of
// why it matters, its IEC 62443-3-3 system requirements, and its check,
// inputs and plan over the family's device state. It also holds the
// family guards that refuse a plan which would lock the technician out.
package catalog

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"github.com/commission-tool/commission/internal/printable"
)

// ParseIPv4 parses a dotted IPv4 address with a message a technician can act on.
func ParseIPv4(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, errors.New("enter an IPv4 address such as 192.168.127.10")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address: use four numbers 0-255 separated by dots, such as 192.168.127.10", s)
	}
	return a, nil
}

// ParseNetmask parses a dotted netmask and checks its ones are contiguous.
func ParseNetmask(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not a netmask: use a dotted mask such as 255.255.255.0", s)
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if v != 0 && (^v+1)&^v != 0 { // ones must be contiguous from the left
		return netip.Addr{}, fmt.Errorf("%s is not a valid netmask: its 1-bits must be contiguous (such as 255.255.255.0 or 255.255.255.128)", s)
	}
	if v == 0 {
		return netip.Addr{}, fmt.Errorf("netmask %s would allow every host: to allow any host, turn the list off instead", s)
	}
	return a, nil
}

// Rule is one allow-list entry typed by the technician.
type Rule struct {
	IP, Netmask netip.Addr
}

// String shows a rule as IP/netmask.
func (r Rule) String() string { return r.IP.String() + "/" + r.Netmask.String() }

// ParseRules reads allow-list rules, one per line or separated by commas
// or semicolons, each as "IP", "IP/prefix", "IP/netmask" or "IP netmask".
// A bare IP is a single host (255.255.255.255).
func ParseRules(text string) ([]Rule, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' || r == ';' })
	var rules []Rule
	var errs []error
	n := 0
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n++
		r, err := parseRule(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", n, err))
			continue
		}
		rules = append(rules, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, errors.New("enter at least one rule, such as 192.168.127.0/24 or 192.168.127.10")
	}
	if len(rules) > 16 {
		return nil, fmt.Errorf("%d rules given; the device holds at most 16: combine hosts into subnets", len(rules))
	}
	return rules, nil
}

func parseRule(s string) (Rule, error) {
	ipPart, maskPart := s, ""
	if i := strings.IndexAny(s, "/ \t"); i >= 0 {
		ipPart, maskPart = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
	}
	ip, err := ParseIPv4(ipPart)
	if err != nil {
		return Rule{}, err
	}
	if maskPart == "" {
		return Rule{IP: ip, Netmask: netip.AddrFrom4([4]byte{255, 255, 255, 255})}, nil
	}
	if !strings.Contains(maskPart, ".") {
		bits, err := strconv.Atoi(maskPart)
		if err != nil || bits < 1 || bits > 32 {
			return Rule{}, fmt.Errorf("%q is not a prefix length: use /1 to /32, such as /24", maskPart)
		}
		p := netip.PrefixFrom(ip, bits).Masked()
		m := uint32(0xffffffff) << (32 - bits)
		return Rule{IP: p.Addr(), Netmask: netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})}, nil
	}
	mask, err := ParseNetmask(maskPart)
	if err != nil {
		return Rule{}, err
	}
	return Rule{IP: ip, Netmask: mask}, nil
}

// PasswordRules are a guide's rules for a new password.
type PasswordRules struct {
	MinLength int
	MaxLength int    // 0: no maximum
	Classes   int    // how many of lower, upper, digit, special are required (4: all)
	Special   string // the special characters the device accepts; empty: any non-alphanumeric
	// CheckCommon refuses passwords from the embedded common-password list.
	CheckCommon bool
}

// Check tests a new password against the rules; the error says which rule
// failed and what to do. It never echoes the password.
func (r PasswordRules) Check(pw string) error {
	n := len([]rune(pw))
	switch {
	case r.MaxLength > 0 && r.MinLength == r.MaxLength && n != r.MinLength:
		return fmt.Errorf("the password must be exactly %d characters (the guide asks for at least %d and the device accepts at most %d); this one has %d", r.MinLength, r.MinLength, r.MaxLength, n)
	case n < r.MinLength:
		return fmt.Errorf("the password is too short: use at least %d characters; this one has %d", r.MinLength, n)
	case r.MaxLength > 0 && n > r.MaxLength:
		return fmt.Errorf("the password is too long: the device accepts at most %d characters; this one has %d", r.MaxLength, n)
	}
	var lower, upper, digit, special, bad bool
	for _, c := range pw {
		switch {
		case c > unicode.MaxASCII || unicode.IsControl(c) || c == ' ':
			bad = true
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsDigit(c):
			digit = true
		case r.Special == "" || strings.ContainsRune(r.Special, c):
			special = true
		default:
			bad = true
		}
	}
	if bad {
		if r.Special != "" {
			return fmt.Errorf("the password has a character the device does not accept: use letters, digits and %s", r.Special)
		}
		return errors.New("the password has a space, a control or a non-ASCII character: use printable ASCII only")
	}
	var missing []string
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if !special {
		missing = append(missing, "a special character")
	}
	if have := 4 - len(missing); have < r.Classes {
		return fmt.Errorf("the password needs %s", strings.Join(missing, ", "))
	}
	if r.CheckCommon && isCommon(pw) {
		return errors.New("the password is on the list of commonly used passwords: choose one nobody would guess")
	}
	return nil
}

// required returns a validator that refuses an empty value with the
// given instruction.
func required(instruction string) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New(instruction)
		}
		return nil
	}
}

// ValidateAccountName checks a new personal account's name: not empty,
// not the default "admin", at most 16 characters, and no character a
// console would mangle.
func ValidateAccountName(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("enter an account name, such as the technician's or operator's own name")
	case strings.EqualFold(v, "admin"):
		return errors.New(`"admin" is the default account: choose a personal name`)
	case len(v) > 16:
		return errors.New("use at most 16 characters")
	case printable.String(v) != v || strings.ContainsAny(v, " \"'<>&"):
		return errors.New("use letters, digits, dot, dash and underscore only")
	}
	return nil
}
