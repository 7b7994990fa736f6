// Package loglimit rate-limits repeated log lines: the one way every part
// of graphmetrics (listeners, tail, Kinesis, the RRD writer, the web UI)
// logs what can repeat at the speed of its input. It imports nothing of
// graphmetrics.
package loglimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultEvery is how often a Limiter lets one reason through when
// constructed with 0.
const DefaultEvery = 10 * time.Second

// maxReasons bounds the reasons remembered: past it, those not suppressing
// anything are forgotten, and if that is not enough, all are.
const maxReasons = 10000

// Limiter rate-limits repeated log lines per reason: at most one line per
// reason per interval, the next one carrying how many were suppressed in
// between. Bad input arrives at network speed, and a log line per bad
// message would turn a misbehaving sender into a disk-filling one.
//
// A Limiter is safe for concurrent use. A nil *Limiter lets every line
// through, which keeps callers simple in tests.
type Limiter struct {
	every time.Duration
	now   func() time.Time // replaced in tests

	mu      sync.Mutex
	reasons map[string]*logReason
}

type logReason struct {
	next       time.Time
	suppressed uint64
}

// New returns a limiter that lets one line per reason through every
// interval (DefaultEvery if every <= 0), on the clock now (time.Now if nil).
func New(every time.Duration, now func() time.Time) *Limiter {
	if every <= 0 {
		every = DefaultEvery
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: every, now: now, reasons: make(map[string]*logReason)}
}

// Allow reports whether a line for reason may be logged now and, if so, how
// many lines for it were suppressed since the last one allowed. A reason is
// remembered while lines for it are being suppressed; of very many distinct
// reasons (more than 10,000) the older ones may be forgotten, their next line
// then let through.
func (ll *Limiter) Allow(reason string) (ok bool, suppressed uint64) {
	if ll == nil {
		return true, 0
	}
	now := ll.now()
	ll.mu.Lock()
	defer ll.mu.Unlock()
	r := ll.reasons[reason]
	if r == nil {
		if len(ll.reasons) >= maxReasons {
			ll.forget(now)
		}
		r = &logReason{}
		ll.reasons[reason] = r
	}
	if now.Before(r.next) {
		r.suppressed++
		return false, 0
	}
	r.next = now.Add(ll.every)
	suppressed, r.suppressed = r.suppressed, 0
	return true, suppressed
}

// Log writes msg at Warn level to log unless reason was logged less than an
// interval ago; a "suppressed" attribute counts the lines left out since.
func (ll *Limiter) Log(log *slog.Logger, reason, msg string, args ...any) {
	ll.LogLevel(log, slog.LevelWarn, reason, msg, args...)
}

// LogLevel is Log at the given level.
func (ll *Limiter) LogLevel(log *slog.Logger, level slog.Level, reason, msg string, args ...any) {
	if log == nil || !log.Enabled(context.Background(), level) {
		return
	}
	ok, suppressed := ll.Allow(reason)
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args[:len(args):len(args)], slog.Uint64("suppressed", suppressed))
	}
	log.Log(context.Background(), level, msg, args...)
}

// forget drops the reasons whose interval is over and that suppressed
// nothing since (a later line is let through anyway); under a flood of
// distinct reasons, all of them.
func (ll *Limiter) forget(now time.Time) {
	for k, r := range ll.reasons {
		if !now.Before(r.next) && r.suppressed == 0 {
			delete(ll.reasons, k)
		}
	}
	if len(ll.reasons) >= maxReasons {
		clear(ll.reasons)
	}
}
