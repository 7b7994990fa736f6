package series

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// bigDataDir lays out about 20,000 series: 500 hosts × 20 metrics and
// 1,430 tracelog instances × 7 data sources (empty files: the index only
// lists directories).
func bigDataDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	metrics := []string{"disk/root/free", "disk/root/used", "disk/var/free", "disk/var/used", "load/1m", "load/5m",
		"load/15m", "mem/free", "mem/used", "mem/cached", "net/eth0/rx", "net/eth0/tx", "cpu/user", "cpu/system",
		"cpu/idle", "cpu/iowait", "proc/count", "proc/zombies", "swap/used", "uptime"}
	for h := range 500 {
		for _, m := range metrics {
			touch(tb, filepath.Join(dir, "rrd/metrics/cimaa.metrics", fmt.Sprintf("host-%03d.example.com", h), m+".rrd"))
		}
	}
	n := 0
	for h := range 110 {
		for c := range 13 {
			touch(tb, filepath.Join(dir, "rrd/tracelog", fmt.Sprintf("app%03d", h), fmt.Sprintf("customer%02d", c), fmt.Sprintf("app-%d.rrd", 8080+c)))
			n++
		}
	}
	return dir
}

var benchQueries = []struct{ name, q string }{
	{"typical", "host-042 disk free"},
	{"tracelog", "app017 customer03 requests"},
	{"broad", "e"},
	{"nomatch", "no such series"},
	{"all", ""},
}

func BenchmarkSearch20k(b *testing.B) {
	x := newIndex(b, Options{DataDir: bigDataDir(b), MinAge: time.Hour})
	b.Logf("%d series", x.Len())
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				x.Search(q.q, 100)
			}
		})
	}
}

func BenchmarkWalk20k(b *testing.B) {
	x := newIndex(b, Options{DataDir: bigDataDir(b)})
	for b.Loop() {
		x.rescan(0)
	}
}

// TestSearch20kSpeed: issue 6 asks for ≤ 50 ms over 20,000 series; the
// median of 21 searches of each kind must meet it with room to spare.
func TestSearch20kSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20,000 files")
	}
	x := newIndex(t, Options{DataDir: bigDataDir(t), MinAge: time.Hour})
	if n := x.Len(); n < 20000 {
		t.Fatalf("only %d series", n)
	}
	for _, q := range benchQueries {
		var ds []time.Duration
		for range 21 {
			st := time.Now()
			x.Search(q.q, 100)
			ds = append(ds, time.Since(st))
		}
		slices.Sort(ds)
		t.Logf("%-8s median %v", q.name, ds[10])
		if ds[10] > 50*time.Millisecond {
			t.Errorf("search %q: median %v over 20k series, want ≤ 50 ms", q.q, ds[10])
		}
	}
}
