package transport

import (
	"crypto/tls"
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
