package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store"
)

// countSink counts the requests of final buckets.
type countSink struct {
	mu       sync.Mutex
	requests uint32
	last     int64
}

func (c *countSink) WriteBuckets(_ store.Key, bs []store.Bucket) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range bs {
		c.requests += b.Requests
		c.last = max(c.last, b.Time)
	}
	return nil
}

func (c *countSink) Sync(context.Context) error { return nil }

// TestImportFutureGuard: row 4 of issue 11 for import. A line stamped 23 h
// ahead of its neighbours is refused (it would have made the rest of the
// instance's day late); a real gap of a night in the log is not.
func TestImportFutureGuard(t *testing.T) {
	base := time.Date(2009, 7, 30, 15, 0, 0, 0, time.UTC).UnixMicro()
	at := func(sec int64) parser.Record {
		return parser.Record{Code: 'A', RID: []byte("1"), Time: base + sec*1e6, Data: []byte("200 1")}
	}
	var recs []parser.Record
	for s := range int64(100) {
		recs = append(recs, at(s))
		if s == 50 {
			recs = append(recs, at(23*3600)) // the bad line
		}
	}
	for s := range int64(100) {
		recs = append(recs, at(12*3600+s)) // the next morning, after a quiet night
	}
	sink := &countSink{}
	agg, err := store.NewAggregator(store.AggOptions{Sink: sink, MaxFuture: -1, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := agg.Start(); err != nil {
		t.Fatal(err)
	}
	g := &futureGuard{max: (5 * time.Minute).Microseconds()}
	b := agg.NewBatch()
	for _, r := range recs {
		g.add(b, []byte("h"), []byte("c"), []byte("i"), r)
	}
	g.finish(b)
	agg.Submit(b)
	if err := agg.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g.future != 1 || sink.requests != 200 || sink.last > (base/1e6)+13*3600 {
		t.Errorf("future %d (want 1), requests %d (want 200), last second +%ds", g.future, sink.requests, sink.last-base/1e6)
	}
}
