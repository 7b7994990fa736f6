package store

import (
	"bytes"
	"cmp"
	"context"
	"hash/maphash"
	"slices"
)

// The live view (issue 12): the requests in flight of an instance, read
// from the shard that owns it by a control step, so the hot path takes no
// lock.

// Request states of the live view.
const (
	StateInput   = "input"   // B seen
	StateWaiting = "waiting" // I seen: waiting for an application thread
	StateRunning = "running" // C seen: in the application
	StateOutput  = "output"  // A seen: the response is being sent
)

// InFlight is one request in flight.
type InFlight struct {
	RID     string
	Method  string
	URL     string // as sent (query included), at most MaxRequestData bytes
	State   string
	Started int64 // µs, the B/I (or lone C) time on the instance's clock
	Running int64 // µs of the C; 0 when the request has not run
}

// LiveInstance is the live view of one instance.
type LiveInstance struct {
	Key Key
	// Found is false when the aggregator does not track the instance
	// (never heard from, or idle for idle_timeout).
	Found bool
	// Now is the instance's clock (µs): its newest record's time, plus
	// the wall time since that record arrived while the instance is live.
	Now      int64
	Requests []InFlight // oldest first
}

// Live returns the requests in flight of each key, in the order of keys.
// It runs after every batch already submitted.
func (a *Aggregator) Live(ctx context.Context, keys []Key) ([]LiveInstance, error) {
	out := make([]LiveInstance, len(keys))
	per := make([][]int, len(a.shards)) // indices of keys by shard
	for i, k := range keys {
		out[i].Key = k
		sh := maphash.Bytes(a.seed, encodeKey(k)) % uint64(len(a.shards))
		per[sh] = append(per[sh], i)
	}
	query := func(s *shard, idx []int) {
		now := s.a.opts.Now().UnixMicro()
		for _, i := range idx {
			if in := s.inst[string(encodeKey(keys[i]))]; in != nil {
				out[i] = in.live(now, &s.a.tm)
			}
		}
	}
	if a.isClosed() {
		return out, nil
	}
	_, err := a.control(ctx, ctlQuery, func(i int, s *shard) { query(s, per[i]) })
	return out, err
}

// live lists the instance's requests in flight, oldest first.
func (in *instance) live(now int64, tm *timing) LiveInstance {
	li := LiveInstance{Key: in.key, Found: true, Now: in.clock(now, tm)}
	for id, i := range in.rids {
		r := &in.slots[i]
		var st string
		switch r.Phase {
		case phaseBegan:
			st = StateInput
		case phaseWaiting:
			st = StateWaiting
		case phaseBusy:
			st = StateRunning
		case phaseApplied:
			st = StateOutput
		default:
			continue
		}
		method, url, _ := bytes.Cut(r.Req, []byte{' '})
		li.Requests = append(li.Requests, InFlight{
			RID: id, Method: string(method), URL: string(url), State: st,
			Started: r.Start, Running: r.Run,
		})
	}
	slices.SortFunc(li.Requests, func(a, b InFlight) int {
		if a.Started != b.Started {
			return cmp.Compare(a.Started, b.Started)
		}
		return cmp.Compare(a.RID, b.RID)
	})
	return li
}

// clock is the instance's time at wall time now (µs): its newest record
// plus the wall time since that record arrived, while the instance is
// live (its records track the wall clock); its newest record otherwise.
func (in *instance) clock(now int64, tm *timing) int64 {
	if in.wall-in.newest <= tm.idle && now > in.wall {
		return in.newest + now - in.wall
	}
	return in.newest
}
