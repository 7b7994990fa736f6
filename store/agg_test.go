package store

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"graphmetrics/parser"
)

// t0 is the fake clock's start; records in these tests are relative to it.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// r builds a record at t0 + sec seconds.
func r(code byte, rid string, sec float64, data string) parser.Record {
	return parser.Record{Code: code, RID: []byte(rid), Time: t0.UnixMicro() + int64(sec*1e6), Data: []byte(data)}
}

func submit(a *Aggregator, recs ...parser.Record) {
	b := a.NewBatch()
	for _, rec := range recs {
		b.Add([]byte(testKey.Host), []byte(testKey.Customer), []byte(testKey.Instance), rec)
	}
	a.Submit(b)
}

// sec is the bucket of t0 + s.
func sec(s int64) int64 { return t0.Unix() + s }

// run feeds records to a fresh aggregator, closes it and returns testKey's
// buckets.
func run(t *testing.T, o AggOptions, recs ...parser.Record) ([]Bucket, AggStats) {
	t.Helper()
	a, sink, _ := newTestAgg(t, o)
	submit(a, recs...)
	closeAgg(t, a)
	return sink.buckets(t, testKey), a.Stats()
}

func levels(bs []Bucket) (w, b []int32) {
	for _, x := range bs {
		w = append(w, x.Waiting)
		b = append(b, x.Busy)
	}
	return
}

