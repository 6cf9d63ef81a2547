package transport

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxPinFile bounds the known_devices file.
const maxPinFile = 1 << 20

// Fingerprint returns the SHA-256 fingerprint of a DER certificate in
// OpenSSH form: "SHA256:" + unpadded standard base64.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// FingerprintHex shows a fingerprint (either form) as colon-separated
// upper-case hex, as browsers and the device's certificate page show it.
// It returns "" for a malformed fingerprint.
func FingerprintHex(fp string) string {
	sum, err := parseFingerprint(fp)
	if err != nil {
		return ""
	}
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// parseFingerprint accepts "SHA256:base64", "sha256:HEX" or colon hex.
func parseFingerprint(fp string) ([]byte, error) {
	var b []byte
	var err error
	switch {
	case strings.HasPrefix(fp, "SHA256:"):
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimPrefix(fp, "SHA256:"))
	case len(fp) >= len("sha256:") && strings.EqualFold(fp[:len("sha256:")], "sha256:"):
		b, err = hex.DecodeString(fp[len("sha256:"):])
	default:
		b, err = hex.DecodeString(strings.ReplaceAll(fp, ":", ""))
	}
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("malformed certificate fingerprint")
	}
	return b, nil
}

// DefaultPinsPath is where pins live unless the caller says otherwise:
// os.UserConfigDir()/commission/known_devices.
func DefaultPinsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config directory: %w", err)
	}
	return filepath.Join(dir, "commission", "known_devices"), nil
}

// PinStore remembers the certificate each device showed the first time
// (trust on first use). It is a small text file of "host:port sha256:HEX"
// lines, rewritten atomically. Safe for concurrent use, and by several
// processes at once: each write merges this store's own changes into the
// file as it is on disk then (see Trust).
type PinStore struct {
	path   string
	mu     sync.Mutex
	pins   map[string][]byte // the file as last read or written, with pending over it
	expect map[string][]byte // host or host:port -> fingerprint the technician gave
	added  []NewPin          // pinned because they matched an expectation, not yet taken
	// version counts the changes to pins. pending holds the host:ports
	// this store trusted that no write has carried yet, each with the
	// version of its latest Trust; their pins are in pins.
	version uint64
	pending map[string]uint64
	// wmu makes one writer of the file at a time in this process; under
	// it, saved is the version the file holds and disk the pins it held
	// when this store last read or wrote it.
	wmu   sync.Mutex
	saved uint64
	disk  map[string][]byte
}

// NewPin is a certificate pinned during a connection because it matched
// the fingerprint the technician gave (Expect), for the caller to report.
type NewPin struct {
	HostPort    string
	Fingerprint string
	Cert        CertInfo
}

// OpenPins loads the pin file at path ("" for DefaultPinsPath). A missing
// file is an empty store.
func OpenPins(path string) (*PinStore, error) {
	if path == "" {
		p, err := DefaultPinsPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	s := &PinStore{path: path, pins: map[string][]byte{}, pending: map[string]uint64{}, disk: map[string][]byte{}}
	pins, _, err := readPins(path)
	if err != nil {
		return nil, err
	}
	if pins != nil {
		s.pins, s.disk = pins, maps.Clone(pins)
	}
	return s, nil
}

// pinsHeader opens a pin file this store creates.
const pinsHeader = "# commission: TLS certificates trusted on first use (host:port sha256:HEX)"

// pinText is a pin file's lines as they are (without their newlines) and
// the host:port of each ("" for a blank line or a comment).
type pinText struct {
	lines, keys []string
}

// readPins reads and parses the pin file at path, returning its pins and
// its text; nil pins and text when there is no file. A malformed line is
// an error naming it.
func readPins(path string) (map[string][]byte, pinText, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, pinText{}, nil
	}
	if err != nil {
		return nil, pinText{}, fmt.Errorf("open pin file: %w", err)
	}
	defer f.Close()
	data, err := readLimited(f, maxPinFile)
	if err != nil {
		return nil, pinText{}, fmt.Errorf("read pin file %s: %w", path, err)
	}
	// Lines of any length (within maxPinFile): a scanner would stop at
	// its token limit, and a write would then drop the lines after it.
	var text pinText
	if len(data) > 0 {
		text.lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		text.keys = make([]string, len(text.lines))
	}
	pins := make(map[string][]byte, len(text.lines))
	for i, line := range text.lines {
		key, fp, ok := pinLine(line)
		if !ok {
			continue
		}
		if fp == "" {
			return nil, pinText{}, fmt.Errorf("pin file %s line %d: want \"host:port sha256:HEX\"", path, i+1)
		}
		sum, err := parseFingerprint(fp)
		if err != nil {
			return nil, pinText{}, fmt.Errorf("pin file %s line %d: %w", path, i+1, err)
		}
		pins[key], text.keys[i] = sum, key
	}
	return pins, text, nil
}

