package kinesis

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are cumulative counters and current levels, for self-metrics.
type Stats struct {
	Records        uint64            // good records handed to the Sink
	Bad            map[string]uint64 // refused records by reason (every reason present)
	IteratorResets uint64            // shard iterators re-created (expired, or after an error)
	Throttles      uint64            // calls refused for throughput or rate limits
	Errors         uint64            // other failed API calls (network, server)
	SinkErrors     uint64            // failed WriteMetric or Sync calls (batch retried)
	Checkpoints    uint64            // checkpoint files written
	Streams        map[string]StreamStats
}

// StreamStats are one stream's share.
type StreamStats struct {
	Records  uint64
	Bad      uint64
	LagMs    int64 // largest MillisBehindLatest of the shards being read
	Reading  int   // shards being read now
	Finished int   // closed shards read to their end and still listed
	Waiting  int   // child shards waiting for their parents
}

type counters struct {
	records, resets, throttles, errors, sinkErrors, checkpoints atomic.Uint64
	bad                                                         [len(BadReasons)]atomic.Uint64
}

func badIndex(reason string) int {
	for i, r := range BadReasons {
		if r == reason {
			return i
		}
	}
	panic("kinesis: unknown bad-record reason " + reason)
}

// Stats returns a snapshot of the counters.
func (c *Consumer) Stats() Stats {
	st := Stats{
		Records:        c.stats.records.Load(),
		IteratorResets: c.stats.resets.Load(),
		Throttles:      c.stats.throttles.Load(),
		Errors:         c.stats.errors.Load(),
		SinkErrors:     c.stats.sinkErrors.Load(),
		Checkpoints:    c.stats.checkpoints.Load(),
		Bad:            make(map[string]uint64, len(BadReasons)),
		Streams:        make(map[string]StreamStats, len(c.streams)),
	}
	for i, r := range BadReasons {
		st.Bad[r] = c.stats.bad[i].Load()
	}
	for _, s := range c.streams {
		st.Streams[s.cfg.Name] = s.stats()
	}
	return st
}

// limiter lets one log line per key through per period and counts the
// rest, so a stream full of bad records does not flood the log.
type limiter struct {
	period time.Duration
	now    func() time.Time
	mu     sync.Mutex
	last   map[string]time.Time
	quiet  map[string]uint64
}

func newLimiter(period time.Duration, now func() time.Time) *limiter {
	return &limiter{period: period, now: now, last: map[string]time.Time{}, quiet: map[string]uint64{}}
}

// allow reports whether to log key now, and how many were suppressed since
// the last line.
func (l *limiter) allow(key string) (bool, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if last, ok := l.last[key]; ok && now.Sub(last) < l.period {
		l.quiet[key]++
		return false, 0
	}
	n := l.quiet[key]
	l.last[key], l.quiet[key] = now, 0
	return true, n
}
