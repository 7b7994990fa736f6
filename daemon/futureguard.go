package main

import (
	"bytes"

	"graphmetrics/parser"
	"graphmetrics/store"
)

// futureGuard is max_future for an import (issue 11), which has no wall
// clock to go by: a record more than max ahead of the newest record
// accepted so far from the import's files is held, and refused (counted
// as future) unless a later record confirms its time, i.e. is not more
// than max older than it. A real gap in the logs (a night without
// requests) is confirmed by the records after it; one line with a wild
// timestamp is not, so it cannot poison an instance. The first record is
// held too, until a second one confirms it. One goroutine uses a guard.
type futureGuard struct {
	max    int64 // µs
	newest int64 // newest accepted record (µs); 0: none yet
	held   []heldRecord
	future uint64 // records refused
}

type heldRecord struct {
	host, customer, instance []byte
	rec                      parser.Record
	age                      int // records seen since it was held
}

const (
	maxHeld = 64    // suspects held at once; beyond, the oldest is refused
	maxWait = 10000 // records a suspect waits for confirmation
)

// add passes r into b, holds it, or refuses it (refused reports records
// refused by this call, for the caller to log).
func (g *futureGuard) add(b *store.Batch, host, customer, instance []byte, r parser.Record) (refused []parser.Record) {
	kept := g.held[:0]
	for _, h := range g.held {
		switch {
		case r.Time >= h.rec.Time-g.max:
			g.accept(b, h.host, h.customer, h.instance, h.rec)
		case h.age+1 >= maxWait:
			g.future++
			refused = append(refused, h.rec)
		default:
			h.age++
			kept = append(kept, h)
		}
	}
	g.held = kept
	if g.newest != 0 && r.Time <= g.newest+g.max {
		g.accept(b, host, customer, instance, r)
		return refused
	}
	if len(g.held) == maxHeld {
		g.future++
		refused = append(refused, g.held[0].rec)
		g.held = append(g.held[:0], g.held[1:]...)
	}
	r.RID, r.Data = bytes.Clone(r.RID), bytes.Clone(r.Data)
	g.held = append(g.held, heldRecord{host: bytes.Clone(host), customer: bytes.Clone(customer),
		instance: bytes.Clone(instance), rec: r})
	return refused
}

func (g *futureGuard) accept(b *store.Batch, host, customer, instance []byte, r parser.Record) {
	b.Add(host, customer, instance, r)
	g.newest = max(g.newest, r.Time)
}

// finish settles what is held at the end of the files: refused, unless no
// record was ever accepted (a file of one record has nothing to compare).
func (g *futureGuard) finish(b *store.Batch) (refused []parser.Record) {
	for _, h := range g.held {
		if g.newest == 0 || h.rec.Time <= g.newest+g.max {
			g.accept(b, h.host, h.customer, h.instance, h.rec)
			continue
		}
		g.future++
		refused = append(refused, h.rec)
	}
	g.held = g.held[:0]
	return refused
}