// pinLine splits a line of the pin file into its host:port and
// fingerprint; ok is false for a blank line or a comment, fp "" for a
// line of another shape.
func pinLine(line string) (key, fp string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	fields := strings.Fields(line)
	if len(fields) != 2 {
		return fields[0], "", true
	}
	return fields[0], fields[1], true
}

// mergePins is the pin file's text: text as read (empty for a new file)
// with the pins of changed put in: a line of a changed host:port is
// replaced where it stands (a second one of it dropped), the others are
// kept as they are, comments included, and the new host:ports follow in
// order.
func mergePins(text pinText, changed map[string][]byte) []byte {
	var b bytes.Buffer
	b.Grow(len(text.lines)*96 + len(changed)*96)
	if len(text.lines) == 0 {
		text = pinText{lines: []string{pinsHeader}, keys: []string{""}}
	}
	done := map[string]bool{}
	for i, line := range text.lines {
		if key := text.keys[i]; key != "" {
			if sum, mine := changed[key]; mine {
				if !done[key] {
					fmt.Fprintf(&b, "%s sha256:%s\n", key, hex.EncodeToString(sum))
					done[key] = true
				}
				continue
			}
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for _, key := range slices.Sorted(maps.Keys(changed)) {
		if !done[key] {
			fmt.Fprintf(&b, "%s sha256:%s\n", key, hex.EncodeToString(changed[key]))
		}
	}
	return b.Bytes()
}

// Path is the file the store writes.
func (s *PinStore) Path() string { return s.path }

// Lookup returns the pinned fingerprint ("SHA256:base64") for hostport.
func (s *PinStore) Lookup(hostport string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum, ok := s.pins[hostport]
	if !ok {
		return "", false
	}
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum), true
}

// Trust pins fingerprint (either form) for hostport, replacing any old
// pin, and writes the file atomically. A write that fails keeps no pin:
// hostport goes back to the pin (or none) the file held when this store
// last read or wrote it; but when a later write of this store carried
// the pin after all, Trust succeeds.
//
// Other processes may write the same file meanwhile (two wizards, an
// inventory and a wizard). Each write therefore takes an exclusive lock
// on a sibling lock file (the pin file's name + ".lock", left in place),
// reads the file as it is then and changes only the host:ports this store
// trusted since its last write; every other line stays as on disk, and
// the store takes the other processes' pins (and removals) from it, so
// Lookup sees them. When the disk holds a different pin for a host:port
// this store trusted, this store's Trust wins: it is the later decision,
// made by a technician who saw the certificate.
func (s *PinStore) Trust(hostport, fingerprint string) error {
	sum, err := parseFingerprint(fingerprint)
	if err != nil {
		return err
	}
	if hostport == "" || strings.ContainsAny(hostport, " \t\r\n") {
		return fmt.Errorf("trust %q: invalid host:port", hostport)
	}
	s.mu.Lock()
	s.pins[hostport] = sum
	s.version++
	mine := s.version
	s.pending[hostport] = mine
	s.mu.Unlock()
	err = s.flush(mine)
	if err == nil {
		return nil
	}
	// With no write running, either a later write carried this Trust
	// after all, or none did and the pin goes back to what the file
	// holds, unless a later Trust of hostport (with its own write to
	// come) replaced it.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.saved >= mine {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[hostport] == mine {
		if d, ok := s.disk[hostport]; ok {
			s.pins[hostport] = d
		} else {
			delete(s.pins, hostport)
		}
		delete(s.pending, hostport)
	}
	return err
}