func eq[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRequestCountsAndErrors(t *testing.T) {
	bs, st := run(t, AggOptions{},
		r('B', "1", 0.1, "GET /"), r('I', "1", 0.2, "0"), r('C', "1", 0.3, ""),
		r('A', "1", 0.8, "200 10"), r('E', "1", 0.9, ""),
		r('A', "2", 0.9, "503 0"), r('A', "3", 0.9, "Error: boom"),
		r('A', "4", 1.0, "200 OK 1332"), r('A', "5", 1.0, "404 7"),
		r('D', "1", 1.1, "3 4"), r('U', "000000000", 1.2, "x"), r('-', "1", 1.2, "ext"),
		r('Q', "1", 1.3, "?"), r('Z', "1", 1.3, "?"),
	)
	if len(bs) != 2 {
		t.Fatalf("got %d buckets", len(bs))
	}
	if b := bs[0]; b.Requests != 3 || b.Errors != 2 || b.AppN != 1 || b.AppSum < 0.4999 || b.AppSum > 0.5001 {
		t.Errorf("second 0: %+v", b)
	}
	if b := bs[1]; b.Requests != 2 || b.Errors != 0 || b.AppN != 0 {
		t.Errorf("second 1: %+v", b)
	}
	if st.Unknown != 2 || st.Records != 14 {
		t.Errorf("stats %+v", st)
	}
}

func TestLevels(t *testing.T) {
	// RID 1: waiting in second 1, busy in 2, done in 3. RID 2: Zope 2 style
	// (no C): waiting from 1 to its A in 4, which leaves waiting.
	bs, _ := run(t, AggOptions{},
		r('B', "1", 1.0, ""), r('I', "1", 1.1, ""), r('B', "2", 1.2, ""), r('I', "2", 1.3, ""),
		r('C', "1", 2.0, ""), r('A', "1", 3.0, "200 1"), r('E', "1", 3.1, ""),
		r('A', "2", 4.5, "200 1"), r('E', "2", 4.6, ""),
	)
	w, b := levels(bs)
	eq(t, "waiting", w, []int32{2, 1, 1, 0})
	eq(t, "busy", b, []int32{0, 1, 0, 0})
	if bs[3].Requests != 1 || bs[3].AppN != 0 {
		t.Errorf("Zope 2 A: %+v", bs[3])
	}
}

func TestRIDReuseAbandonsOldRequest(t *testing.T) {
	bs, _ := run(t, AggOptions{},
		r('B', "7", 0.0, ""), r('I', "7", 0.1, ""), // never served
		r('B', "7", 1.0, ""), r('I', "7", 1.1, ""), // same RID reopened
		r('C', "7", 2.0, ""), r('A', "7", 2.5, "200 1"), r('E', "7", 2.6, ""),
		r('B', "8", 3.0, ""), r('I', "8", 3.1, ""), r('C', "8", 3.2, ""), // busy
		r('I', "8", 4.0, ""), // reopened while busy: old one leaves busy
	)
	w, b := levels(bs)
	eq(t, "waiting", w, []int32{1, 1, 0, 0, 1})
	eq(t, "busy", b, []int32{0, 0, 0, 1, 0})
	if bs[2].AppN != 1 || bs[2].AppSum < 0.4999 || bs[2].AppSum > 0.5001 {
		t.Errorf("app time of the reopened request: %+v", bs[2])
	}
}

func TestStartAndStopClearInFlight(t *testing.T) {
	bs, _ := run(t, AggOptions{},
		r('I', "1", 0.0, ""), r('I', "2", 0.1, ""), r('C', "2", 0.2, ""), r('I', "3", 0.3, ""),
		r('S', "0", 1.0, ""),
		r('I', "4", 2.0, ""), r('C', "4", 2.1, ""),
		r('C', "1", 2.2, ""), // the old RID 1 is gone: a lone C is a new busy request
		r('X', "0", 3.0, ""),
		r('A', "2", 3.5, "200 1"), // state cleared: counted, no app time
	)
	w, b := levels(bs)
	eq(t, "waiting", w, []int32{2, 0, 0, 0})
	eq(t, "busy", b, []int32{1, 0, 2, 0})
	if bs[1].Starts != 1 || bs[3].Requests != 1 || bs[3].AppN != 0 {
		t.Errorf("buckets %+v", bs)
	}
}

func TestOutOfOrderEndIgnored(t *testing.T) {
	bs, st := run(t, AggOptions{},
		r('B', "5", 0.0, ""), r('I', "5", 0.1, ""), r('C', "5", 0.2, ""), r('A', "5", 0.3, "200 1"),
		r('B', "5", 1.0, ""), r('I', "5", 1.1, ""), // next request on the RID
		r('E', "5", 0.4, ""), // the first request's E, delivered late
		r('E', "9", 1.2, ""), // E of a RID never seen
	)
	w, _ := levels(bs)
	eq(t, "waiting", w, []int32{0, 1})
	if st.StaleEnds != 1 {
		t.Errorf("stale ends %d, want 1", st.StaleEnds)
	}
}

func TestEndBeforeAppliedKeepsAppTime(t *testing.T) {
	bs, _ := run(t, AggOptions{},
		r('I', "5", 0.0, ""), r('C', "5", 0.2, ""),
		r('E', "5", 1.0, ""),      // reordered before its A
		r('A', "5", 0.9, "200 1"), // still in a pending second
	)
	_, b := levels(bs)
	eq(t, "busy", b, []int32{1, 0})
	if bs[0].Requests != 1 || bs[0].AppN != 1 || bs[0].AppSum < 0.6999 || bs[0].AppSum > 0.7001 {
		t.Errorf("second 0: %+v", bs[0])
	}
}

// An E that arrives out of order within lateness lowers the level from its
// own second on, not from the second it arrived in.
func TestLevelsOutOfOrderWithinLateness(t *testing.T) {
	bs, _ := run(t, AggOptions{Lateness: 5 * time.Second},
		r('I', "1", 0.0, ""), r('I', "2", 0.5, ""),
		r('I', "3", 3.0, ""),
		r('E', "1", 1.5, ""),
	)
	w, _ := levels(bs)
	eq(t, "waiting", w, []int32{2, 1, 1, 2})
}

func TestLatenessAndLateDrop(t *testing.T) {
	a, sink, _ := newTestAgg(t, AggOptions{Lateness: 5 * time.Second})
	submit(a, r('A', "1", 100.2, "200 1"), r('A', "1", 106.5, "200 1"))
	// newest 106.5 − 5 s = 101.5: second 100 is final, 101 is not.
	tick(t, a)
	if bs := sink.buckets(t, testKey); len(bs) != 1 || bs[0].Time != sec(100) || bs[0].Requests != 1 {
		t.Fatalf("after tick: %+v", bs)
	}
	submit(a,
		r('A', "1", 100.9, "200 1"), // final: late, dropped
		r('A', "1", 101.0, "200 1"), // pending: counted
		r('I', "2", 100.5, ""),      // late, but its effect on levels is kept
	)
	closeAgg(t, a)
	bs := sink.buckets(t, testKey)
	if len(bs) != 7 || bs[0].Requests != 1 || bs[1].Requests != 1 || bs[6].Requests != 1 {
		t.Fatalf("buckets %+v", bs)
	}
	w, _ := levels(bs)
	eq(t, "waiting", w, []int32{0, 1, 1, 1, 1, 1, 1})
	if st := a.Stats(); st.Late != 2 || st.Records != 5 {
		t.Errorf("stats %+v", st)
	}
}

// A live instance (event time near the wall clock) that goes quiet gets zero
// buckets up to now − lateness, and stops being written after idle_timeout.
// The aggregator's own flush ticker drives the wall-clock rules, on
// synctest's fake clock; the looks fall between two ticks.
func TestLiveQuietFillAndIdle(t *testing.T) { synctest.Test(t, testLiveQuietFillAndIdle) }

func testLiveQuietFillAndIdle(t *testing.T) {
	start := time.Now() // the bubble's clock: records are relative to it
	rec := func(code byte, rid string, s float64, data string) parser.Record {
		return parser.Record{Code: code, RID: []byte(rid), Time: start.UnixMicro() + int64(s*1e6), Data: []byte(data)}
	}
	at := func(s float64) int64 { return start.Unix() + int64(s) }
	until := func(s float64) {
		time.Sleep(time.Until(start.Add(time.Duration(s * float64(time.Second)))))
		synctest.Wait()
	}
	a, sink, _ := newTestAgg(t, AggOptions{Lateness: 2 * time.Second, IdleTimeout: 10 * time.Second,
		FlushInterval: 500 * time.Millisecond, Now: time.Now})
	until(1.5)
	submit(a, rec('I', "1", 0.5, ""), rec('A', "2", 1.2, "200 1")) // processed at wall time 1.5
	until(3.2)                                                     // quiet 1.5 s < lateness: nothing final
	if bs := sink.buckets(t, testKey); len(bs) != 0 {
		t.Fatalf("final too early: %+v", bs)
	}
	until(6.6) // the tick at 6.5, quiet 5 s: filled up to 1.2+5−2 = 4.2
	bs := sink.buckets(t, testKey)
	if len(bs) != 4 || bs[3].Time != at(3) || bs[3].Waiting != 1 || bs[3].Requests != 0 {
		t.Fatalf("quiet fill: %+v", bs)
	}
	if a.Stats().Instances != 1 {
		t.Fatal("instance forgotten too early")
	}
	until(60.2) // quiet > idle + lateness: filled to idle, forgotten
	bs = sink.buckets(t, testKey)
	if n := len(bs); n != 12 || bs[n-1].Time != at(11) {
		t.Fatalf("idle: %d buckets, last %+v", n, bs[n-1])
	}
	if a.Stats().Instances != 0 {
		t.Error("idle instance not forgotten")
	}
	// It comes back: fresh state, the idle gap is not written.
	submit(a, rec('A', "3", 59.0, "200 1"))
	closeAgg(t, a)
	bs = sink.buckets(t, testKey)
	if n := len(bs); n != 13 || bs[n-1].Time != at(59) || bs[n-1].Waiting != 0 {
		t.Errorf("after idle: %+v", bs[n-1])
	}
}

// Records with old timestamps (an import) are never filled towards the
// wall clock, however long the instance stays quiet.
func TestNoFillForOldTimestamps(t *testing.T) {
	a, sink, clk := newTestAgg(t, AggOptions{Lateness: 2 * time.Second, IdleTimeout: 10 * time.Second})
	old := func(code byte, s float64) parser.Record {
		return parser.Record{Code: code, RID: []byte("1"), Time: at("2009-07-30 15:47:00")*1e6 + int64(s*1e6)}
	}
	submit(a, old('I', 0.5), old('A', 1.5))
	tick(t, a) // processed at wall time t0
	clk.Set(t0.Add(3 * time.Second))
	tick(t, a) // quiet for lateness: everything pending is final, nothing more
	if bs := sink.buckets(t, testKey); len(bs) != 2 || bs[1].Time != at("2009-07-30 15:47:01") {
		t.Fatalf("after quiet: %+v", bs)
	}
	clk.Set(t0.Add(time.Hour))
	tick(t, a)
	if bs := sink.buckets(t, testKey); len(bs) != 2 {
		t.Fatalf("filled towards now: %d buckets", len(bs))
	}
	if a.Stats().Instances != 0 {
		t.Error("quiet instance not forgotten")
	}
}

// A replay that stalls for longer than lateness (import behind a slow
// disk) loses nothing: without the wall-clock rules its newest seconds
// stay pending until event time or Close moves past them. A live input
// in the same stall finalizes them, and the records after it are late.
func TestReplayStallLosesNothing(t *testing.T) {
	for _, replay := range []bool{true, false} {
		a, sink, clk := newTestAgg(t, AggOptions{Lateness: 2 * time.Second, Replay: replay})
		old := func(code byte, rid string, s float64) parser.Record {
			return parser.Record{Code: code, RID: []byte(rid), Time: at("2009-07-30 15:47:00")*1e6 + int64(s*1e6)}
		}
		submit(a, old('B', "1", 0.1), old('C', "1", 0.2), old('A', "1", 0.3), old('B', "2", 1.1), old('C', "2", 1.2))
		tick(t, a)
		clk.Set(t0.Add(time.Minute)) // the stall
		tick(t, a)
		submit(a, old('A', "2", 1.5), old('B', "3", 1.6), old('C', "3", 1.7), old('A', "3", 1.9))
		closeAgg(t, a)
		bs := sink.buckets(t, testKey)
		var n uint32
		for _, b := range bs {
			n += b.Requests
		}
		late := a.Stats().Late
		if replay && (n != 3 || late != 0) {
			t.Errorf("replay: %d requests, %d late records; want 3 and 0", n, late)
		}
		if !replay && (n != 1 || late != 4) {
			t.Errorf("live: %d requests, %d late records; want 1 and 4 (the wall-clock rule)", n, late)
		}
	}
}

// A gap longer than idle_timeout in event time (a replayed log) gives the
// same seconds as the live path: zeros for idle_timeout, then nothing.
func TestEventTimeIdleGap(t *testing.T) {
	bs, _ := run(t, AggOptions{IdleTimeout: 10 * time.Second},
		r('I', "1", 0.5, ""), r('A', "2", 1.0, "200 1"),
		r('I', "3", 50.0, ""),
	)
	if len(bs) != 13 || bs[11].Time != sec(11) || bs[12].Time != sec(50) {
		t.Fatalf("buckets: %d, %+v", len(bs), bs)
	}
	if bs[11].Waiting != 1 || bs[12].Waiting != 1 {
		t.Errorf("levels across the gap: %+v %+v", bs[11], bs[12])
	}
	// A shorter gap is filled with zeros, levels carried.
	bs, _ = run(t, AggOptions{IdleTimeout: 10 * time.Second},
		r('I', "1", 0.5, ""), r('A', "2", 9.0, "200 1"))
	w, _ := levels(bs)
	eq(t, "waiting", w, []int32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
}

func TestFutureRecordsDropped(t *testing.T) {
	bs, st := run(t, AggOptions{MaxFuture: time.Hour},
		r('A', "1", 1, "200 1"), r('A', "1", 7200, "200 1"), r('A', "1", 2, "200 1"))
	if len(bs) != 2 || st.Future != 1 {
		t.Errorf("buckets %+v, stats %+v", bs, st)
	}
}

func TestInstancesAreSeparate(t *testing.T) {
	a, sink, _ := newTestAgg(t, AggOptions{Shards: 4})
	b := a.NewBatch()
	keys := []Key{{"h", "c", "i1"}, {"h", "c", "i2"}, {"h2", "c", "i1"}, {"h", "c2", "i1"}, {"h", "ci", "1"}}
	for round := range 3 {
		for i, k := range keys {
			rec := r('A', "1", float64(round), "200")
			for range i + 1 {
				b.Add([]byte(k.Host), []byte(k.Customer), []byte(k.Instance), rec)
			}
		}
	}
	a.Submit(b)
	closeAgg(t, a)
	for i, k := range keys {
		bs := sink.buckets(t, k)
		if len(bs) != 3 || bs[0].Requests != uint32(i+1) || bs[2].Requests != uint32(i+1) {
			t.Errorf("%v: %+v", k, bs)
		}
	}
}

func TestSubmitAfterClose(t *testing.T) {
	a, _, _ := newTestAgg(t, AggOptions{})
	closeAgg(t, a)
	submit(a, r('A', "1", 1, "200"), r('A', "1", 1, "200"))
	if st := a.Stats(); st.Dropped != 2 || st.Records != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Checkpoint at any point, restore into a new aggregator, continue: the
// buckets written are exactly those of an uninterrupted run.
func TestCheckpointRestoreRoundTrip(t *testing.T) {
	lines := sampleLines(t)
	a, want, _ := newTestAgg(t, AggOptions{Shards: 2})
	feed(t, a, 3, lines...)
	closeAgg(t, a)
	wantBs := want.buckets(t, testKey)
	ctx := context.Background()
	for split := 0; split <= len(lines); split += 13 {
		// The first aggregator dies without Close (a crash after the
		// checkpoint); a new one with a different shard count takes over.
		got, _ := resumeRun(t, lines, split, 3, func(a1 *Aggregator) ([]byte, error) {
			t.Cleanup(func() { closeAgg(t, a1) })
			return a1.Checkpoint(ctx)
		})
		if fmt.Sprint(got) != fmt.Sprint(wantBs) {
			t.Fatalf("split at %d: %d buckets differ from the uninterrupted run's %d", split, len(got), len(wantBs))
		}
	}
	a3, _, _ := newTestAgg(t, AggOptions{})
	if err := a3.Restore([]byte("garbage")); err == nil {
		t.Error("garbage snapshot accepted")
	}
	if err := a3.Restore(nil); err == nil {
		t.Error("restore after start accepted")
	}
}

// Ended RIDs are forgotten once they dominate the map, so an instance that
// sees ever new RIDs does not grow without bound.
func TestEndedRIDsSwept(t *testing.T) {
	a, _, _ := newTestAgg(t, AggOptions{})
	var recs []parser.Record
	for i := range 500 {
		id := fmt.Sprint(i)
		s := float64(i) / 100
		recs = append(recs, r('B', id, s, ""), r('I', id, s, ""), r('C', id, s, ""), r('A', id, s, "200"), r('E', id, s, ""))
	}
	recs = append(recs, r('I', "open", 5, ""))
	submit(a, recs...)
	count := func() int {
		data, err := a.Checkpoint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		snap, err := decodeSnapshot(data)
		if err != nil || len(snap.Instances) != 1 {
			t.Fatalf("snapshot %v %v", snap, err)
		}
		return len(snap.Instances[0].RIDs)
	}
	if n := count(); n != 501 {
		t.Fatalf("%d RIDs before the sweep", n)
	}
	tick(t, a)
	if n := count(); n != 1 {
		t.Errorf("%d RIDs after the sweep, want the open one", n)
	}
}

// The FlushInterval ticker hands final buckets over without being asked
// (on synctest's fake clock: nothing before the first tick, all after it).
func TestPeriodicFlush(t *testing.T) { synctest.Test(t, testPeriodicFlush) }

func testPeriodicFlush(t *testing.T) {
	a, sink, _ := newTestAgg(t, AggOptions{FlushInterval: 10 * time.Second, Lateness: time.Second})
	submit(a, r('A', "1", 0, "200"), r('A', "1", 3, "200"))
	time.Sleep(9 * time.Second)
	synctest.Wait()
	if bs := sink.buckets(t, testKey); len(bs) != 0 {
		t.Fatalf("buckets before the first flush: %+v", bs)
	}
	time.Sleep(2 * time.Second)
	synctest.Wait()
	if bs := sink.buckets(t, testKey); len(bs) != 2 || bs[0].Requests != 1 {
		t.Errorf("buckets %+v", bs)
	}
}

// CloseCheckpoint writes every pending second (a shutdown flush) and hands
// back the in-flight requests: a restart resumes with nothing written twice,
// and where the log moves on to a later second, the result is the same as
// an uninterrupted run's.
func TestCloseCheckpointResume(t *testing.T) {
	lines := sampleLines(t)
	a, want, _ := newTestAgg(t, AggOptions{Shards: 2})
	feed(t, a, 3, lines...)
	closeAgg(t, a)
	wantBs := want.buckets(t, testKey)
	if len(urlSums(t, wantBs)) < 10 { // and every second's URL rows sum to its requests
		t.Fatal("too few URL patterns in the sample")
	}
	ctx := context.Background()
	splits := 0
	for split := 1; split < len(lines); split++ {
		// Only where the next record starts a later second: records for a
		// second the shutdown already wrote count as late.
		if parseLine(t, lines[split]).Time/1e6 <= parseLine(t, lines[split-1]).Time/1e6 {
			continue
		}
		splits++
		got, a2 := resumeRun(t, lines, split, 2, func(a1 *Aggregator) ([]byte, error) {
			snap, err := a1.CloseCheckpoint(ctx)
			if again, err := a1.CloseCheckpoint(ctx); again != nil || err != nil {
				t.Fatalf("second CloseCheckpoint: %v %v", again, err)
			}
			return snap, err
		})
		if st := a2.Stats(); st.Late != 0 {
			t.Errorf("split at %d: %d late records", split, st.Late)
		}
		if fmt.Sprint(got) != fmt.Sprint(wantBs) {
			t.Fatalf("split at %d: %d buckets differ from the uninterrupted run's %d", split, len(got), len(wantBs))
		}
	}
	if splits < 20 {
		t.Fatalf("only %d split points", splits)
	}
}

// resumeRun feeds lines[:split] to an aggregator, takes its state with
// snapshot, restores that into a new aggregator of shards2 shards, feeds the
// rest and closes it: the buckets written over both, and the second one.
func resumeRun(t *testing.T, lines []string, split, shards2 int, snapshot func(*Aggregator) ([]byte, error)) ([]Bucket, *Aggregator) {
	t.Helper()
	sink := newMemSink()
	clk := &fakeClock{now: t0}
	o := AggOptions{Shards: 2, Sink: sink, Now: clk.Now, FlushInterval: time.Hour, URLs: testNorm}
	a1, _ := NewAggregator(o)
	a1.Start()
	feed(t, a1, 3, lines[:split]...)
	snap, err := snapshot(a1)
	if err != nil {
		t.Fatal(err)
	}
	o.Shards = shards2
	a2, _ := NewAggregator(o)
	if err := a2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	a2.Start()
	feed(t, a2, 3, lines[split:]...)
	closeAgg(t, a2)
	return sink.buckets(t, testKey), a2
}

// A shard writes its instances' final buckets once they hold heldLimit
// together, not only at outLimit each or at the flush tick: an import of
// thousands of instances would otherwise hold outLimit seconds of each.
func TestShardHeldBounded(t *testing.T) {
	const nInst, secs = 40, heldLimit/40 + 400 // each instance far below outLimit
	a, sink, _ := newTestAgg(t, AggOptions{Replay: true, MaxFuture: -1, Shards: 1,
		MaxInstances: nInst, NewInstancesPerMinute: nInst})
	b := a.NewBatch()
	for s := range secs {
		for i := range nInst {
			b.Add([]byte("h"), []byte("c"), fmt.Appendf(nil, "i%d", i), r('A', "1", float64(s), "200 1"))
			if b.Len() == 256 {
				a.Submit(b)
				b = a.NewBatch()
			}
		}
	}
	a.Submit(b)
	var held int
	if _, err := a.control(context.Background(), ctlQuery, func(_ int, s *shard) { held = s.held }); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	calls := sink.calls
	sink.mu.Unlock()
	if calls == 0 || held >= heldLimit {
		t.Fatalf("%d writes before Close, %d buckets held (limit %d)", calls, held, heldLimit)
	}
	closeAgg(t, a)
	var n int
	for k, bs := range sink.got {
		if k.Host == "h" {
			n += len(bs)
		}
	}
	if want := nInst * secs; n != want {
		t.Errorf("%d buckets written, want %d", n, want)
	}
}
