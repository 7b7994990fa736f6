package store

import (
	"bytes"
	"context"
	"fmt"
	"graphmetrics/store/urlpattern"
	"slices"
	"sync"
	"testing"
	"time"

	"graphmetrics/parser"
)

// parseLine is a small, test-only tracelog line parser (CODE RID TIMESTAMP
// [DATA], both timestamp forms), so the store tests do not depend on the
// parser package's progress. Times are read in UTC.
func parseLine(t testing.TB, line string) parser.Record {
	t.Helper()
	f := bytes.SplitN([]byte(line), []byte(" "), 3)
	if len(f) < 3 || len(f[0]) != 1 {
		t.Fatalf("bad test line %q", line)
	}
	rest := f[2]
	var ts string
	var data []byte
	if len(rest) > 10 && rest[10] == 'T' {
		ts, data, _ = cutString(rest)
	} else {
		sp := bytes.SplitN(rest, []byte(" "), 3)
		if len(sp) < 2 {
			t.Fatalf("bad test line %q", line)
		}
		ts = string(sp[0]) + "T" + string(sp[1])
		if len(sp) == 3 {
			data = sp[2]
		}
	}
	tm, err := time.ParseInLocation("2006-01-02T15:04:05.999999", ts, time.UTC)
	if err != nil {
		t.Fatalf("bad time in %q: %v", line, err)
	}
	return parser.Record{Code: f[0][0], RID: f[1], Time: tm.UnixMicro(), Data: data}
}

func cutString(b []byte) (string, []byte, bool) {
	before, after, ok := bytes.Cut(b, []byte(" "))
	return string(before), after, ok
}

// memSink collects buckets per key and checks they arrive in time order
// without duplicates.
type memSink struct {
	mu    sync.Mutex
	got   map[Key][]Bucket
	calls int
	errs  []error
}

func newMemSink() *memSink { return &memSink{got: make(map[Key][]Bucket)} }

func (m *memSink) WriteBuckets(k Key, bs []Bucket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	prev := m.got[k]
	for _, b := range bs {
		if n := len(prev); n > 0 && b.Time <= prev[n-1].Time {
			m.errs = append(m.errs, fmt.Errorf("%v: bucket %d after %d", k, b.Time, prev[n-1].Time))
		}
		b.App = slices.Clone(b.App) // the aggregator's memory is reused
		b.URLs = slices.Clone(b.URLs)
		for i := range b.URLs {
			b.URLs[i].App = slices.Clone(b.URLs[i].App)
		}
		prev = append(prev, b)
	}
	m.got[k] = prev
	return nil
}

func (m *memSink) Sync(context.Context) error { return nil }

func (m *memSink) buckets(t testing.TB, k Key) []Bucket {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, err := range m.errs {
		t.Error(err)
	}
	return slices.Clone(m.got[k])
}

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

var testNorm, _ = urlpattern.New(nil)

var testKey = Key{Host: "h1", Customer: "cust", Instance: "app-8080"}

// newTestAgg returns a started aggregator with a long flush interval (tests
// drive ticks with tickNow) and a fake clock.
func newTestAgg(t testing.TB, o AggOptions) (*Aggregator, *memSink, *fakeClock) {
	t.Helper()
	sink := newMemSink()
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if o.Now == nil {
		o.Now = clk.Now
	}
	o.Sink = sink
	if o.URLs == nil {
		o.URLs = testNorm // URL statistics on, as in the daemon
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = time.Hour
	}
	a, err := NewAggregator(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a, sink, clk
}

// feed submits lines for testKey, n lines per batch.
func feed(t testing.TB, a *Aggregator, n int, lines ...string) {
	t.Helper()
	b := a.NewBatch()
	for _, l := range lines {
		b.Add([]byte(testKey.Host), []byte(testKey.Customer), []byte(testKey.Instance), parseLine(t, l))
		if b.Len() >= n {
			a.Submit(b)
			b = a.NewBatch()
		}
	}
	a.Submit(b)
}

func closeAgg(t testing.TB, a *Aggregator) {
	t.Helper()
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func tick(t testing.TB, a *Aggregator) {
	t.Helper()
	if err := a.tickNow(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func at(s string) int64 {
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
	if err != nil {
		panic(err)
	}
	return tm.Unix()
}

// bucketAt finds the bucket of second sec.
func bucketAt(t testing.TB, bs []Bucket, sec int64) Bucket {
	t.Helper()
	for _, b := range bs {
		if b.Time == sec {
			return b
		}
	}
	t.Fatalf("no bucket at %s", time.Unix(sec, 0).UTC())
	return Bucket{}
}
