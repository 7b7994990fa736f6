// Package instmap holds per-instance write state that is forgotten when
// idle (issue 11: a flood of instances must not stay resident), for the
// stores that keep their truth in files and read an instance back when it
// returns (store/histstore, store/urlstore).
package instmap

import (
	"sync"
	"time"

	"graphmetrics/store"
)

// Lockable is an instance's state: the map forgets only one it can lock
// (one being written stays).
type Lockable interface {
	TryLock() bool
	Unlock()
}

type item[V Lockable] struct {
	v    V
	used time.Time
}

// Map maps keys to states. It is safe for concurrent use.
type Map[V Lockable] struct {
	mu     sync.Mutex
	m      map[store.Key]*item[V]
	forget time.Duration
	swept  time.Time
	make   func(store.Key) V
}

// New returns a Map that makes missing states with mk and forgets those
// not handed out for forget (0: never).
func New[V Lockable](forget time.Duration, mk func(store.Key) V) *Map[V] {
	return &Map[V]{m: map[store.Key]*item[V]{}, forget: forget, make: mk}
}

// Get returns k's state, made if missing, and forgets idle ones.
func (m *Map[V]) Get(k store.Key) V {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	m.forgetIdle(now)
	it := m.m[k]
	if it == nil {
		it = &item[V]{v: m.make(k)}
		m.m[k] = it
	}
	it.used = now
	return it.v
}

// Held forgets the idle states and returns how many stay in memory. The
// daemon calls it on a timer, so an idle flood is forgotten even when
// nothing more is written.
func (m *Map[V]) Held() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetIdle(time.Now())
	return len(m.m)
}

// forgetIdle drops states unused for forget, at most once a forget/4. One
// that is being written (its lock held) is kept. Each instance is written
// by one aggregator shard at a time, so a forgotten one still in a caller's
// hands finishes its write alone; the next write reads the files again.
func (m *Map[V]) forgetIdle(now time.Time) {
	if m.forget <= 0 || now.Sub(m.swept) < m.forget/4 {
		return
	}
	m.swept = now
	n := len(m.m)
	for k, it := range m.m {
		if now.Sub(it.used) < m.forget || !it.v.TryLock() {
			continue
		}
		delete(m.m, k)
		it.v.Unlock()
	}
	if len(m.m) < n/2 {
		m.m = store.Shrunk(m.m) // a map keeps its peak size
	}
}
