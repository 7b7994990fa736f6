package kinesis

import (
	"sync/atomic"
)

// Stats are cumulative counters and current levels, for self-metrics.
type Stats struct {
	Records        uint64                 `json:"records"`         // good records handed to the Sink
	Bad            map[string]uint64      `json:"bad"`             // refused records by reason (every reason present)
	IteratorResets uint64                 `json:"iterator_resets"` // shard iterators re-created (expired, or after an error)
	Throttles      uint64                 `json:"throttles"`       // calls refused for throughput or rate limits
	Errors         uint64                 `json:"errors"`          // other failed API calls (network, server)
	SinkErrors     uint64                 `json:"sink_errors"`     // failed WriteMetric or Sync calls (batch retried)
	Checkpoints    uint64                 `json:"checkpoints"`     // checkpoint files written
	Streams        map[string]StreamStats `json:"streams"`
}

// StreamStats are one stream's share.
type StreamStats struct {
	Records  uint64 `json:"records"`
	Bad      uint64 `json:"bad"`
	LagMs    int64  `json:"lag_ms"`   // largest MillisBehindLatest of the shards being read
	Reading  int    `json:"reading"`  // shards being read now
	Finished int    `json:"finished"` // closed shards read to their end and still listed
	Waiting  int    `json:"waiting"`  // child shards waiting for their parents
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
