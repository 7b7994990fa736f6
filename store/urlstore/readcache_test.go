package urlstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"graphmetrics/store"
)

// TestTableCacheFollowsWrites reads tables and series again (from the merged-segment
// cache) while the instance is written: appended and newly compressed
// segments are read anew, and every table still equals the requests.
func TestTableCacheFollowsWrites(t *testing.T) {
	dataDir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	all := genReqs(r, t0+600, 4*3600, 10)
	bs := buckets(all)
	s := New(Options{DataDir: dataDir})
	keys := []store.Key{keyA}
	ranges := [][2]int64{{t0, t0 + 5*3600}, {t0 + 3600, t0 + 3*3600}, {t0 + 2460, t0 + 4*3600 + 120}}
	written := 0
	for _, upTo := range []int64{t0 + 2*3600 + 300, t0 + 2*3600 + 900, t0 + 3*3600 + 5, t0 + 5*3600} {
		j := written
		for j < len(bs) && bs[j].Time < upTo {
			j++
		}
		write(t, s, keyA, bs[written:j])
		written = j
		var got []req
		for _, q := range all {
			if q.t < upTo {
				got = append(got, q)
			}
		}
		for _, rg := range ranges {
			for range 2 { // the second read comes from the cache
				checkTable(t, dataDir, keys, got, rg[0], rg[1])
				for _, u := range []string{"/u3", "/u5"} {
					for _, step := range []int64{300, 3600} {
						sr, err := Over(dataDir, keys, u, rg[0], rg[1], step)
						if err != nil {
							t.Fatal(err)
						}
						for i, row := range sr.R {
							f := sr.Start + int64(i)*sr.Step
							sameRow(t, fmt.Sprintf("over %d step %d", f, sr.Step), row, expect(got, f, f+sr.Step)[u])
						}
					}
				}
			}
		}
	}
	if segCache.size == 0 || segCache.size > segCache.max {
		t.Fatalf("cache holds %d bytes (max %d)", segCache.size, segCache.max)
	}
}

// TestSegLRUBound evicts the least recently used entries past the bound
// and does not keep an entry over a quarter of it.
func TestSegLRUBound(t *testing.T) {
	c := newSegLRU(4000)
	ent := func(n int) *mergedSeg { return &mergedSeg{rows: make([]byte, n-64)} }
	c.put("a", ent(900))
	c.put("b", ent(900))
	c.put("c", ent(900))
	if c.get("a") == nil { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("d", ent(900))
	c.put("e", ent(900)) // 4,500 bytes: b, the least recent, goes
	if c.get("b") != nil || c.get("a") == nil || c.get("e") == nil || c.size != 3600 {
		t.Fatalf("after eviction: b %v a %v e %v size %d", c.get("b") != nil, c.get("a") != nil, c.get("e") != nil, c.size)
	}
	c.put("big", ent(1001))
	if c.get("big") != nil {
		t.Fatal("an entry over a quarter of the bound was kept")
	}
}

// TestDecodeStatInto: the one-pass decoder adds what decodeStat decodes,
// and nothing for a corrupt stat (every truncation, every byte changed).
func TestDecodeStatInto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		s := stat{n: r.Uint64N(1000), errs: r.Uint64N(10), hangs: r.Uint64N(3), sumUS: r.Uint64N(1e9), maxUS: r.Uint64N(1e7)}
		for i := 0; i < Scheme.Len(); i += 1 + r.IntN(40) {
			s.h = append(s.h, pair{uint16(i), 1 + r.Uint64N(300)})
		}
		enc := s.appendEncode(nil)
		variants := [][]byte{enc}
		for cut := range len(enc) {
			variants = append(variants, enc[:cut])
		}
		for i := range enc {
			b := append([]byte(nil), enc...)
			b[i] ^= byte(1 + r.IntN(255))
			variants = append(variants, b)
		}
		for _, b := range variants {
			want := make([]uint64, Scheme.Len())
			for i := range want {
				want[i] = 7 // counts already there
			}
			got := append([]uint64(nil), want...)
			ws, werr := decodeStat(b, nil)
			if werr == nil {
				for _, p := range ws.h {
					want[p.i] += p.c
				}
			}
			gs, gerr := decodeStatInto(b, got)
			if (werr == nil) != (gerr == nil) || !slices.Equal(got, want) ||
				werr == nil && (gs.n != ws.n || gs.errs != ws.errs || gs.hangs != ws.hangs || gs.sumUS != ws.sumUS || gs.maxUS != ws.maxUS) {
				t.Fatalf("%x: got %v %v, want %v %v", b, gerr, gs, werr, ws)
			}
		}
	}
}

// TestTableDayRuns: tables over many day files of hour rows, the closed
// ones of a week read as one cache entry, over ranges that start and end
// inside days and weeks, read twice, then again after more days are
// written (the runs grow and close).
func TestTableDayRuns(t *testing.T) {
	const week = 7 * 86400
	dataDir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 9))
	wk := int64(t0 - t0%week + week)
	start := wk - 2*86400 - 5*3600
	s := New(Options{DataDir: dataDir})
	all := sparseReqs(r, start, 17*24)
	write(t, s, keyA, buckets(all))
	for round := range 2 {
		end := all[len(all)-1].t + 1
		ranges := [][2]int64{
			{start, end}, {wk - 86400 + 7200, wk + 3*86400 - 3600}, {wk + 3600, wk + week + 5*3600},
			{wk + 2*86400 + 1800, wk + 9*86400 - 600}, {end - 4*86400, end},
		}
		for i, rg := range ranges { // older than 47 hours: whole hours
			ranges[i] = [2]int64{floorTo(rg[0], 3600), ceilTo(rg[1], 3600)}
		}
		for range 2 {
			checkRanges(t, dataDir, all, ranges)
		}
		for range 2 { // the cache kept: no DropCache
			for _, rg := range ranges {
				checkTable(t, dataDir, []store.Key{keyA}, all, rg[0], rg[1])
			}
		}
		if round == 0 {
			more := sparseReqs(r, floorTo(end, 3600)+3600, 5*24)
			write(t, s, keyA, buckets(more))
			all = append(all, more...)
		}
	}
	l, err := listSegs(Dir(dataDir, keyA))
	if err != nil || len(l[lvHour]) < 20 {
		t.Fatalf("%d day files, %v", len(l[lvHour]), err)
	}
}
