package web

import (
	"sync"
	"time"
)

// pacer slows the guessing of one account from many addresses without
// locking its owner out. Once an account has had free failures (from
// anywhere, forgotten after window without one), every password check of
// it gets a turn: turns are spacing apart, and an attempt waits for its
// turn instead of being refused, so the right password from any address
// still gets in, a little later. Waiting is bounded: an address holds at
// most one turn, and turns are handed out at most maxWait ahead; past that
// the attempt is refused for a few seconds (never minutes). Failures from
// a single address are the throttles' business (pair and address), which
// refuse only that address.
type pacer struct {
	free                     int
	window, spacing, maxWait time.Duration
	now                      func() time.Time

	mu sync.Mutex
	m  map[string]*paced
}

type paced struct {
	fails   int
	last    time.Time       // last failure
	next    time.Time       // earliest start of the next check
	holding map[string]bool // addresses with a turn handed out
}

func newPacer(free int, window, spacing, maxWait time.Duration) *pacer {
	return &pacer{free: free, window: window, spacing: spacing, maxWait: maxWait, now: time.Now, m: map[string]*paced{}}
}

// turn returns how long an attempt on acct from addr must wait before its
// password is checked, and release, to call once it has been. ok is false
// when the attempt is refused; then wait says when to come back.
func (p *pacer) turn(acct, addr string) (wait time.Duration, release func(), ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	st := p.m[acct]
	if st == nil || st.fails < p.free || now.Sub(st.last) > p.window {
		return 0, func() {}, true
	}
	slot := now
	if st.next.After(now) {
		slot = st.next
	}
	if wait = slot.Sub(now); st.holding[addr] || wait > p.maxWait {
		return min(max(wait-p.maxWait, p.spacing), p.maxWait), nil, false
	}
	st.next = slot.Add(p.spacing)
	st.holding[addr] = true
	return wait, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(st.holding, addr)
	}, true
}

// fail records a wrong password for acct.
func (p *pacer) fail(acct string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	st := p.m[acct]
	if st == nil || (now.Sub(st.last) > p.window && len(st.holding) == 0) {
		if len(p.m) >= maxThrottleKeys {
			p.forgetIdle(now)
		}
		st = &paced{holding: map[string]bool{}}
		p.m[acct] = st
	}
	st.fails++
	st.last = now
}

func (p *pacer) forgetIdle(now time.Time) {
	for k, st := range p.m {
		if now.Sub(st.last) > p.window && len(st.holding) == 0 {
			delete(p.m, k)
		}
	}
	if len(p.m) >= maxThrottleKeys {
		// A flood of distinct names: stay bounded rather than remember
		// everyone (turns already handed out keep their own state).
		clear(p.m)
	}
}
