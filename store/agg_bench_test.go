package store

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store/urlpattern"
)

// nullSink discards buckets but counts them.
type nullSink struct{ n int }

func (s *nullSink) WriteBuckets(_ Key, bs []Bucket) error { s.n += len(bs); return nil }
func (s *nullSink) Sync(context.Context) error            { return nil }

type benchRec struct {
	host, cust, inst []byte
	rec              parser.Record
}

// benchStream is a realistic record mix: nInst instances, each serving
// requests (B I C A E) on a small pool of reused RIDs, with event time
// advancing about 200 µs per record so buckets and finalization happen.
func benchStream(nInst, n int) []benchRec {
	out := make([]benchRec, 0, n)
	codes := []byte("BICAE")
	data := [][]byte{[]byte("GET /index.html"), []byte("0"), nil, []byte("200 9229"), nil}
	tm := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	rids := make([][]byte, 16)
	for i := range rids {
		rids[i] = []byte(fmt.Sprintf("0.-14514%05d", i))
	}
	insts := make([][]byte, nInst)
	for i := range insts {
		insts[i] = []byte(fmt.Sprintf("app-%d", 8000+i))
	}
	host, cust := []byte("zope1.example.net"), []byte("customer")
	for i := 0; len(out) < n; i++ {
		inst := insts[i%nInst]
		rid := rids[(i/nInst)%len(rids)]
		for c := range codes {
			tm += 200
			out = append(out, benchRec{host, cust, inst, parser.Record{Code: codes[c], RID: rid, Time: tm, Data: data[c]}})
		}
	}
	return out[:n]
}

// BenchmarkAggregate measures records per second through Batch.Add, Submit
// and the shard goroutines (one op = one record). Run with -cpu 1 for the
// one-core figure. limits=on runs with the limits of issue 11 at their
// defaults (each record checked against max_future, each new request
// against max_requests), limits=off with them out of the way, so one run
// shows what they cost.
func BenchmarkAggregate(b *testing.B) {
	for _, limits := range []bool{false, true} {
		for _, nInst := range []int{1, 1000} {
			b.Run(fmt.Sprintf("limits=%s/instances=%d", onOff(limits), nInst), func(b *testing.B) {
				benchAggregate(b, benchStream(nInst, 1<<16), limits, false, nil)
			})
		}
	}
}

// BenchmarkAggregateHist measures the app-time histograms' cost: the same
// stream (1,000 instances, app times spread over 0–99 ms so that Index does
// its log) with and without them, in one run. Run with -cpu 1.
func BenchmarkAggregateHist(b *testing.B) {
	stream := benchStream(1000, 1<<16)
	for i := range stream {
		if stream[i].rec.Code == 'A' {
			stream[i].rec.Time += int64(i*7919%100) * 1000
		}
	}
	for _, on := range []bool{false, true} {
		b.Run("histograms="+onOff(on), func(b *testing.B) { benchAggregate(b, stream, true, !on, nil) })
	}
}

// BenchmarkAggregateURLs measures the URL statistics' cost (issue 12
// budget: ≤ 15% extra CPU): the histograms' stream with B records of 200
// URL patterns (paths with numeric ids and queries, so the first sight of
// each path runs the normalizer), their popularity Zipf-distributed
// (s = 1.1), with and without URL statistics, in one run. Run with -cpu 1.
func BenchmarkAggregateURLs(b *testing.B) {
	stream := benchStream(1000, 1<<16)
	z := rand.NewZipf(rand.New(rand.NewSource(1)), 1.1, 1, 199)
	for i := range stream {
		switch stream[i].rec.Code {
		case 'A':
			stream[i].rec.Time += int64(i*7919%100) * 1000
		case 'B':
			stream[i].rec.Data = []byte(fmt.Sprintf("GET /site/section%d/item/%d?page=%d", z.Uint64(), i%5000, i%7))
		}
	}
	norm, err := urlpattern.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		b.Run("urls="+onOff(on), func(b *testing.B) {
			var n *urlpattern.Normalizer
			if on {
				n = norm
			}
			benchAggregate(b, stream, true, false, n)
		})
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func benchAggregate(b *testing.B, stream []benchRec, limits, noHist bool, urls *urlpattern.Normalizer) {
	sink := &nullSink{}
	// The wall clock is a year ahead, so max_future never drops a
	// record of the stream (whose event time runs on).
	clk := &fakeClock{now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	o := AggOptions{Sink: sink, Now: clk.Now, FlushInterval: time.Second, Shards: 2, noHist: noHist, URLs: urls}
	if limits {
		o.Known = func(Key) bool { return true } // the fleet's files exist
	} else {
		o.MaxFuture, o.MaxRequests, o.MaxInstances, o.NewInstancesPerMinute = -1, 1<<30, 1<<30, 1<<30
	}
	a, err := NewAggregator(o)
	if err != nil {
		b.Fatal(err)
	}
	a.Start()
	const batchSize = 256
	b.ReportAllocs()
	b.ResetTimer()
	batch := a.NewBatch()
	for i := 0; i < b.N; i++ {
		r := &stream[i&(len(stream)-1)]
		rec := r.rec
		// Keep event time moving forward across laps of the stream.
		rec.Time += int64(i/len(stream)) * int64(len(stream)) * 200
		batch.Add(r.host, r.cust, r.inst, rec)
		if batch.Len() == batchSize {
			a.Submit(batch)
			batch = a.NewBatch()
		}
	}
	a.Submit(batch)
	if err := a.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := a.Stats(); st.Records != uint64(b.N) || st.Late != 0 {
		b.Fatalf("stats %+v after %d records", st, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
