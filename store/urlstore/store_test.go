package urlstore

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"graphmetrics/store"
)

var keyA = store.Key{Host: "h", Customer: "c", Instance: "app-8080"}
var keyB = store.Key{Host: "../h2", Customer: "c", Instance: "app\x00/8081"}

// req is one generated request of the tests.
type req struct {
	t    int64
	url  string
	us   int64 // app µs, -1: none
	err  bool
	hang bool
}

// genReqs makes random requests over [start, start+n) on nURL patterns.
func genReqs(r *rand.Rand, start int64, n int, nURL int) []req {
	var out []req
	for t := start; t < start+int64(n); t++ {
		if r.IntN(5) == 0 {
			continue // a second without requests
		}
		for range 1 + r.IntN(6) {
			q := req{t: t, url: fmt.Sprintf("/u%d", r.IntN(nURL)), us: int64(r.ExpFloat64() * 2e5)}
			switch r.IntN(20) {
			case 0:
				q.us = -1
			case 1:
				q.err = true
			case 2:
				q.hang, q.us = true, -1
			}
			out = append(out, q)
		}
	}
	return out
}

// buckets groups requests into the aggregator's final buckets.
func buckets(reqs []req) []store.Bucket {
	var bs []store.Bucket
	for i := 0; i < len(reqs); {
		j := i
		b := store.Bucket{Time: reqs[i].t}
		by := map[string]*store.URLStat{}
		var order []string
		idx := map[string][]uint16{}
		for ; j < len(reqs) && reqs[j].t == reqs[i].t; j++ {
			q := reqs[j]
			u := by[q.url]
			if u == nil {
				u = &store.URLStat{Pattern: q.url}
				by[q.url] = u
				order = append(order, q.url)
			}
			if q.hang {
				u.Hangs++
				continue
			}
			u.Count++
			if q.err {
				u.Errors++
			}
			if q.us >= 0 {
				u.AppSumUS += uint64(q.us)
				u.AppMaxUS = max(u.AppMaxUS, uint64(q.us))
				idx[q.url] = append(idx[q.url], uint16(Scheme.Index(float64(q.us)/1e6)))
			}
		}
		for _, p := range order {
			u := by[p]
			if len(idx[p]) > 0 {
				h := newHist()
				for _, k := range idx[p] {
					h.AddN(int(k), 1)
				}
				u.App = h.AppendEncode(nil)
			}
			b.URLs = append(b.URLs, *u)
		}
		bs = append(bs, b)
		i = j
	}
	return bs
}

// expect sums the requests in [from, until) per URL.
func expect(reqs []req, from, until int64) map[string]*Row {
	m := map[string]*Row{}
	for _, q := range reqs {
		if q.t < from || q.t >= until {
			continue
		}
		r := m[q.url]
		if r == nil {
			r = NewRow(q.url)
			m[q.url] = r
		}
		if q.hang {
			r.Hangs++
			continue
		}
		r.Count++
		if q.err {
			r.Errors++
		}
		if q.us >= 0 {
			r.TotalS += float64(q.us) / 1e6
			r.MaxS = max(r.MaxS, float64(q.us)/1e6)
			r.Hist.Add(float64(q.us) / 1e6)
		}
	}
	return m
}

func sameRow(t *testing.T, what string, got, want *Row) {
	t.Helper()
	if got == nil || want == nil {
		if (got == nil) != (want == nil) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
		return
	}
	if got.Count != want.Count || got.Errors != want.Errors || got.Hangs != want.Hangs ||
		math.Abs(got.TotalS-want.TotalS) > 1e-6*(1+want.TotalS) || got.MaxS != want.MaxS {
		t.Errorf("%s %s: got %d/%d/%d %.6f %.6f, want %d/%d/%d %.6f %.6f", what, want.URL,
			got.Count, got.Errors, got.Hangs, got.TotalS, got.MaxS,
			want.Count, want.Errors, want.Hangs, want.TotalS, want.MaxS)
	}
	for i := 0; i < Scheme.Len(); i++ {
		if got.Hist.Count(i) != want.Hist.Count(i) {
			t.Errorf("%s %s: bucket %d: %d, want %d", what, want.URL, i, got.Hist.Count(i), want.Hist.Count(i))
			return
		}
	}
}

func checkTable(t *testing.T, dataDir string, keys []store.Key, reqs []req, from, until int64) {
	t.Helper()
	rows, err := Table(dataDir, keys, from, until)
	if err != nil {
		t.Fatal(err)
	}
	want := expect(reqs, from, until)
	if len(rows) != len(want) {
		t.Errorf("table %d..%d: %d rows, want %d", from, until, len(rows), len(want))
	}
	for _, r := range rows {
		sameRow(t, fmt.Sprintf("table %d..%d", from, until), r, want[r.URL])
	}
}

// write hands the buckets over in flushes of 10 seconds, as the
// aggregator does.
func write(t *testing.T, s *Store, k store.Key, bs []store.Bucket) {
	t.Helper()
	for i := 0; i < len(bs); i += 10 {
		if err := s.WriteBuckets(k, bs[i:min(i+10, len(bs))]); err != nil {
			t.Fatal(err)
		}
	}
}

const t0 = 1_700_000_000 - 1_700_000_000%86400 // a midnight

func TestTableAndOver(t *testing.T) {
	dataDir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	a := genReqs(r, t0+1800, 3*3600, 12)
	b := genReqs(r, t0+1000, 3*3600, 8)
	s := New(Options{DataDir: dataDir})
	write(t, s, keyA, buckets(a))
	write(t, s, keyB, buckets(b))
	if st := s.Stats(); st.Errors != 0 || st.Other != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Minute-aligned, hour-aligned and the whole range, with the open minute.
	for _, rg := range [][2]int64{{t0 + 1800, t0 + 1860}, {t0 + 3600, t0 + 7200}, {t0 + 2460, t0 + 9000}, {t0, t0 + 5*3600}} {
		checkTable(t, dataDir, []store.Key{keyA}, a, rg[0], rg[1])
		checkTable(t, dataDir, []store.Key{keyA, keyB}, append(append([]req(nil), a...), b...), rg[0], rg[1])
	}
	sr, err := Over(dataDir, []store.Key{keyA, keyB}, "/u3", t0+1000, t0+5*3600, 600)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Step != 600 || sr.Start != t0+600 {
		t.Fatalf("series %d at %d", sr.Start, sr.Step)
	}
	all := append(append([]req(nil), a...), b...)
	for i, got := range sr.R {
		f := sr.Start + int64(i)*sr.Step
		sameRow(t, fmt.Sprintf("over %d", f), got, expect(all, f, f+sr.Step)["/u3"])
	}
}
