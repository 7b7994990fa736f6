package web

import (
	"sync"
	"time"
)

// throttle slows down password guessing: after free failures for a key (an
// account or an address), each further attempt must wait twice as long as
// the one before, up to limit. Entries are forgotten once idle for twice
// the limit. State is in memory: a restart forgives, which is acceptable
// for a limit that is minutes long.
type throttle struct {
	free  int
	base  time.Duration
	limit time.Duration
	now   func() time.Time

	mu sync.Mutex
	m  map[string]*attempts
}

type attempts struct {
	fails int
	last  time.Time
}

const maxThrottleKeys = 100000

func newThrottle(free int, base, limit time.Duration, now func() time.Time) *throttle {
	return &throttle{free: free, base: base, limit: limit, now: now, m: map[string]*attempts{}}
}

func (t *throttle) delay(a *attempts) time.Duration {
	if a.fails < t.free {
		return 0
	}
	d := t.base << min(a.fails-t.free, 30)
	return min(d, t.limit)
}

// wait returns how long key must wait before its next attempt.
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.m[key]
	if a == nil {
		return 0
	}
	return max(a.last.Add(t.delay(a)).Sub(t.now()), 0)
}

// fail records a failed attempt.
func (t *throttle) fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a := t.m[key]
	if a == nil || now.Sub(a.last) > 2*t.limit {
		if len(t.m) >= maxThrottleKeys {
			t.forgetIdle(now)
		}
		a = &attempts{}
		t.m[key] = a
	}
	a.fails++
	a.last = now
}

// reset forgets key's failures (after a successful login).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *throttle) forgetIdle(now time.Time) {
	for k, a := range t.m {
		if now.Sub(a.last) > 2*t.limit {
			delete(t.m, k)
		}
	}
	if len(t.m) >= maxThrottleKeys {
		// Under a flood of distinct keys, keep memory bounded rather than
		// remember everyone.
		clear(t.m)
	}
}
