package urlstore

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"graphmetrics/parser"
	"graphmetrics/store"
	"graphmetrics/store/urlpattern"
)

// feedAgg runs requests (one B, C, A each, 1 ms apart) of the given URLs
// through a real aggregator into s and closes it.
func feedAgg(t *testing.T, s *Store, k store.Key, start int64, urls func(i int) string, n int) {
	t.Helper()
	norm, err := urlpattern.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := store.NewAggregator(store.AggOptions{Sink: s, URLs: norm, MaxFuture: -1, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	b := a.NewBatch()
	us := start * 1e6
	for i := range n {
		rid := []byte(fmt.Sprint(i % 50))
		for _, r := range []parser.Record{
			{Code: 'B', RID: rid, Time: us, Data: []byte("GET " + urls(i))},
			{Code: 'C', RID: rid, Time: us + 100},
			{Code: 'A', RID: rid, Time: us + 900, Data: []byte("200 1")},
		} {
			b.Add([]byte(k.Host), []byte(k.Customer), []byte(k.Instance), r)
		}
		us += 1000
		if b.Len() >= 3000 {
			a.Submit(b)
			b = a.NewBatch()
		}
	}
	a.Submit(b)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A crawler of 100,000 distinct URLs, 64 KiB URLs, invalid UTF-8 and
// control characters: at most max_patterns patterns on disk and in the
// table, each valid UTF-8 without control characters and at most
// urlpattern.MaxLen bytes, every request counted (the rest under Other),
// and what the store holds of the instance bounded by max_patterns.
func TestCrawlerBounded(t *testing.T) {
	dataDir := t.TempDir()
	const maxPatterns = 200
	k := store.Key{Host: "h", Customer: "c", Instance: "crawled"}
	big := "/" + strings.Repeat("x", 64<<10)
	weird := []string{big, "/bad\xff\xfe/utf8", "/ctl\x00\x1b[31m/x", "/<script>alert(1)</script>", "/é/" + strings.Repeat("€", 30000)}
	const n = 100_000
	crawl := func(i int) string {
		if i%1000 == 0 {
			return weird[i/1000%len(weird)]
		}
		return fmt.Sprintf("/crawl/w%s/page?i=%d", strings.Repeat("q", i%7)+fmt.Sprint(i)+"x", i)
	}
	s := New(Options{DataDir: dataDir, MaxPatterns: maxPatterns})
	feedAgg(t, s, k, 1_700_000_000, crawl, n)
	// What the store holds of the instance: its dictionary and open minute
	// (the aggregator's pattern cache is bounded in store's TestPatCacheBounded).
	in := s.inst.Get(k)
	if len(in.dict.names) != maxPatterns || len(in.dict.ids) != maxPatterns || len(in.open) > maxPatterns+1 {
		t.Errorf("held: %d names, %d ids, %d open rows", len(in.dict.names), len(in.dict.ids), len(in.open))
	}
	rows, err := Table(dataDir, []store.Key{k}, 1_700_000_000-60, 1_700_000_000+3600)
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	for _, r := range rows {
		count += r.Count
		if len(r.URL) > urlpattern.MaxLen || !utf8.ValidString(r.URL) || strings.ContainsAny(r.URL, "\x00\x1b") {
			t.Errorf("pattern %.60q", r.URL)
		}
	}
	if count != n || len(rows) != maxPatterns+1 {
		t.Errorf("%d requests in %d rows, want %d in %d", count, len(rows), n, maxPatterns+1)
	}
	f, err := os.Open(filepath.Join(Dir(dataDir, k), dictFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines++
	}
	if lines != maxPatterns {
		t.Errorf("%d patterns on disk, want %d", lines, maxPatterns)
	}
	if st := s.Stats(); st.Other == 0 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	// A restart keeps the bound: new patterns still go to Other.
	s2 := New(Options{DataDir: dataDir, MaxPatterns: maxPatterns})
	feedAgg(t, s2, k, 1_700_003_600, func(i int) string { return fmt.Sprintf("/new/p%dx", i) }, 1000)
	rows, err = Table(dataDir, []store.Key{k}, 1_700_000_000-60, 1_700_000_000+7200)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != maxPatterns+1 {
		t.Errorf("after a restart: %d rows, want %d", len(rows), maxPatterns+1)
	}
}

// writeClosed writes three hours of random requests of keyA and returns
// them and the path of the first hour's pattern-major minute file.
func writeClosed(t *testing.T) (dataDir string, reqs []req, path string) {
	dataDir = t.TempDir()
	reqs = genReqs(rand.New(rand.NewPCG(5, 6)), t0, 3*3600, 10)
	write(t, New(Options{DataDir: dataDir}), keyA, buckets(reqs))
	path = colPath(Dir(dataDir, keyA), levels[lvMin], t0)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return dataDir, reqs, path
}

// A closed pattern-major minute file cut short, with bytes changed, or
// with made-up lengths and counts reads without a panic or an error; the
// rows of the other files stay exact, a cut file never adds rows, and
// decoding allocates little beyond the file's bytes.
func TestCorruptColFile(t *testing.T) {
	dataDir, reqs, path := writeClosed(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(index ...uint64) []byte {
		var ix []byte
		for _, v := range index {
			ix = binary.AppendUvarint(ix, v)
		}
		b := binary.AppendUvarint([]byte(colMagic), uint64(len(ix)))
		return append(b, ix...)
	}
	var bomb bytes.Buffer // 8 MiB of zeros inflated from a few KiB
	zw, _ := flate.NewWriter(&bomb, flate.BestCompression)
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	crafted := [][]byte{
		nil, []byte(colMagic), hdr(), hdr(1 << 40),
		append(hdr(1<<62, 1<<62), make([]byte, 100)...),
		append(hdr(1, 1, 100, 64<<20, 0, 0, 64<<20), make([]byte, 100)...),
		append(hdr(1, 1, uint64(bomb.Len()), 100, 0, 0, 100), bomb.Bytes()...),
		append(hdr(1, 1, uint64(bomb.Len()), 8<<20, 0, 0, 8<<20), bomb.Bytes()...),
		append(hdr(1, 1, uint64(bomb.Len()), maxColChunk, 0, 0, maxColChunk), bomb.Bytes()...),
		append(bytes.Clone(orig), 0),
	}
	for _, b := range crafted {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		err := readCol(bytes.NewReader(b), int64(len(b)), levels[lvMin], t0, nil, nil, func(int64, uint32, *stat) error { return nil })
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, errCorrupt) {
			t.Errorf("%.40x: err %v", b, err)
		}
		if a := m1.TotalAlloc - m0.TotalAlloc; a > uint64(len(b))+4*maxColChunk {
			t.Errorf("%.40x: %d bytes allocated", b, a)
		}
	}
	var cut, changed [][]byte
	for i := 0; i < len(orig); i += 1 + len(orig)/50 {
		cut = append(cut, orig[:i])
		b := bytes.Clone(orig)
		b[i] ^= 0x5a
		changed = append(changed, b)
	}
	keys := []store.Key{keyA}
	for vi, v := range slices.Concat(cut, changed, crafted) {
		if err := os.WriteFile(path, v, 0o644); err != nil {
			t.Fatal(err)
		}
		DropCache()
		rows, err := Table(dataDir, keys, t0+60, t0+3540) // minute rows of the damaged file
		if err != nil {
			t.Fatalf("variant %d: %v", vi, err)
		}
		want := expect(reqs, t0+60, t0+3540)
		for _, r := range rows {
			if w := want[r.URL]; vi < len(cut) && (w == nil || r.Count > w.Count || r.Hangs > w.Hangs) {
				t.Errorf("cut at %d: %s: %d requests, want at most %v", len(v), r.URL, r.Count, w)
			}
		}
		checkTable(t, dataDir, keys, reqs, t0+3600, t0+3*3600)
		for _, u := range []string{"/u0", "/u7", "/none"} {
			sr, err := Over(dataDir, keys, u, t0, t0+3*3600, 300)
			if err != nil {
				t.Fatalf("variant %d: over %s: %v", vi, u, err)
			}
			for i, row := range sr.R[12:] { // hours 1 and 2 are exact
				f := sr.Start + int64(i+12)*sr.Step
				sameRow(t, fmt.Sprintf("variant %d: over %s at %d", vi, u, f), row, expect(reqs, f, f+sr.Step)[u])
			}
		}
	}
	// With both a pattern-major and a plain file (a crash between the
	// rename and the removal), the pattern-major one is read.
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	bogus := appendGroup(nil, levels[lvMin], t0, t0+60, map[uint32]*stat{1: {n: 1 << 40}})
	if err := os.WriteFile(segPath(Dir(dataDir, keyA), levels[lvMin], t0), bogus, 0o644); err != nil {
		t.Fatal(err)
	}
	DropCache()
	checkTable(t, dataDir, keys, reqs, t0+60, t0+3540)
}
