package thingspro

import (
	"slices"
	"sync"
	"time"
)

// roundTrip measures the gateway's round trips: each TCP connect, and
// each answered API request from the moment it was written to its first
// reply byte (one round trip plus the gateway's own work). Waits that
// the driver derives from it grow when the laptop or the gateway is busy
// and shrink on a short path. Safe for concurrent use.
type roundTrip struct {
	mu   sync.Mutex
	best time.Duration
	last [16]time.Duration
	n    int
}

// observe records one measured round trip.
func (r *roundTrip) observe(d time.Duration) {
	if d <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.best == 0 || d < r.best {
		r.best = d
	}
	r.last[r.n%len(r.last)] = d
	r.n++
}

// get is the median of the recent round trips (robust to one that
// carried a TLS handshake or waited on a busy gateway), the shortest
// before quirks.RTTSamples of them, and 0 before any.
func (r *roundTrip) get() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(r.n, len(r.last))
	if n < quirks.RTTSamples {
		return r.best
	}
	ds := slices.Clone(r.last[:n])
	slices.Sort(ds)
	return ds[n/2]
}

// scaled is n times rtt, at least lo, at most hi.
func scaled(rtt time.Duration, n int, lo, hi time.Duration) time.Duration {
	return min(max(time.Duration(n)*rtt, lo), hi)
}
