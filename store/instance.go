package store

import (
	"slices"

	"graphmetrics/store/hist"
)

// Per-instance state: the RID state machine of SPEC §3 and the pending,
// not yet final, per-second buckets. An instance is owned by exactly one
// shard goroutine, so nothing here locks.

// RID phases. A RID that is absent from the map behaves like phaseEnded.
const (
	phaseBegan   uint8 = iota + 1 // B seen
	phaseWaiting                  // I seen, no C: counts in waiting
	phaseBusy                     // C seen, no A: counts in busy
	phaseApplied                  // A seen, no E
	phaseEnded                    // E seen (kept so a late A still finds its C)
)

// ridState is one request id's current request.
type ridState struct {
	Start int64 // µs of the B/I (or lone C) that opened this request
	C     int64 // µs of the C, 0 when none or already consumed by an A
	Run   int64 // µs of the C, kept after the A (hung levels)
	Done  int64 // µs the request stopped running (A, E, reopen); 0 while running
	Phase uint8
	Req   []byte // the B's "METHOD URL" (MaxRequestData at most); its buffer is reused
}

// pbucket is a pending second. Levels are kept as deltas so that records
// arriving slightly out of order land in their own second; the level at the
// end of a second is only computed when it becomes final.
type pbucket struct {
	requests, errors, appN, starts uint32
	appSum                         float64
	dWaiting, dBusy                int32
	app                            []uint16 // hist.Default bucket of each app time
	urls                           []urlHit // requests finished or hung (URL statistics; urls.go)
}

// timing holds the aggregator's time rules in the units the hot path uses.
type timing struct {
	lateness   int64 // µs
	hung       int64 // µs: running longer than this is hung
	idle       int64 // µs
	idleSec    int64 // whole seconds, at least 1
	maxReq     int   // requests an instance holds at most
	reqTimeout int64 // µs of event time without a record that ends a request
	noHist     bool  // no app-time histograms (benchmarks measure their cost)
	replay     bool  // AggOptions.Replay: no wall-clock rules
}

type instance struct {
	key Key
	// RIDs index slots: updating a known RID writes the slot, not the map
	// (a map write with a string(bytes) key allocates the key each time).
	rids  map[string]int32
	slots []ridState
	free  []int32
	pend  []pbucket // pend[i] is second final+i
	req   []byte    // the current record's B data (set by the shard before apply)
	// Newest time a request stopped running: seconds before it may still
	// have hung requests although none is running now.
	lastDone int64
	// Hung requests that vanished (S/X, a reopened RID) while seconds
	// they were hung in are still pending.
	ghosts []ghost
	out    []Bucket // final, not yet handed to the Sink
	final  int64    // every second < final is final (Unix s)
	newest int64    // newest record time (µs)
	wall   int64    // wall time of the last record (µs)
	// Levels at the end of second final-1.
	baseWaiting, baseBusy int32
	// waitSince is the newest record time (µs) when the backlog last rose
	// from 0; 0 while nothing waits (the overview's "backlog for a minute").
	waitSince int64
	// Arrival-order counts of RIDs in phaseWaiting / phaseBusy; they equal
	// the base levels plus every pending delta.
	nWaiting, nBusy int32
	// App times of pending seconds are kept as bucket indexes (a second
	// holds few requests; a dense histogram per second would cost more to
	// clear and encode than to fill). appFree recycles their slices; arena
	// holds the encoded histograms of out (Bucket.App points here until the
	// next write).
	appFree [][]uint16
	arena   []byte
	// URL statistics (urls.go): nil pats turns them off.
	pats    *patCache
	urlFree [][]urlHit
	urlOut  []URLStat // Bucket.URLs of out point here until the next write
	idx     []uint16  // scratch
}

