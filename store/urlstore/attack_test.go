package urlstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	in := s.inst[k]
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
