package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"graphmetrics/store/hist"
	"graphmetrics/store/urlpattern"
)

// urlSums sums the URL rows of buckets per pattern.
func urlSums(t *testing.T, bs []Bucket) map[string]*URLStat {
	t.Helper()
	m := map[string]*URLStat{}
	for _, b := range bs {
		var n uint32
		for _, u := range b.URLs {
			s := m[u.Pattern]
			if s == nil {
				s = &URLStat{Pattern: u.Pattern}
				m[u.Pattern] = s
			}
			s.Count += u.Count
			s.Errors += u.Errors
			s.Hangs += u.Hangs
			s.AppSumUS += u.AppSumUS
			s.AppMaxUS = max(s.AppMaxUS, u.AppMaxUS)
			if len(u.App) > 0 {
				h := hist.New(URLScheme)
				if _, err := h.Decode(u.App); err != nil {
					t.Fatal(err)
				}
				if h.Total() > uint64(u.Count) {
					t.Errorf("%d app times of %d requests", h.Total(), u.Count)
				}
			}
			n += u.Count
		}
		if n != b.Requests {
			t.Errorf("second %d: URL rows count %d requests, the bucket %d", b.Time, n, b.Requests)
		}
	}
	return m
}

func TestURLStats(t *testing.T) {
	norm, err := urlpattern.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := []string{
		"B 1 2026-01-01T00:00:00.100000 GET /a/123?x=1",
		"I 1 2026-01-01T00:00:00.200000 0",
		"C 1 2026-01-01T00:00:00.300000",
		"A 1 2026-01-01T00:00:00.800000 200 10",
		"E 1 2026-01-01T00:00:00.900000",
		"B 2 2026-01-01T00:00:01.000000 POST /b",
		"C 2 2026-01-01T00:00:01.000000",
		"A 2 2026-01-01T00:00:01.250000 500 0",
		"A 3 2026-01-01T00:00:01.500000 200 1", // no B: "?"
		"B 1 2026-01-01T00:00:02.000000 GET /a/77",
		"C 1 2026-01-01T00:00:02.000000",
		"A 1 2026-01-01T00:00:02.100000 200 1",
		"B 4 2026-01-01T00:00:02.500000 GET /a/5",
		"C 4 2026-01-01T00:00:02.600000",
		"B 5 2026-01-01T00:00:02.700000 GET /q",  // input: hangs at S
		"B 6 2026-01-01T00:00:02.800000 GET /ok", // finished: no hang
		"C 6 2026-01-01T00:00:02.800000",
		"A 6 2026-01-01T00:00:02.900000 200 1",
		"S 0 2026-01-01T00:00:03.000000",
		"B 7 2026-01-01T00:00:04.000000 GET /slow", // times out
		"C 7 2026-01-01T00:00:04.000000",
		"B 8 2026-01-01T00:00:40.000000 GET /ok",
		"C 8 2026-01-01T00:00:40.000000",
		"A 8 2026-01-01T00:00:40.500000 200 1",
	}
	a, sink, clk := newTestAgg(t, AggOptions{URLs: norm, RequestTimeout: 30 * time.Second})
	feed(t, a, 100, recs...)
	clk.Set(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tick(t, a)
	closeAgg(t, a)
	got := urlSums(t, sink.buckets(t, testKey))
	want := map[string]URLStat{
		"/a/{n}": {Count: 2, Hangs: 1, AppSumUS: 600000, AppMaxUS: 500000},
		"/b":     {Count: 1, Errors: 1, AppSumUS: 250000, AppMaxUS: 250000},
		"?":      {Count: 1},
		"/q":     {Hangs: 1},
		"/ok":    {Count: 2, AppSumUS: 600000, AppMaxUS: 500000},
		"/slow":  {Hangs: 1},
	}
	if len(got) != len(want) {
		t.Errorf("%d patterns, want %d: %v", len(got), len(want), got)
	}
	for p, w := range want {
		g := got[p]
		if g == nil {
			t.Errorf("%s missing", p)
			continue
		}
		g.Pattern = ""
		if g.Count != w.Count || g.Errors != w.Errors || g.Hangs != w.Hangs || g.AppSumUS != w.AppSumUS || g.AppMaxUS != w.AppMaxUS {
			t.Errorf("%s: %+v, want %+v", p, *g, w)
		}
	}
}

// A crawler's distinct URLs cost Pattern calls, not memory: the pattern
// cache stays within patCacheMax entries of at most patCacheKey bytes.
func TestPatCacheBounded(t *testing.T) {
	c := &patCache{n: testNorm, m: map[string]string{}}
	long := strings.Repeat("y", 4000)
	for i := range 100_000 {
		p := c.pattern([]byte(fmt.Sprintf("GET /crawl/w%dx/%s?i=%d", i, long[:i%3000], i)))
		if len(p) > urlpattern.MaxLen {
			t.Fatalf("pattern of %d bytes", len(p))
		}
		if len(c.m) > patCacheMax {
			t.Fatalf("%d cached patterns", len(c.m))
		}
	}
	for k := range c.m {
		if len(k) > patCacheKey {
			t.Fatalf("cached a key of %d bytes", len(k))
		}
	}
}
