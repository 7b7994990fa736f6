package store

import (
	"math"
	"sync/atomic"
	"time"
)

// A shard owns a subset of the instances and is driven by one goroutine.

type ctlKind int

const (
	ctlTick       ctlKind = iota // wall-clock pass, then flush
	ctlCheckpoint                // flush, then snapshot
	ctlClose                     // finalize everything, flush, stop
	ctlQuery                     // run ctl.fn (reads only)
)

func (k ctlKind) String() string {
	return [...]string{"tick", "checkpoint", "close", "query"}[k]
}

type ctl struct {
	kind ctlKind
	done chan struct{}
	snap []snapInstance
	fn   func(s *shard) // ctlQuery
}

// msg is either a part of a batch or a control step; one channel keeps
// control steps ordered after the batches submitted before them.
type msg struct {
	p *part
	c *ctl
}

// outLimit bounds the final buckets an instance holds between flushes, and
// heldLimit those of a shard's instances together: an import runs through
// days of event time per wall second, over thousands of instances.
const (
	outLimit  = 4096
	heldLimit = 1 << 16
)

type shard struct {
	a    *Aggregator
	in   chan msg
	inst map[string]*instance

	records, late, unknown, future, staleE atomic.Uint64
	refused, reqDropped, timedOut          atomic.Uint64
	live                                   atomic.Int64
	// refusedKeys remembers instances refused since the last tick, so a
	// flood of records of refused instances costs a map look-up each, not
	// an admission (and its file check) each.
	refusedKeys map[string]struct{}
	peak        int       // most instances held since inst was last made
	held        int       // final buckets held by inst, not yet written
	pats        *patCache // URL patterns (nil: no URL statistics)
}

const maxRefusedKeys = 1 << 16

func (s *shard) run() {
	t := time.NewTicker(s.a.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case m := <-s.in:
			if m.p != nil {
				s.process(m.p)
				s.a.putPart(m.p)
				continue
			}
			s.handle(m.c)
			if m.c.kind == ctlClose {
				return
			}
		case <-t.C:
			s.tick()
		}
	}
}

func (s *shard) handle(c *ctl) {
	switch c.kind {
	case ctlTick:
		s.tick()
	case ctlCheckpoint:
		s.flush()
		c.snap = s.snapshot()
	case ctlClose:
		for _, in := range s.inst {
			n := len(in.out)
			in.finalize(in.end(), &s.a.tm)
			s.held += len(in.out) - n
		}
		s.flush()
		c.snap = s.snapshot()
	case ctlQuery:
		c.fn(s)
	}
	close(c.done)
}

func (s *shard) process(p *part) {
	now := s.a.opts.Now().UnixMicro()
	maxT := int64(math.MaxInt64)
	if s.a.opts.MaxFuture >= 0 {
		maxT = now + s.a.opts.MaxFuture.Microseconds()
	}
	tm := &s.a.tm
	var st recStats
	var in *instance
	lastKey := ^uint32(0)
	for i := range p.recs {
		e := &p.recs[i]
		if e.keyOff != lastKey || in == nil {
			in = s.inst[string(p.arena[e.keyOff:e.keyOff+e.keyLen])]
			lastKey = e.keyOff
		}
		t := e.time
		if e.repeat != 0 && in != nil {
			t = in.occurrence(t, int64(e.repeat)*1e6)
		}
		if t > maxT {
			st.future++
			continue
		}
		if in == nil {
			key := p.arena[e.keyOff : e.keyOff+e.keyLen]
			if in = s.create(key, t, now); in == nil {
				st.refused++
				continue
			}
		}
		in.wall = now
		in.req = p.arena[e.reqOff : e.reqOff+e.reqLen]
		n := len(in.out)
		in.apply(e.code, p.arena[e.ridOff:e.ridOff+e.ridLen], t, e.isErr, tm, &st)
		st.records++
		s.held += len(in.out) - n
		if len(in.out) >= outLimit {
			s.write(in)
		} else if s.held >= heldLimit {
			s.flush()
		}
	}
	s.records.Add(st.records)
	s.late.Add(st.late)
	s.unknown.Add(st.unknown)
	s.future.Add(st.future)
	s.staleE.Add(st.staleE)
	s.refused.Add(st.refused)
	s.reqDropped.Add(st.reqDropped)
	s.live.Store(int64(len(s.inst)))
}

// create makes the instance of an encoded key, unless the limits refuse
// it (nil).
func (s *shard) create(key []byte, t, now int64) *instance {
	if _, ok := s.refusedKeys[string(key)]; ok {
		return nil
	}
	k := decodeKey(key)
	if ok, reason := s.a.adm.admit(k, now); !ok {
		if s.refusedKeys == nil {
			s.refusedKeys = make(map[string]struct{})
		}
		if len(s.refusedKeys) < maxRefusedKeys {
			s.refusedKeys[string(key)] = struct{}{}
		}
		s.a.refuse(k, reason)
		return nil
	}
	in := newInstance(k, t, now)
	in.pats = s.pats
	s.inst[string(key)] = in
	s.peak = max(s.peak, len(s.inst))
	return in
}

// tick applies the wall-clock rules to every instance, hands final buckets
// to the Sink and forgets instances idle for idle_timeout.
func (s *shard) tick() {
	now := s.a.opts.Now().UnixMicro()
	s.refusedKeys = nil // not clear: a flood's map would keep its size
	for k, in := range s.inst {
		s.timedOut.Add(in.expire(&s.a.tm))
		n := len(in.out)
		forget := in.tick(now, &s.a.tm)
		s.held += len(in.out) - n
		s.write(in)
		if forget {
			delete(s.inst, k)
			s.a.adm.live.Add(-1)
		}
	}
	if s.peak > 64 && len(s.inst) < s.peak/4 {
		s.inst = Shrunk(s.inst) // Go maps never shrink: after a flood, let it go
		s.peak = len(s.inst)
	}
	s.live.Store(int64(len(s.inst)))
}

func (s *shard) flush() {
	for _, in := range s.inst {
		s.write(in)
	}
}

func (s *shard) write(in *instance) {
	if len(in.out) == 0 {
		return
	}
	if err := s.a.opts.Sink.WriteBuckets(in.key, in.out); err != nil {
		s.a.sinkError(in.key, len(in.out), err)
	} else {
		s.a.buckets.Add(uint64(len(in.out)))
	}
	s.held -= len(in.out)
	in.out = in.out[:0]
	in.arena = in.arena[:0]
	clear(in.urlOut) // drop the pattern strings
	in.urlOut = in.urlOut[:0]
	if cap(in.urlOut) > maxKeptURLs {
		in.urlOut = nil // a burst's capacity is not kept
	}
}
