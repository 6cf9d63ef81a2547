package transport

import (
	"crypto/tls"
	"crypto/x509"
	"sync"
)

// sessions is a client's TLS session cache, emptied when the client
// drops its connections. A resumed connection carries the certificate
// of the session it resumes, not the one the server has now; the pin
// check runs on it all the same, so a stale session is refused, never
// trusted. Emptying the cache wherever the connections are dropped
// (after a certificate change, at a restart) keeps it from being offered.
type sessions struct {
	mu sync.Mutex
	c  tls.ClientSessionCache
}

// sessionSlots bounds the cache: one device, a few server names.
const sessionSlots = 4

// clientTLS is the TLS configuration a client of ours dials with: a copy
// of cfg whose verified connections are noted in the returned watch
// (TLSSeen) and, with resume, that resumes sessions from the returned
// cache (Close forgets them). A nil cfg (plain HTTP) stays nil; the watch
// is never nil.
func clientTLS(cfg *tls.Config, resume bool) (*tls.Config, *tlsWatch, *sessions) {
	w := &tlsWatch{}
	cfg = watching(cfg, w)
	var ss *sessions
	if resume {
		cfg, ss = resuming(cfg)
	}
	return cfg, w, ss
}

// resuming returns a copy of cfg with a forgettable session cache, or
// cfg and nil when cfg is nil.
func resuming(cfg *tls.Config) (*tls.Config, *sessions) {
	if cfg == nil {
		return nil, nil
	}
	s := &sessions{c: tls.NewLRUClientSessionCache(sessionSlots)}
	cfg = cfg.Clone()
	cfg.ClientSessionCache = s
	return cfg, s
}

// Get implements tls.ClientSessionCache.
func (s *sessions) Get(key string) (*tls.ClientSessionState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.Get(key)
}

// Put implements tls.ClientSessionCache.
func (s *sessions) Put(key string, cs *tls.ClientSessionState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.Put(key, cs)
}

// forget drops every session; nil is a no-op.
func (s *sessions) forget() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.c = tls.NewLRUClientSessionCache(sessionSlots)
	s.mu.Unlock()
}

// TLSSeen is what a client's verified TLS connection showed of the
// server: the versions the client offered, the one the server chose and
// the server's leaf certificate. A TLS probe of the same port takes it
// SessionMinTLS is the oldest TLS version a driver's own connections
// offer (PinnedTLS): what they show settles nothing about older ones.
const SessionMinTLS = tls.VersionTLS12

// as observed (probe.TLSWith) instead of repeating the handshake.
type TLSSeen struct {
	Min, Max uint16 // the versions offered
	Version  uint16 // the version the server chose
	Leaf     *x509.Certificate
}

// Answers says what the connection settles about version v: accepted
// when it is the version chosen, refused when it was offered and is
// newer than the one chosen (a server picks the newest both sides have).
// ok is false for a version the connection says nothing of, and for a
// nil TLSSeen.
func (s *TLSSeen) Answers(v uint16) (accepted, ok bool) {
	if s == nil || s.Version == 0 || s.Leaf == nil {
		return false, false
	}
	switch {
	case v == s.Version:
		return true, true
	case v > s.Version && v >= s.Min && v <= s.Max:
		return false, true
	}
	return false, false
}

// tlsWatch keeps the TLSSeen of a client's last fully verified
// connection (a resumed one shows no new handshake).
type tlsWatch struct {
	mu   sync.Mutex
	seen TLSSeen
}

// watching returns a copy of cfg whose connections, once its own checks
// (the pin) accept them, are noted in w; nil for a nil cfg.
func watching(cfg *tls.Config, w *tlsWatch) *tls.Config {
	if cfg == nil {
		return nil
	}
	cfg = cfg.Clone()
	lo, hi := cfg.MinVersion, cfg.MaxVersion
	if lo == 0 {
		lo = tls.VersionTLS12 // crypto/tls's client default
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	verify := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if verify != nil {
			if err := verify(cs); err != nil {
				return err
			}
		}
		if !cs.DidResume && len(cs.PeerCertificates) > 0 {
			w.mu.Lock()
			w.seen = TLSSeen{Min: lo, Max: hi, Version: cs.Version, Leaf: cs.PeerCertificates[0]}
			w.mu.Unlock()
		}
		return nil
	}
	return cfg
}

// get returns the last TLSSeen; false before any verified connection.
func (w *tlsWatch) get() (TLSSeen, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen, w.seen.Version != 0
}