// flush makes the file hold version v of this store's changes or a later
// one, merged into the file as it is on disk (see Trust). The pins are
// not locked while the file is written and synced, so other connections'
// checks go on, and Trusts made meanwhile (an inventory pins many devices
// at once) share the next write instead of one each.
func (s *PinStore) flush(v uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.saved >= v {
		return nil // a write that began after v was made holds it
	}
	s.mu.Lock()
	cur := s.version
	changed := make(map[string][]byte, len(s.pending))
	for k := range s.pending {
		changed[k] = s.pins[k]
	}
	s.mu.Unlock()

	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create pin directory: %w", err)
	}
	unlock, err := lockPins(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("lock pin file %s: %w", s.path, err)
	}
	defer unlock()
	onDisk, text, err := readPins(s.path)
	if err != nil {
		return fmt.Errorf("%w; the pin file was not rewritten", err)
	}
	merged := maps.Clone(onDisk)
	if merged == nil {
		merged = map[string][]byte{}
	}
	maps.Copy(merged, changed)
	data := mergePins(text, changed)
	if len(data) > maxPinFile {
		return fmt.Errorf("write pin file: %d bytes would exceed the limit of %d", len(data), maxPinFile)
	}
	if err := s.save(data); err != nil {
		return err
	}
	s.saved, s.disk = cur, merged

	s.mu.Lock()
	defer s.mu.Unlock()
	pins := maps.Clone(merged)
	for k, ver := range s.pending {
		if ver <= cur {
			delete(s.pending, k) // written, as changed[k]
		} else {
			pins[k] = s.pins[k] // trusted since: its own write is to come
		}
	}
	s.pins = pins
	return nil
}

// save writes data to a temporary file, syncs it and renames it over the
// old one. The caller holds the pin file's lock.
func (s *PinStore) save(data []byte) error {
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, ".known_devices-*")
	if err != nil {
		return fmt.Errorf("write pin file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write pin file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write pin file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write pin file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write pin file: %w", err)
	}
	return nil
}

// UnknownFingerprintError is a device whose certificate has no pin yet.
// The wizard shows the fingerprint with the certificate's details, asks
// the technician to compare it with the device and, on yes, calls Trust
// and retries.
type UnknownFingerprintError struct {
	HostPort    string
	Fingerprint string   // "SHA256:base64"
	Cert        CertInfo // the certificate shown, judged when it was seen
}

func (e *UnknownFingerprintError) Error() string {
	return fmt.Sprintf("%s shows a certificate seen for the first time (%s): compare it with the device before trusting it", e.HostPort, e.Fingerprint)
}

// UnknownFingerprint returns the device and the fingerprint to confirm.
func (e *UnknownFingerprintError) UnknownFingerprint() (hostport, fingerprint string) {
	return e.HostPort, e.Fingerprint
}

// CertificateLines describes the certificate for the trust screen: the
// fingerprint in both forms, expiry, signature, key, and any problem.
func (e *UnknownFingerprintError) CertificateLines() []string { return e.Cert.Lines() }

// CertificateProblems lists why the certificate is weak (expired, SHA-1,
// short key); empty for a sound one.
func (e *UnknownFingerprintError) CertificateProblems() []string { return e.Cert.Problems }

// FingerprintChangedError is a device whose certificate differs from the
// pinned one, or from the one the technician gave (--fingerprint): it may
// be an impostor.
type FingerprintChangedError struct {
	HostPort string
	Pinned   string // the pinned fingerprint, or the given one when Given
	Seen     string
	// Given says that Pinned is the fingerprint the technician gave, not
	// a pin from the known devices file.
	Given bool
	Cert  CertInfo // the certificate seen now
}

func (e *FingerprintChangedError) Error() string {
	if e.Given {
		return fmt.Sprintf("STOP: %s shows certificate %s, not the expected %s. "+
			"Someone may be impersonating the device (an impostor). Do not continue: check the fingerprint on the device itself", e.HostPort, e.Seen, e.Pinned)
	}
	return fmt.Sprintf("STOP: %s shows a different certificate than last time (pinned %s, seen %s). "+
		"Someone may be impersonating the device. Do not continue: check the device and its certificate in person; "+
		"only if it was replaced on purpose, remove its line from the known devices file", e.HostPort, e.Pinned, e.Seen)
}

// TrustChanged returns the device, the fingerprint it was trusted with
// and the one it shows now: the contract of the wizard's STOP screen.
func (e *FingerprintChangedError) TrustChanged() (subject, pinned, seen string) {
	return e.HostPort, e.Pinned, e.Seen
}

