package graphite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ziutek/rrd"

	"graphmetrics/web/internal/testrrd"
)

// Queries never hold up ingest: librrd's fetch takes a read lock (fcntl),
// which never conflicts with the daemon's own updates in the same process,
// and the API holds no lock the store takes. Updates of a file that heavy
// queries read all the time succeed.
func TestQueriesDoNotBlockUpdates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rrd", "metrics", "hot", "series.rrd")
	if err := testrrd.MakeMetric(file, 1, t0, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := testrrd.MakeMetric(filepath.Join(dir, "rrd", "metrics", "hot", fmt.Sprintf("other%02d.rrd", i)), 60, t0, []float64{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := newAPI(t, dir, Options{Parallel: 4})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	queries := make(chan int, 4)
	for range 4 {
		wg.Go(func() {
			n := 0
			defer func() { queries <- n }()
			for ctx.Err() == nil {
				e, _ := Parse("sumSeries(hot.*)")
				if _, err := a.ev.Eval(ctx, e, &Request{From: t0, Until: t0 + 86400}); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
				n++
			}
		})
	}
	var slowest time.Duration
	for i := range 500 {
		start := time.Now()
		if err := rrd.NewUpdater(file).Update(time.Unix(t0+int64(i)+1, 0), float64(i)); err != nil {
			t.Fatalf("update %d while querying: %v", i, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	cancel()
	wg.Wait()
	close(queries)
	total := 0
	for n := range queries {
		total += n
	}
	if total < 4 {
		t.Fatalf("only %d queries ran alongside the updates", total)
	}
	t.Logf("500 updates alongside %d queries of 51 files; slowest update %v", total, slowest)
}
