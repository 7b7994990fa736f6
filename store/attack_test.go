package store

import (
	"fmt"
	"testing"
	"time"

	"graphmetrics/parser"
)

// Attacks of issue 11 at the aggregator, one test per row of its table
// (and the PROCID runaway). Each failed on the code before the issue.

func submitTo(a *Aggregator, k Key, recs ...parser.Record) {
	b := a.NewBatch()
	for _, rec := range recs {
		b.Add([]byte(k.Host), []byte(k.Customer), []byte(k.Instance), rec)
	}
	a.Submit(b)
}

// Row 1: valid records for thousands of new instances. Before: every one
// made an instance (and a file). Now at most new_instances_per_minute a
// minute and max_instances in all; known instances are never refused.
func TestAttackInstanceFlood(t *testing.T) {
	known := Key{Host: "10.0.0.9", Customer: "acme", Instance: "has-a-file"}
	a, sink, clk := newTestAgg(t, AggOptions{
		MaxInstances:          1000,
		NewInstancesPerMinute: 600,
		Known:                 func(k Key) bool { return k == known },
	})
	submitTo(a, testKey, r('B', "1", 0, "GET /"))
	flood := func(from, n int) {
		for i := from; i < from+n; i++ {
			submitTo(a, Key{Host: "10.6.6.6", Customer: "evil", Instance: fmt.Sprint("i", i)}, r('A', "1", 1, "200 1"))
		}
	}
	flood(0, 3000)
	submitTo(a, known, r('A', "1", 1, "200 1"))
	submitTo(a, testKey, r('A', "1", 1, "200 1"))
	tick(t, a)
	st := a.Stats()
	// testKey was the first of the minute; 599 flood instances follow it.
	if st.Instances != 601 || st.RefusedInstances != 3000-599 {
		t.Errorf("instances %d (want 601), refused %d (want %d)", st.Instances, st.RefusedInstances, 3000-599)
	}
	// The next minutes: up to max_instances in all.
	clk.Set(clk.Now().Add(time.Minute))
	flood(3000, 600)
	clk.Set(clk.Now().Add(time.Minute))
	flood(3600, 600)
	tick(t, a)
	if st := a.Stats(); st.Instances != 1000 {
		t.Errorf("instances %d after three minutes, want max_instances 1000", st.Instances)
	}
	// Full: a new instance is refused, a known one is not.
	submitTo(a, known, r('A', "2", 2, "200 1"))
	flood(5000, 1)
	tick(t, a)
	if st := a.Stats(); st.Instances != 1000 || st.RefusedInstances != (3000-599)+(600-399)+600+1 {
		t.Errorf("instances %d, refused %d when full", st.Instances, st.RefusedInstances)
	}
	closeAgg(t, a)
	var n uint32
	for _, b := range sink.buckets(t, testKey) {
		n += b.Requests
	}
	if n != 1 {
		t.Errorf("the real instance has %d requests, want 1", n)
	}
	if bs := sink.buckets(t, known); len(bs) == 0 {
		t.Error("the known instance was refused")
	}
}

// The PROCID runaway: a sender whose PROCID (the instance, SPEC §2) changes
// at every restart. Restarting every second for an hour used to make 3,600
// files; now 600 a minute at most, and its instances that have files keep
// working after a daemon restart.
func TestAttackPROCIDRunaway(t *testing.T) {
	withFile := map[Key]bool{}
	a, _, clk := newTestAgg(t, AggOptions{Known: func(k Key) bool { return withFile[k] }})
	for pid := range 1200 {
		k := Key{Host: "zope1", Customer: "zope", Instance: fmt.Sprint(10000 + pid)}
		submitTo(a, k, r('S', "0", float64(pid)/100, ""))
	}
	tick(t, a)
	if st := a.Stats(); st.Instances != 600 || st.RefusedInstances != 600 {
		t.Fatalf("instances %d, refused %d: want 600 each", st.Instances, st.RefusedInstances)
	}
	closeAgg(t, a)

	// A restart: what the first run tracked now has files; a new process
	// of the runaway sender is still limited, those with files are not.
	for pid := range 600 {
		withFile[Key{Host: "zope1", Customer: "zope", Instance: fmt.Sprint(10000 + pid)}] = true
	}
	b, _, _ := newTestAgg(t, AggOptions{Known: func(k Key) bool { return withFile[k] }, NewInstancesPerMinute: 10})
	b.opts.Now = clk.Now
	for pid := range 1200 {
		k := Key{Host: "zope1", Customer: "zope", Instance: fmt.Sprint(10000 + pid)}
		submitTo(b, k, r('A', "1", 20, "200 1"))
	}
	tick(t, b)
	if st := b.Stats(); st.Instances != 610 || st.RefusedInstances != 590 {
		t.Errorf("after restart: instances %d (want 600 known + 10), refused %d (want 590)", st.Instances, st.RefusedInstances)
	}
	closeAgg(t, b)
}