// Expect makes every pinned TLS check of host (any port; a host:port
// for that port only; "" for every host) also compare the certificate
// with fingerprint, which the technician read off the device: a
// different certificate fails with a *FingerprintChangedError whether or
// not a pin exists. The expectation lives in memory only. A matching
// certificate that has no pin yet is pinned there and then (the
// technician's fingerprint is the confirmation a first sight needs), so
// the connection goes on without a second attempt; NewPins lists it.
func (s *PinStore) Expect(host, fingerprint string) error {
	sum, err := parseFingerprint(fingerprint)
	if err != nil {
		return fmt.Errorf("expected fingerprint %q: %w", fingerprint, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expect == nil {
		s.expect = map[string][]byte{}
	}
	s.expect[host] = sum
	return nil
}

// NewPins returns, once, the pins made because a certificate matched an
// expectation: those of the given keys (a host:port, or a host for any of
// its ports), or all when none is given, so that a store shared by the
// audits of several devices reports each device's own.
func (s *PinStore) NewPins(keys ...string) []NewPin {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out, keep []NewPin
	for _, p := range s.added {
		host, _, _ := net.SplitHostPort(p.HostPort)
		if len(keys) == 0 || slices.Contains(keys, p.HostPort) || slices.Contains(keys, host) {
			out = append(out, p)
		} else {
			keep = append(keep, p)
		}
	}
	s.added = keep
	return out
}

// pinExpected pins seen for hostport and notes it for NewPins.
func (s *PinStore) pinExpected(hostport, seen string, cert CertInfo) error {
	if err := s.Trust(hostport, seen); err != nil {
		return fmt.Errorf("pin the expected certificate of %s: %w", hostport, err)
	}
	s.mu.Lock()
	s.added = append(s.added, NewPin{HostPort: hostport, Fingerprint: seen, Cert: cert})
	s.mu.Unlock()
	return nil
}

// expected returns the fingerprint expected for hostport, if any: the
// one given for that port, else for its host, else for every host.
func (s *PinStore) expected(hostport string) (string, bool) {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sum, ok := s.expect[hostport]
	if !ok {
		sum, ok = s.expect[host]
	}
	if !ok {
		sum, ok = s.expect[""]
	}
	if !ok {
		return "", false
	}
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum), true
}

// lookupFresh is Lookup and, when the store has no pin for hostport, a
// look at the file as it is on disk now: another commission process may
// have pinned the device since this store read the file, and its pin
// must be compared, not offered again as a first sight. A pin found so
// is kept, unless a Trust of this store's own waits for its write. A
// file that cannot be read counts as no pin; the next write says why.
func (s *PinStore) lookupFresh(hostport string) (string, bool) {
	if fp, ok := s.Lookup(hostport); ok {
		return fp, true
	}
	onDisk, _, err := readPins(s.path)
	if err != nil {
		return "", false
	}
	sum, ok := onDisk[hostport]
	if !ok {
		return "", false
	}
	s.mu.Lock()
	if _, mine := s.pending[hostport]; !mine {
		s.pins[hostport] = sum
	}
	s.mu.Unlock()
	return s.Lookup(hostport)
}

// PinnedTLS returns a TLS configuration that accepts the server only when
// its leaf certificate matches the pin for hostport and any fingerprint
// expected for its host (Expect). Device certificates are self-signed, so
// the chain is not verified; the pin is the trust.
func PinnedTLS(store *PinStore, hostport string) *tls.Config {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return &tls.Config{
		InsecureSkipVerify: true, // replaced by VerifyConnection's pin check
		ServerName:         host,
		MinVersion:         SessionMinTLS,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the device sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			seen := Fingerprint(leaf.Raw)
			if store == nil {
				return &UnknownFingerprintError{HostPort: hostport, Fingerprint: seen, Cert: DescribeCert(leaf, time.Now())}
			}
			if want, ok := store.expected(hostport); ok && want != seen {
				return &FingerprintChangedError{HostPort: hostport, Pinned: want, Seen: seen, Given: true, Cert: DescribeCert(leaf, time.Now())}
			}
			pinned, ok := store.lookupFresh(hostport)
			switch {
			case !ok:
				if _, exp := store.expected(hostport); exp { // and equal to seen: compared above
					return store.pinExpected(hostport, seen, DescribeCert(leaf, time.Now()))
				}
				return &UnknownFingerprintError{HostPort: hostport, Fingerprint: seen, Cert: DescribeCert(leaf, time.Now())}
			case pinned != seen:
				return &FingerprintChangedError{HostPort: hostport, Pinned: pinned, Seen: seen, Cert: DescribeCert(leaf, time.Now())}
			}
			return nil
		},
	}
}

// FingerprintFromHex converts a hex fingerprint (colons allowed, or
// "sha256:HEX") to the "SHA256:base64" form; "" when malformed.
func FingerprintFromHex(h string) string {
	sum, err := parseFingerprint(h)
	if err != nil || strings.HasPrefix(h, "SHA256:") {
		return ""
	}
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum)
}

// SameFingerprint reports whether a and b (in any accepted form) name
// the same certificate. Malformed fingerprints are never the same.
func SameFingerprint(a, b string) bool {
	x, err1 := parseFingerprint(a)
	y, err2 := parseFingerprint(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
