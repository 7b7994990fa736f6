package store

import (
	"graphmetrics/store/sampletest"
	"math"
	"testing"
	"time"

	"graphmetrics/parser"
)

func sampleLines(t testing.TB) []string { return sampletest.Lines(t) }

func TestSampleLogPerMinute(t *testing.T) {
	lines := sampleLines(t)
	if len(lines) != 209 {
		t.Fatalf("sample has %d lines, want 209", len(lines))
	}
	for _, batch := range []int{1, 7, 1000} {
		a, sink, _ := newTestAgg(t, AggOptions{Lateness: 5 * time.Second, Shards: 3})
		feed(t, a, batch, lines...)
		closeAgg(t, a)
		checkSample(t, sink.buckets(t, testKey))
		st := a.Stats()
		if st.Records != 209 || st.Late != 0 || st.Unknown != 0 || st.Buckets != 459 {
			t.Errorf("batch %d: stats %+v", batch, st)
		}
	}
}

func checkSample(t *testing.T, bs []Bucket) {
	t.Helper()
	first, last := at("2009-07-30 15:47:18"), at("2009-07-30 15:54:56")
	if len(bs) != int(last-first+1) || bs[0].Time != first || bs[len(bs)-1].Time != last {
		t.Fatalf("got %d buckets %d..%d, want every second %d..%d", len(bs), bs[0].Time, bs[len(bs)-1].Time, first, last)
	}
	for i, b := range bs {
		if b.Time != first+int64(i) {
			t.Fatalf("bucket %d has time %d, want %d", i, b.Time, first+int64(i))
		}
	}
	for _, w := range sampletest.Minutes {
		m := at("2009-07-30 " + w.At + ":00")
		var got sampletest.Minute
		var lastB Bucket
		for _, b := range bs {
			if b.Time >= m && b.Time < m+60 {
				got.Requests += b.Requests
				got.Errors += b.Errors
				got.AppN += b.AppN
				got.AppSum += b.AppSum
				lastB = b
			}
		}
		got.At, got.Waiting, got.Busy = w.At, lastB.Waiting, lastB.Busy
		if math.Abs(got.AppSum-w.AppSum) > 1e-9 {
			t.Errorf("%s app_sum %.6f, want %.6f", w.At, got.AppSum, w.AppSum)
		}
		got.AppSum = w.AppSum
		if got != w {
			t.Errorf("%s got %+v, want %+v", w.At, got, w)
		}
	}
}

// The same table through the real tracelog parser: the parser and the
// aggregator agree on the record format.
func TestSampleLogWithParser(t *testing.T) {
	a, sink, _ := newTestAgg(t, AggOptions{Lateness: 5 * time.Second})
	b := a.NewBatch()
	for _, l := range sampleLines(t) {
		rec, err := parser.ParseRecord([]byte(l), time.UTC)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		b.Add([]byte(testKey.Host), []byte(testKey.Customer), []byte(testKey.Instance), rec)
	}
	a.Submit(b)
	closeAgg(t, a)
	checkSample(t, sink.buckets(t, testKey))
}
