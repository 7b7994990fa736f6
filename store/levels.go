package store

import (
	"context"
	"errors"
)

// Level is an instance's state now, as the web overview shows it: the
// levels of SPEC §3 after every record received, and when it was last
// heard from.
type Level struct {
	Key
	Waiting, Busy int32
	Hung          int32 // running longer than [tracelog] hung_after, now
	// WaitingSince is the record time (µs) at which the backlog last rose
	// from 0, or 0 when nothing waits.
	WaitingSince int64
	Newest       int64 // newest record time (µs)
	Wall         int64 // wall-clock time (µs) the last record arrived
}

// Levels reports every tracked instance, after every batch submitted
// before the call. It costs one message per shard, not a lock on the hot
// path.
func (a *Aggregator) Levels(ctx context.Context) ([]Level, error) {
	if a.isClosed() {
		return nil, errors.New("aggregator: levels after close")
	}
	per := make([][]Level, len(a.shards))
	if _, err := a.control(ctx, ctlQuery, func(i int, s *shard) { per[i] = s.levels() }); err != nil {
		return nil, err
	}
	var out []Level
	for _, l := range per {
		out = append(out, l...)
	}
	return out, nil
}

func (s *shard) levels() []Level {
	now, tm := s.a.opts.Now().UnixMicro(), &s.a.tm
	out := make([]Level, 0, len(s.inst))
	for _, in := range s.inst {
		out = append(out, Level{Key: in.key, Waiting: max(in.nWaiting, 0), Busy: max(in.nBusy, 0),
			Hung: in.hungAt(in.clock(now, tm), tm.hung), WaitingSince: in.waitSince, Newest: in.newest, Wall: in.wall})
	}
	return out
}