// Row 4: one record stamped now+23h. Before, the 24 h window let it in and
// it made every real record of the next day late; now it is dropped as
// future (default max_future 5m) and the real records count.
func TestAttackFutureRecord(t *testing.T) {
	a, sink, clk := newTestAgg(t, AggOptions{})
	clk.Set(t0.Add(10 * time.Second))
	submit(a, r('A', "1", 0, "200 1"), r('A', "666", 23*3600, "200 1"), r('A', "2", 1, "200 1"), r('A', "3", 2, "200 1"))
	closeAgg(t, a)
	st := a.Stats()
	if st.Future != 1 || st.Late != 0 {
		t.Errorf("future %d (want 1), late %d (want 0)", st.Future, st.Late)
	}
	var n uint32
	for _, b := range sink.buckets(t, testKey) {
		n += b.Requests
	}
	if n != 3 {
		t.Errorf("%d requests counted, want the 3 real ones", n)
	}
}

// Row 5: a flood of requests with new ids and only a B line, to one
// instance. Before, every id stayed in memory for ever; now at most
// max_requests are held (the oldest dropped and counted).
func TestAttackRequestFlood(t *testing.T) {
	a, _, clk := newTestAgg(t, AggOptions{MaxRequests: 1000})
	clk.Set(t0.Add(time.Minute))
	for i := range 20000 {
		submit(a, r('B', fmt.Sprint("flood-", i), float64(i)/1000, "GET /"))
	}
	closeAgg(t, a)
	if st := a.Stats(); st.RequestsDropped < 19000 {
		t.Errorf("requests dropped %d, want ≥ 19000", st.RequestsDropped)
	}
	for _, s := range a.shards {
		for _, in := range s.inst {
			if len(in.rids) > 1000 {
				t.Errorf("%d requests held, max_requests is 1000", len(in.rids))
			}
		}
	}
}

// Row 5, the other half: requests that never end. A request with no record
// for request_timeout of event time is dropped and counted, and waiting
// and busy stop counting it, while the instance itself stays live.
func TestAttackRequestTimeout(t *testing.T) {
	a, sink, clk := newTestAgg(t, AggOptions{RequestTimeout: time.Hour, IdleTimeout: 2 * time.Hour})
	clk.Set(t0.Add(2 * time.Hour))
	submit(a, r('I', "waits", 0, "0"), r('C', "busy", 0, ""), r('B', "began", 0, "GET /"))
	for s := 600; s <= 3700; s += 600 {
		submit(a, r('A', "x", float64(s), "200 1")) // the instance stays live
	}
	submit(a, r('A', "x", 3700, "200 1"))
	tick(t, a)
	closeAgg(t, a)
	if st := a.Stats(); st.RequestsTimedOut != 3 {
		t.Errorf("timed out %d, want 3", st.RequestsTimedOut)
	}
	bs := sink.buckets(t, testKey)
	if b := bs[10]; b.Waiting != 1 || b.Busy != 1 {
		t.Errorf("second 10: waiting %d busy %d, want 1 1", b.Waiting, b.Busy)
	}
	if b := bs[len(bs)-1]; b.Waiting != 0 || b.Busy != 0 {
		t.Errorf("last second %d: waiting %d busy %d, want 0 0", b.Time-sec(0), b.Waiting, b.Busy)
	}
}
