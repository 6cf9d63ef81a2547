package sshsig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// ErrNotAllowed is returned when no allowed_signers line trusts a key for
// an identity and namespace.
var ErrNotAllowed = errors.New("key is not an allowed signer")

// AllowedSigner is one line of an allowed_signers file
// (see "ALLOWED SIGNERS" in ssh-keygen(1)).
type AllowedSigner struct {
	Principals  []string // patterns, e.g. "tech@vendor.example" or "*@vendor.example"
	Namespaces  []string // patterns; empty means any namespace
	ValidAfter  time.Time
	ValidBefore time.Time
	CertAuth    bool // cert-authority lines are parsed but never match a plain key
	Key         ssh.PublicKey
	Line        int
}

// AllowedSigners is a parsed allowed_signers file.
type AllowedSigners []AllowedSigner

// MaxIdentity bounds the identity and namespace Find matches patterns against.
const MaxIdentity = 256

// maxAllowed bounds an allowed_signers file.
const maxAllowed = 1 << 20

// ParseAllowedSigners parses an allowed_signers file. Blank lines and
// lines starting with # are skipped; any other line that does not parse
// is an error naming its line number.
func ParseAllowedSigners(data []byte) (AllowedSigners, error) {
	if len(data) > maxAllowed {
		return nil, fmt.Errorf("allowed signers: larger than %d bytes", maxAllowed)
	}
	var out AllowedSigners
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxAllowed)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		as, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("allowed signers line %d: %w", n, err)
		}
		as.Line = n
		out = append(out, as)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("allowed signers: %w", err)
	}
	return out, nil
}

func parseLine(line string) (AllowedSigner, error) {
	var as AllowedSigner
	principals, rest := cutField(line)
	principals = strings.Trim(principals, `"`)
	if principals == "" || strings.TrimSpace(rest) == "" {
		return as, errors.New("expected: principals [options] keytype base64-key")
	}
	as.Principals = strings.Split(principals, ",")
	key, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return as, fmt.Errorf("key: %w", err)
	}
	as.Key = key
	for _, o := range opts {
		name, val, _ := strings.Cut(o, "=")
		val = strings.Trim(val, `"`)
		switch strings.ToLower(name) {
		case "namespaces":
			as.Namespaces = strings.Split(val, ",")
		case "cert-authority":
			as.CertAuth = true
		case "valid-after":
			if as.ValidAfter, err = parseTime(val); err != nil {
				return as, fmt.Errorf("valid-after: %w", err)
			}
		case "valid-before":
			if as.ValidBefore, err = parseTime(val); err != nil {
				return as, fmt.Errorf("valid-before: %w", err)
			}
		default:
			return as, fmt.Errorf("unknown option %q", name)
		}
	}
	return as, nil
}

// cutField splits off the first field, which may be double-quoted.
func cutField(s string) (field, rest string) {
	if strings.HasPrefix(s, `"`) {
		if i := strings.Index(s[1:], `"`); i >= 0 {
			return s[:i+2], s[i+2:]
		}
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// parseTime reads ssh-keygen's YYYYMMDD[HHMM[SS]][Z] (local time unless Z).
func parseTime(v string) (time.Time, error) {
	loc := time.Local
	if s, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = s, time.UTC
	}
	for _, layout := range []string{"20060102", "200601021504", "20060102150405"} {
		if len(v) == len(layout) {
			return time.ParseInLocation(layout, v, loc)
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", v)
}

// Line formats the allowed_signers line that trusts key for identity in
// this package's Namespace:
//
//	<identity> namespaces="commissioning-record@commission.tool" <keytype> <base64>
func Line(identity string, key ssh.PublicKey) string {
	return fmt.Sprintf("%s namespaces=%q %s", identity, Namespace,
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
}

// Find returns the principals of every line that trusts key for namespace
// at time at. When identity is not empty, it must match one of a line's
// principal patterns, and only identity is returned for that line.
func (a AllowedSigners) Find(key ssh.PublicKey, identity, namespace string, at time.Time) ([]string, error) {
	if len(identity) > MaxIdentity || len(namespace) > MaxIdentity {
		return nil, fmt.Errorf("identity or namespace longer than %d bytes", MaxIdentity)
	}
	var out []string
	for _, s := range a {
		if s.CertAuth || !bytes.Equal(s.Key.Marshal(), key.Marshal()) {
			continue
		}
		if len(s.Namespaces) > 0 && !matchList(namespace, s.Namespaces) {
			continue
		}
		if !s.ValidAfter.IsZero() && at.Before(s.ValidAfter) {
			continue
		}
		if !s.ValidBefore.IsZero() && !at.Before(s.ValidBefore) {
			continue
		}
		if identity != "" {
			if matchList(identity, s.Principals) {
				out = append(out, identity)
			}
			continue
		}
		out = append(out, s.Principals...)
	}
	if len(out) == 0 {
		id := ""
		if identity != "" {
			id = " as " + identity
		}
		return nil, fmt.Errorf("%w%s for namespace %s (%s)", ErrNotAllowed, id, namespace, Fingerprint(key))
	}
	return out, nil
}

// matchList reports whether s matches the comma-separated pattern list the
// way OpenSSH's match_pattern_list does: a negated pattern (!p) that
// matches refuses, otherwise any matching pattern accepts.
func matchList(s string, patterns []string) bool {
	ok := false
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if neg, found := strings.CutPrefix(p, "!"); found {
			if match(s, neg) {
				return false
			}
			continue
		}
		if match(s, p) {
			ok = true
		}
	}
	return ok
}

// match is OpenSSH's wildcard match: * any run, ? any one character. It
// never recurses: on a mismatch it resumes after the last star, one byte
// further into s, so it takes at most len(s)·len(p) steps (OpenSSH's own
// recursive match_pattern can take exponential time on a pattern such as
// a*a*a*a*…b). Find bounds len(s) by MaxIdentity, which makes the cost
// linear in the size of the allowed_signers file.
func match(s, p string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
