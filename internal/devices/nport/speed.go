package nport

import (
	"slices"
	"sync"
	"time"
)

// Waits derived from the device's measured round trip. A request the
// device does not answer (an SNMP get with a changed community, a login
// while it restarts) is given a multiple of the round trip of the
// requests it did answer, bounded below so that a busy laptop does not
// miss a slow answer, and above by the configured timeout.
const (
	// snmpWaitRTTs times the round trip is how long an SNMP get may stay
	// unanswered before the community is judged not accepted.
	snmpWaitRTTs = 20
	minSNMPWait  = 100 * time.Millisecond
	// minSamples round trips are needed before a wait is derived from
	// them (the first ones carry connection set-up).
	minSamples = 3
	// pollRTTs times the round trip is the restart poll interval.
	pollRTTs     = 10
	minPollEvery = 10 * time.Millisecond
	maxPollEvery = 500 * time.Millisecond
	// dialRTTs times the round trip bounds the connect that tells whether
	// a restarting device listens again, before a full login is tried.
	dialRTTs   = 8
	minDialFor = 50 * time.Millisecond
)

// roundTrip measures the round trips to the device: HTTP exchanges,
// UDP 4800 and SNMP answers. best is the shortest (the path's own); the
// recent is the longest of the last few, so that a wait derived from it
// grows when the laptop or the device is busy. Safe for concurrent use.
type roundTrip struct {
	mu    sync.Mutex
	best  time.Duration
	last  [16]time.Duration
	n     int
	once  sync.Once
	ready chan struct{} // closed at the first measure
}

func newRoundTrip() *roundTrip { return &roundTrip{ready: make(chan struct{})} }

// observe records one answered exchange that took d.
func (r *roundTrip) observe(d time.Duration) {
	if r == nil || d <= 0 {
		return
	}
	r.mu.Lock()
	if r.best == 0 || d < r.best {
		r.best = d
	}
	r.last[r.n%len(r.last)] = d
	r.n++
	r.mu.Unlock()
	r.once.Do(func() { close(r.ready) })
}

// get returns the shortest round trip, 0 before any.
func (r *roundTrip) get() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.best
}

// recent returns the median of the last round trips (robust to one
// carrying a TLS handshake), 0 before minSamples of them.
func (r *roundTrip) recent() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(r.n, len(r.last))
	if n < minSamples {
		return 0
	}
	ds := slices.Clone(r.last[:n])
	slices.Sort(ds)
	return ds[n/2]
}

// scaled is n times the round trip rtt, at least lo, at most hi.
func scaled(rtt time.Duration, n int, lo, hi time.Duration) time.Duration {
	return min(max(time.Duration(n)*rtt, lo), hi)
}

// snmpWait is how long an SNMP get may go unanswered, for round trip rtt.
func snmpWait(rtt, timeout time.Duration) time.Duration {
	return scaled(rtt, snmpWaitRTTs, minSNMPWait, timeout)
}

// pollEvery is the restart poll interval for round trip rtt (0: not
// measured, the timeout's sixth).
func pollEvery(rtt, timeout time.Duration) time.Duration {
	if rtt <= 0 {
		return min(timeout/6, maxPollEvery)
	}
	return scaled(rtt, pollRTTs, minPollEvery, min(timeout/6, maxPollEvery))
}

// dialFor bounds the listening check of a restarting device.
func dialFor(rtt, timeout time.Duration) time.Duration {
	if rtt <= 0 {
		return timeout
	}
	return scaled(rtt, dialRTTs, minDialFor, timeout)
}
