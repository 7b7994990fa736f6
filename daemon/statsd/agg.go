package statsd

import (
	"sync"
)

// timer holds one flush interval's samples of a timer.
type timer struct {
	vals  []float64
	count float64 // sum of 1/rate: the count statsd reports
}

// Agg is the statsd aggregation of etsy statsd 0.9 with its defaults
// (deleteIdleStats false): counters, timers and sets once seen are written
// at every flush (0 when idle), gauges keep their last value. Statsd and
// Metlog feed it; it is safe for concurrent use.
type Agg struct {
	mu       sync.Mutex
	counters map[string]float64
	timers   map[string]*timer
	gauges   map[string]float64
	sets     map[string]map[string]struct{}
	keys     int // entries over all four maps
	max      int

	// etsy's own counters and gauge (statsd.packets_received, ...)
	packets, metrics, badLines float64
	lastFlush                  int64
}

// NewAgg bounds the keys held (over all types) to max.
func NewAgg(max int) *Agg {
	return &Agg{counters: map[string]float64{}, timers: map[string]*timer{},
		gauges: map[string]float64{}, sets: map[string]map[string]struct{}{}, max: max}
}

// Lock and Unlock bracket a batch of Add calls.
func (a *Agg) Lock()   { a.mu.Lock() }
func (a *Agg) Unlock() { a.mu.Unlock() }

// Packet counts a received packet and its lines, good and bad, as etsy's
// statsd.packets_received, metrics_received and bad_lines_seen. Hold the
// lock.
func (a *Agg) Packet(lines, bad int) {
	a.packets++
	a.metrics += float64(lines)
	a.badLines += float64(bad)
}

// Add applies one sample of key; it returns false for a new key beyond the
// bound. Hold the lock.
func (a *Agg) Add(key []byte, s Sample) bool {
	switch s.Type {
	case Counter:
		v, ok := a.counters[string(key)]
		if !ok && !a.room() {
			return false
		}
		a.counters[string(key)] = v + s.Value*(1/s.Rate)
	case Timer:
		t := a.timers[string(key)]
		if t == nil {
			if !a.room() {
				return false
			}
			t = &timer{}
			a.timers[string(key)] = t
		}
		t.vals = append(t.vals, s.Value)
		t.count += 1 / s.Rate
	case Gauge:
		v, ok := a.gauges[string(key)]
		if !ok && !a.room() {
			return false
		}
		if s.Delta {
			v += s.Value
		} else {
			v = s.Value
		}
		a.gauges[string(key)] = v
	case Set:
		m := a.sets[string(key)]
		if m == nil {
			if !a.room() {
				return false
			}
			m = map[string]struct{}{}
			a.sets[string(key)] = m
		}
		if _, ok := m[string(s.Raw)]; !ok && len(m) < maxSetMembers {
			m[string(s.Raw)] = struct{}{}
		}
	}
	return true
}

// maxSetMembers bounds one set's distinct members per flush.
const maxSetMembers = 1 << 20

func (a *Agg) room() bool {
	if a.keys >= a.max {
		return false
	}
	a.keys++
	return true
}

// Keys is the number of keys held.
func (a *Agg) Keys() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys
}

// snapshot is one flush's data, taken under the lock.
type snapshot struct {
	counters map[string]float64
	timers   map[string]timer
	gauges   map[string]float64
	sets     map[string]int
}

// take copies what a flush writes and resets counters, timers and sets.
func (a *Agg) take(ts int64, interval float64) snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := snapshot{counters: make(map[string]float64, len(a.counters)+3), timers: make(map[string]timer, len(a.timers)),
		gauges: make(map[string]float64, len(a.gauges)+1), sets: make(map[string]int, len(a.sets))}
	for k, v := range a.counters {
		s.counters[k] = v
		a.counters[k] = 0
	}
	s.counters["statsd.packets_received"] = a.packets
	s.counters["statsd.metrics_received"] = a.metrics
	s.counters["statsd.bad_lines_seen"] = a.badLines
	a.packets, a.metrics, a.badLines = 0, 0, 0
	for k, t := range a.timers {
		s.timers[k] = *t
		a.timers[k] = &timer{vals: make([]float64, 0, len(t.vals))}
	}
	for k, v := range a.gauges {
		s.gauges[k] = v
	}
	if a.lastFlush > 0 {
		lag := float64(ts-a.lastFlush) - interval
		s.gauges["statsd.timestamp_lag"] = lag
	}
	a.lastFlush = ts
	for k, m := range a.sets {
		s.sets[k] = len(m)
		a.sets[k] = map[string]struct{}{}
	}
	return s
}
