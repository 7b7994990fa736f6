package store

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Limits against hostile and runaway senders (issue 11): how many
// instances an input may track and create, and how many requests one
// instance may hold. Everything here runs off the hot path: admission only
// when a record names an instance the shard does not track, eviction only
// when an instance is at its request cap, expiry once per tick.

// Defaults of the limits (SPEC §7 [tracelog], issue 11).
const (
	DefaultMaxInstances          = 10000
	DefaultNewInstancesPerMinute = 600
	DefaultMaxRequests           = 10000
	DefaultRequestTimeout        = time.Hour
	DefaultMaxFuture             = 5 * time.Minute
)

// admission decides whether a record may create an instance. It is shared
// by the shards; its lock is taken only for instances not yet tracked.
type admission struct {
	maxLive, perMinute int64
	known              func(Key) bool

	live atomic.Int64 // instances tracked over all shards

	mu      sync.Mutex
	minute  int64 // the minute (Unix) the count is of
	created int64 // new instances admitted in that minute

	lastLog    atomic.Int64 // Unix s of the last "refused" line
	suppressed atomic.Uint64
}

// admit reports whether the instance k, not tracked by any shard, may be
// created now (wall, µs). Instances that already have files ("known") are
// always admitted: the limits hold across a restart without touching them.
// An admitted instance is counted in live at once, under the lock, so shards
// admitting at the same time cannot pass max_instances together.
func (ad *admission) admit(k Key, wall int64) (ok bool, reason string) {
	if ad.known != nil && ad.known(k) {
		ad.live.Add(1)
		return true, ""
	}
	ad.mu.Lock()
	defer ad.mu.Unlock()
	if ad.live.Load() >= ad.maxLive {
		return false, "max_instances"
	}
	if m := floorDiv(wall, 60e6); m != ad.minute {
		ad.minute, ad.created = m, 0
	}
	if ad.created >= ad.perMinute {
		return false, "new_instances_per_minute"
	}
	ad.created++
	ad.live.Add(1)
	return true, ""
}

// refuse counts and logs (at most once every 10 s) a record dropped
// because its instance could not be created.
func (a *Aggregator) refuse(k Key, reason string) {
	now := time.Now().Unix()
	last := a.adm.lastLog.Load()
	if now-last < 10 || !a.adm.lastLog.CompareAndSwap(last, now) {
		a.adm.suppressed.Add(1)
		return
	}
	a.opts.Logger.Warn("new instance refused: its records are dropped", "limit", reason,
		"host", k.Host, "customer", k.Customer, "instance", k.Instance,
		"max_instances", a.adm.maxLive, "new_instances_per_minute", a.adm.perMinute,
		"suppressed", a.adm.suppressed.Swap(0))
}

// levelAt changes the levels from second s on: in its pending bucket, or
// in the base levels when s is already final.
func (in *instance) levelAt(s int64, dw, db int32) {
	if s < in.final {
		in.baseWaiting += dw
		in.baseBusy += db
		in.nWaiting += dw
		in.nBusy += db
		return
	}
	i := s - in.final
	for int64(len(in.pend)) <= i {
		in.pend = append(in.pend, pbucket{})
	}
	in.level(&in.pend[i], dw, db)
}

// lastSeen is the event time of a request's last record we still know.
func (r *ridState) lastSeen() int64 { return max(r.Start, r.C) }

// forget removes one RID, taking an open request out of the levels
// through b.
func (in *instance) forget(k string, i int32, b *pbucket) {
	in.abandon(&in.slots[i], b, in.newest)
	in.slots[i] = ridState{Req: in.slots[i].Req[:0]}
	delete(in.rids, k)
	in.free = append(in.free, i)
}

// makeRoom is called before a new RID is added to an instance at its cap:
// finished requests go first, then the oldest open ones, down to 7/8 of
// the cap so that a flood pays for the sort once per cap/8 requests.
func (in *instance) makeRoom(b *pbucket, tm *timing, st *recStats) {
	for k, i := range in.rids {
		if p := in.slots[i].Phase; p == phaseEnded || p == phaseApplied {
			in.forget(k, i, b)
		}
	}
	if len(in.rids) < tm.maxReq {
		return
	}
	type aged struct {
		t int64
		k string
	}
	all := make([]aged, 0, len(in.rids))
	for k, i := range in.rids {
		all = append(all, aged{in.slots[i].lastSeen(), k})
	}
	slices.SortFunc(all, func(x, y aged) int { return cmp.Compare(x.t, y.t) })
	for _, o := range all[:len(all)-tm.maxReq*7/8] {
		in.forget(o.k, in.rids[o.k], b)
		st.reqDropped++
	}
}

// expire drops requests that had no record for request_timeout of the
// instance's event time: waiting and busy stop counting them from its
// newest second on.
func (in *instance) expire(tm *timing) (n uint64) {
	if len(in.rids) == 0 {
		return 0
	}
	cut := in.newest - tm.reqTimeout
	var scratch pbucket
	for k, i := range in.rids {
		r := &in.slots[i]
		if r.lastSeen() >= cut {
			continue
		}
		if r.Phase != phaseEnded && r.Phase != phaseApplied {
			n++
			in.hungAtNewest(r)
		}
		in.forget(k, i, &scratch)
	}
	if scratch.dWaiting != 0 || scratch.dBusy != 0 {
		// forget already moved the arrival-order counts; only the
		// per-second deltas are left to place.
		in.nWaiting -= scratch.dWaiting
		in.nBusy -= scratch.dBusy
		in.levelAt(floorDiv(in.newest, 1e6), scratch.dWaiting, scratch.dBusy)
	}
	return n
}

// Shrunk copies a map into one sized for what it holds: Go maps never
// shrink, and maps.Clone keeps the old size. For maps a flood grew.
func Shrunk[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