func newInstance(k Key, t, wall int64) *instance {
	return &instance{
		key:    k,
		rids:   make(map[string]int32),
		final:  floorDiv(t, 1e6),
		newest: t,
		wall:   wall,
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// fillEnd is the first second that quiet-time filling never reaches: an
// instance silent for idle_timeout stops being written.
func (in *instance) fillEnd(tm *timing) int64 {
	return floorDiv(in.newest, 1e6) + tm.idleSec + 1
}

// finalize moves every second < upTo to out, creating zero buckets (levels
// carried) for seconds that saw no record.
func (in *instance) finalize(upTo int64, tm *timing) {
	n := upTo - in.final
	if n <= 0 {
		return
	}
	w, b := in.baseWaiting, in.baseBusy
	for i := int64(0); i < n; i++ {
		var hung int32
		if b > 0 || in.lastDone > (in.final+i)*1e6 {
			hung = in.hungAt((in.final+i+1)*1e6, tm.hung)
		}
		var pb pbucket
		if i < int64(len(in.pend)) {
			pb = in.pend[i]
		}
		w += pb.dWaiting
		b += pb.dBusy
		var app []byte
		if pb.app != nil {
			if len(pb.app) > 0 {
				k := len(in.arena)
				in.arena = hist.AppendEncodeIndexes(in.arena, pb.app)
				app = in.arena[k:len(in.arena):len(in.arena)]
			}
			in.appFree = append(in.appFree, pb.app[:0])
		}
		urls := in.urlStats(pb.urls)
		in.out = append(in.out, Bucket{
			Time:     in.final + i,
			Requests: pb.requests,
			Errors:   pb.errors,
			AppSum:   pb.appSum,
			AppN:     pb.appN,
			Waiting:  max(w, 0),
			Busy:     max(b, 0),
			Starts:   pb.starts,
			App:      app,
			Hung:     hung,
			URLs:     urls,
		})
	}
	in.baseWaiting, in.baseBusy = w, b
	in.ghosts = slices.DeleteFunc(in.ghosts, func(g ghost) bool { return g.done <= upTo*1e6 })
	if n >= int64(len(in.pend)) {
		in.pend = in.pend[:0]
	} else {
		k := copy(in.pend, in.pend[n:])
		in.pend = in.pend[:k]
	}
	in.final = upTo
}

// end is one past the last pending second.
func (in *instance) end() int64 { return in.final + int64(len(in.pend)) }

// restart finishes the instance's quiet period (filled up to idle_timeout)
// and starts over at t: after a silence that long the in-flight state is
// stale. The same happens on the wall-clock path (the instance is forgotten
// and recreated), so a replay and a live run write the same seconds.
func (in *instance) restart(t int64, tm *timing) {
	in.finalize(max(in.end(), in.fillEnd(tm)), tm)
	in.clearRIDs()
	in.pend = in.pend[:0]
	in.final = floorDiv(t, 1e6)
	in.newest = t
	in.baseWaiting, in.baseBusy, in.nWaiting, in.nBusy = 0, 0, 0, 0
	in.waitSince = 0
}

// occurrence chooses between the two instants of a wall time that occurs
// twice (the clocks were set back): first, or first+repeat (µs). The
// instance's time keeps moving forward: the first occurrence applies until
// the instance's newest record is past it, the second once the newest is
// nearer the second than the first. Records out of order by up to lateness
// (less than half the repeated span) thus keep their own hour, whichever it
// is; a record late by more than half an hour in the first hour is counted
// late instead of jumping an hour ahead, which would make the rest of that
// hour late. A new instance has no newest record and takes the first.
func (in *instance) occurrence(first, repeat int64) int64 {
	if in.newest-first > repeat/2 {
		return first + repeat
	}
	return first
}

// record counters the shard sums into the aggregator's stats.
type recStats struct {
	records, late, unknown, future, staleE uint64
	refused, reqDropped                    uint64
}

// apply runs one record through the state machine. isErr is precomputed
// from the A record's data by Batch.Add.
func (in *instance) apply(code byte, rid []byte, t int64, isErr bool, tm *timing, st *recStats) {
	s := floorDiv(t, 1e6)
	if s >= in.fillEnd(tm) {
		in.restart(t, tm)
	}
	if t > in.newest {
		in.newest = t
		if cut := floorDiv(t-tm.lateness, 1e6); cut > in.final {
			in.finalize(cut, tm)
		}
	}
	// A record for a final second is late: its counts are dropped, but its
	// effect on the RID state is kept (levels then change from the oldest
	// pending second on) so the backlog does not drift.
	var scratch pbucket
	b := &scratch
	if s < in.final {
		st.late++
	} else {
		i := s - in.final
		for int64(len(in.pend)) <= i {
			in.pend = append(in.pend, pbucket{})
		}
		b = &in.pend[i]
	}
	switch code {
	case 'B', 'I':
		in.open(code, rid, t, b, tm, st)
	case 'C':
		r := in.rid(rid)
		switch {
		case r != nil && (r.Phase == phaseBegan || r.Phase == phaseWaiting):
			if r.Phase == phaseWaiting {
				in.level(b, -1, 0)
			}
			r.Phase, r.C, r.Run, r.Done = phaseBusy, t, t, 0
			in.level(b, 0, 1)
		case r != nil && r.Phase == phaseBusy:
			// duplicate C: keep the first
		default:
			// C of a request whose B/I we never saw (log started mid-request).
			in.level(b, 0, 1)
			in.setRID(rid, ridState{Start: t, C: t, Run: t, Phase: phaseBusy}, b, tm, st)
		}
	case 'A':
		b.requests++
		if isErr {
			b.errors++
		}
		r := in.rid(rid)
		if r == nil {
			if in.pats != nil && b != &scratch {
				in.urlHit(b, nil, -1, isErr, false)
			}
			break
		}
		us := int64(-1)
		switch r.Phase {
		case phaseBegan:
		case phaseWaiting: // Zope 2 has no C: A leaves waiting directly
			in.level(b, -1, 0)
		case phaseBusy:
			in.level(b, 0, -1)
			in.stopped(r, t)
		}
		if r.C != 0 && (r.Phase == phaseBusy || r.Phase == phaseEnded) {
			b.appN++
			us = max(t-r.C, 0)
			sec := float64(us) / 1e6
			b.appSum += sec
			if b != &scratch && !tm.noHist {
				in.addApp(b, sec)
			}
			r.C = 0
		}
		if in.pats != nil && b != &scratch {
			in.urlHit(b, r, us, isErr, false)
		}
		if r.Phase != phaseEnded {
			r.Phase = phaseApplied
		}
	case 'E':
		r := in.rid(rid)
		if r == nil || r.Phase == phaseEnded {
			break
		}
		if t < r.Start {
			st.staleE++ // an older request's E, reordered after the new B/I
			break
		}
		in.abandon(r, b, t)
		r.Phase = phaseEnded
	case 'S', 'X':
		if code == 'S' {
			b.starts++
		}
		for _, i := range in.rids {
			if b != &scratch {
				in.hung(b, &in.slots[i])
			}
			in.vanish(&in.slots[i], t, tm)
		}
		in.level(b, -in.nWaiting, -in.nBusy)
		in.clearRIDs()
	case 'D', 'U', '-':
	default:
		st.unknown++
	}
	if s < in.final {
		in.baseWaiting += scratch.dWaiting
		in.baseBusy += scratch.dBusy
	}
}

// addApp notes an app time in a pending second, its slice taken from the
// free list.
func (in *instance) addApp(b *pbucket, sec float64) {
	if b.app == nil {
		if n := len(in.appFree); n > 0 {
			b.app = in.appFree[n-1]
			in.appFree = in.appFree[:n-1]
		}
	}
	b.app = append(b.app, uint16(hist.Default.Index(sec)))
}

// open handles B and I: a new B or I on an open RID reopens it, abandoning
// the old request; the I that follows its own B only moves it to waiting.
func (in *instance) open(code byte, rid []byte, t int64, b *pbucket, tm *timing, st *recStats) {
	r := in.rid(rid)
	if r != nil && code == 'I' && r.Phase == phaseBegan {
		r.Phase = phaseWaiting
		in.level(b, 1, 0)
		return
	}
	if r != nil {
		in.abandon(r, b, t)
		in.vanish(r, t, tm)
	}
	n := ridState{Start: t, Phase: phaseBegan}
	if code == 'I' {
		n.Phase = phaseWaiting
		in.level(b, 1, 0)
	}
	r = in.setRID(rid, n, b, tm, st)
	if code == 'B' {
		r.Req = append(r.Req, in.req...)
	}
}

// rid returns the RID's slot, nil when unknown. The pointer is valid until
// the next setRID.
func (in *instance) rid(id []byte) *ridState {
	if i, ok := in.rids[string(id)]; ok {
		return &in.slots[i]
	}
	return nil
}

// setRID stores r (its Req emptied, keeping the slot's buffer) and returns
// the slot, valid until the next setRID. A new RID at the instance's cap
// first makes room (limits.go).
func (in *instance) setRID(id []byte, r ridState, b *pbucket, tm *timing, st *recStats) *ridState {
	if i, ok := in.rids[string(id)]; ok {
		r.Req = in.slots[i].Req[:0]
		in.slots[i] = r
		return &in.slots[i]
	}
	if len(in.rids) >= tm.maxReq {
		in.makeRoom(b, tm, st)
	}
	return in.putRID(id, r)
}

// putRID adds a RID that is not in the map, reusing a free slot's buffer.
func (in *instance) putRID(id []byte, r ridState) *ridState {
	var i int32
	switch {
	case len(in.free) > 0:
		i = in.free[len(in.free)-1]
		in.free = in.free[:len(in.free)-1]
	case len(in.slots) < cap(in.slots):
		i = int32(len(in.slots))
		in.slots = in.slots[:i+1]
	default:
		i = int32(len(in.slots))
		in.slots = append(in.slots, ridState{})
	}
	in.rids[string(id)] = i
	r.Req = in.slots[i].Req[:0]
	in.slots[i] = r
	return &in.slots[i]
}

func (in *instance) clearRIDs() {
	clear(in.rids)
	in.slots, in.free = in.slots[:0], in.free[:0]
}

// abandon takes an open request out of the levels.
func (in *instance) abandon(r *ridState, b *pbucket, t int64) {
	switch r.Phase {
	case phaseWaiting:
		in.level(b, -1, 0)
	case phaseBusy:
		in.level(b, 0, -1)
		in.stopped(r, t)
	}
}

// stopped notes that a running request stopped at t.
func (in *instance) stopped(r *ridState, t int64) {
	r.Done = max(t, r.Run+1)
	in.lastDone = max(in.lastDone, r.Done)
}

// ghost is a request that was hung and vanished before its hung seconds
// were final.
type ghost struct{ run, done int64 }

// vanish keeps what the hung levels need of a request whose RID state is
// about to be dropped (S/X, a new request on its RID).
func (in *instance) vanish(r *ridState, t int64, tm *timing) {
	if r.Phase == phaseBusy {
		in.stopped(r, t)
	}
	if r.Run != 0 && r.Run+tm.hung < r.Done && r.Done > (in.final+1)*1e6 {
		in.ghosts = append(in.ghosts, ghost{r.Run, r.Done})
	}
}

// hungAt counts the requests that at time end (µs) had been running for
// hungAfter or longer.
func (in *instance) hungAt(end, hungAfter int64) int32 {
	var n int32
	for _, i := range in.rids {
		r := &in.slots[i]
		if r.Run != 0 && r.Run+hungAfter <= end && (r.Phase == phaseBusy || r.Done > end) {
			n++
		}
	}
	for _, g := range in.ghosts {
		if g.run+hungAfter <= end && g.done > end {
			n++
		}
	}
	return n
}

func (in *instance) level(b *pbucket, dw, db int32) {
	b.dWaiting += dw
	b.dBusy += db
	in.nWaiting += dw
	in.nBusy += db
	switch {
	case in.nWaiting <= 0:
		in.waitSince = 0
	case in.waitSince == 0:
		in.waitSince = in.newest
	}
}

// sweep forgets ended and applied RIDs once they dominate the map. They
// are kept in between so that reused RIDs do not allocate a map key per
// request.
func (in *instance) sweep(tm *timing) {
	if len(in.rids) <= 64 || int32(len(in.rids)) <= 2*(in.nWaiting+in.nBusy) {
		return
	}
	for k, i := range in.rids {
		// A hung request that stopped in a pending second still counts in
		// that second's hung level.
		r := &in.slots[i]
		if (r.Phase == phaseEnded || r.Phase == phaseApplied) && r.Done <= max((in.final+1)*1e6, r.Run+tm.hung) {
			delete(in.rids, k)
			in.free = append(in.free, i)
		}
	}
}

// tick applies the wall-clock rules (SPEC §10 "Time"): an instance quiet for
// lateness of wall time has everything pending finalized; if its event time
// tracked the wall clock when it was last heard from ("live"), its quiet
// seconds are also filled, following its own clock (its newest record plus
// the wall time since) so that a source whose clock lags is not cut off,
// and up to idle_timeout after its last record, exactly as a replay's
// restart fills them. Instances with old timestamps are never filled
// towards now. A replay (AggOptions.Replay) has no wall-clock rules. It
// reports whether the instance can be forgotten.
func (in *instance) tick(now int64, tm *timing) (forget bool) {
	in.sweep(tm)
	quiet := now - in.wall
	if tm.replay || quiet < tm.lateness {
		return false
	}
	forget = quiet >= tm.idle+tm.lateness
	target := in.end()
	if in.wall-in.newest <= tm.idle { // live when last heard from

		fill := floorDiv(in.newest+quiet-tm.lateness, 1e6)
		if forget {
			fill = in.fillEnd(tm) // the same seconds a replay's restart fills
		}
		target = max(target, min(fill, in.fillEnd(tm)))
	}
	in.finalize(target, tm)
	return forget
}
