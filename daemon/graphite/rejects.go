package graphite

import "sync/atomic"

// Rejects counts refused input by reason; the reasons are fixed at New so
// counting takes no lock. Other metric inputs (statsd, Metlog) use it too.
type Rejects struct {
	m map[string]*atomic.Uint64
}

// NewRejects makes a counter for each reason.
func NewRejects(reasons ...string) *Rejects {
	r := &Rejects{m: make(map[string]*atomic.Uint64, len(reasons))}
	for _, s := range reasons {
		r.m[s] = new(atomic.Uint64)
	}
	return r
}

// Add counts one rejection; an unknown reason panics (a bug).
func (r *Rejects) Add(reason string) { r.m[reason].Add(1) }

// Snapshot returns every reason's count.
func (r *Rejects) Snapshot() map[string]uint64 {
	out := make(map[string]uint64, len(r.m))
	for k, v := range r.m {
		out[k] = v.Load()
	}
	return out
}
