package listen

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultLogEvery is how often a LogLimiter lets one reason through when
// constructed with 0.
const DefaultLogEvery = 10 * time.Second

// LogLimiter rate-limits repeated log lines per reason: at most one line per
// reason per interval, the next one carrying how many were suppressed in
// between. Bad input arrives at network speed, and a log line per bad
// message would turn a misbehaving sender into a disk-filling one.
//
// A LogLimiter is safe for concurrent use. A nil *LogLimiter lets every line
// through, which keeps callers simple in tests.
type LogLimiter struct {
	every time.Duration
	now   func() time.Time // replaced in tests

	mu      sync.Mutex
	reasons map[string]*logReason
}

type logReason struct {
	next       time.Time
	suppressed uint64
}

// NewLogLimiter returns a limiter that lets one line per reason through every
// interval (DefaultLogEvery if interval <= 0).
func NewLogLimiter(every time.Duration) *LogLimiter {
	if every <= 0 {
		every = DefaultLogEvery
	}
	return &LogLimiter{every: every, now: time.Now, reasons: make(map[string]*logReason)}
}

// Allow reports whether a line for reason may be logged now and, if so, how
// many lines for it were suppressed since the last one allowed. The number of
// distinct reasons should be small and fixed: each is remembered forever.
func (ll *LogLimiter) Allow(reason string) (ok bool, suppressed uint64) {
	if ll == nil {
		return true, 0
	}
	now := ll.now()
	ll.mu.Lock()
	defer ll.mu.Unlock()
	r := ll.reasons[reason]
	if r == nil {
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
func (ll *LogLimiter) Log(log *slog.Logger, reason, msg string, args ...any) {
	ll.LogLevel(log, slog.LevelWarn, reason, msg, args...)
}

// LogLevel is Log at the given level.
func (ll *LogLimiter) LogLevel(log *slog.Logger, level slog.Level, reason, msg string, args ...any) {
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
