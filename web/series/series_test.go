package series

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
	"graphmetrics/store"
	"graphmetrics/web/internal/testrrd"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func touch(t testing.TB, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dataDir lays out a data_dir with metric files, one real tracelog RRD and
// things that must not be listed.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m := filepath.Join(dir, "rrd", "metrics")
	for _, f := range []string{
		"cimaa.metrics/host.example.com/disk/root/free.rrd",
		"cimaa.metrics/host.example.com/disk/root/used.rrd",
		"cimaa.metrics/Host2.example.com/load/1m.rrd",
		"_self/input/syslog/lines.rrd",
		"_self/input/syslog/errors.rrd",
		"_self/rrd/write_seconds.rrd",
		"fixed/ünïcode name.rrd",
	} {
		touch(t, filepath.Join(m, f))
	}
	// Not series: hidden, temporary, other suffixes. (A directory named
	// dir.rrd is a directory: its inner.rrd is the series dir.rrd/inner.)
	touch(t, filepath.Join(m, "dir.rrd/inner.rrd"))
	for _, f := range []string{
		".hidden/x.rrd", "cimaa.metrics/.tmp.rrd", "cimaa.metrics/host.example.com/.x.rrd",
		"cimaa.metrics/notes.txt", "cimaa.metrics/free.rrd.tmp",
	} {
		touch(t, filepath.Join(m, f))
	}
	// Links to files and directories outside the tree are not followed.
	secret := filepath.Join(dir, "secret.rrd")
	touch(t, secret)
	os.Mkdir(filepath.Join(dir, "outside"), 0o755)
	touch(t, filepath.Join(dir, "outside", "x.rrd"))
	for from, to := range map[string]string{
		filepath.Join(m, "cimaa.metrics", "link.rrd"): secret,
		filepath.Join(m, "linkdir"):                   filepath.Join(dir, "outside"),
	} {
		if err := os.Symlink(to, from); err != nil {
			t.Fatal(err)
		}
	}
	if err := testrrd.Create(filepath.Join(dir, "rrd", "tracelog", "web1", "acme", "app-8080.rrd"), 1700000000); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(dir, "rrd", "tracelog", "web1", "acme", "notes.txt"))
	touch(t, filepath.Join(dir, "rrd", "tracelog", "web1", "stray.rrd")) // wrong depth
	return dir
}

func newIndex(t testing.TB, o Options) *Index {
	t.Helper()
	x, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func names(ss []Series) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func TestIndexLists(t *testing.T) {
	dir := dataDir(t)
	x := newIndex(t, Options{DataDir: dir})
	all, total := x.Search("", MaxLimit)
	want := []string{
		"_self/input/syslog/errors", "_self/input/syslog/lines", "_self/rrd/write_seconds",
		"cimaa.metrics/Host2.example.com/load/1m",
		"cimaa.metrics/host.example.com/disk/root/free", "cimaa.metrics/host.example.com/disk/root/used",
		"fixed/ünïcode name", "dir.rrd/inner",
	}
	for _, ds := range store.DataSources {
		want = append(want, "tracelog/web1/acme/app-8080/"+ds)
	}
	for _, p := range []string{"p50", "p95", "p99"} {
		want = append(want, "tracelog/web1/acme/app-8080/"+p)
	}
	got := names(all)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || total != len(want) || x.Len() != len(want) {
		t.Fatalf("index:\n got %q (total %d)\nwant %q", got, total, want)
	}
	s, ok := x.Resolve("cimaa.metrics/host.example.com/disk/root/free")
	if !ok || s.File != filepath.Join(dir, "rrd/metrics/cimaa.metrics/host.example.com/disk/root/free.rrd") || s.DS != "value" {
		t.Errorf("Resolve metric = %+v, %v", s, ok)
	}
	s, ok = x.Resolve("tracelog/web1/acme/app-8080/app_sum")
	if !ok || s.File != filepath.Join(dir, "rrd/tracelog/web1/acme/app-8080.rrd") || s.DS != "app_sum" {
		t.Errorf("Resolve tracelog = %+v, %v", s, ok)
	}
	// The app-time percentiles: the instance's histogram directory.
	s, ok = x.Resolve("tracelog/web1/acme/app-8080/p95")
	if !ok || s.Quantile != 0.95 || s.DS != "" || s.Hist != filepath.Join(dir, "hist/tracelog/web1/acme/app-8080") {
		t.Errorf("Resolve p95 = %+v, %v", s, ok)
	}
}

func TestResolveRefusesTraversal(t *testing.T) {
	dir := dataDir(t)
	c := &clock{t: time.Unix(1e9, 0)}
	x := newIndex(t, Options{DataDir: dir, Now: c.Now})
	x.Len()
	for _, name := range []string{
		"", "/", "../secret", "../../secret", "cimaa.metrics/../../secret",
		"cimaa.metrics/host.example.com/disk/root/../root/free",
		"./cimaa.metrics/host.example.com/disk/root/free", "cimaa.metrics//host.example.com/disk/root/free",
		"cimaa.metrics/host.example.com/disk/root/free.rrd", "cimaa.metrics/host.example.com/disk/root/free/",
		dir + "/rrd/metrics/cimaa.metrics/host.example.com/disk/root/free", "/etc/passwd",
		dir + "/secret", "secret", "cimaa.metrics/link", "linkdir/x", "outside/x",
		"cimaa.metrics/host.example.com/disk/root/free\x00", "cimaa.metrics/host.example.com\x00/disk/root/free",
		"cimaa.metrics/host.example.com/disk/root/free\n", "cimaa.metrics\\host.example.com\\disk\\root\\free",
		"tracelog/web1/acme/app-8080", "tracelog/web1/acme/app-8080/value", "tracelog/web1/acme/app-8080/../../../../secret",
		"tracelog/web1/stray/requests", "rrd/metrics/_self/input/syslog/lines", ".hidden/x", "cimaa.metrics/.tmp",
		"dir.rrd", "dir", "dir.rrd/inner.rrd", strings.Repeat("a/", 3000) + "b",
	} {
		c.Add(time.Hour) // every miss may rescan: the walk still cannot produce these
		if s, ok := x.Resolve(name); ok {
			t.Errorf("Resolve(%q) = %+v", name, s)
		}
	}
}

func TestSearch(t *testing.T) {
	x := newIndex(t, Options{DataDir: dataDir(t)})
	for _, c := range []struct {
		q     string
		limit int
		want  []string
		total int
	}{
		{"disk free", 10, []string{"cimaa.metrics/host.example.com/disk/root/free"}, 1},
		{"  DISK   Root  ", 10, []string{"cimaa.metrics/host.example.com/disk/root/free", "cimaa.metrics/host.example.com/disk/root/used"}, 2},
		{"free disk", 10, nil, 0}, // words in order
		{"root root", 10, nil, 0}, // no overlap: "root" occurs once
		{"host example", 10, []string{"cimaa.metrics/Host2.example.com/load/1m", "cimaa.metrics/host.example.com/disk/root/free", "cimaa.metrics/host.example.com/disk/root/used"}, 3},
		{"self syslog", 1, []string{"_self/input/syslog/errors"}, 2},
		{"app-8080 app_", 10, []string{"tracelog/web1/acme/app-8080/app_n", "tracelog/web1/acme/app-8080/app_sum"}, 2},
		{"ÜNÏCODE", 10, []string{"fixed/ünïcode name"}, 1},
		{"unicode", 10, nil, 0},
		{"tracelog", 3, []string{"tracelog/web1/acme/app-8080/app_n", "tracelog/web1/acme/app-8080/app_sum", "tracelog/web1/acme/app-8080/busy"}, 11},
		{"", 2, []string{"_self/input/syslog/errors", "_self/input/syslog/lines"}, 19},
	} {
		got, total := x.Search(c.q, c.limit)
		if !slices.Equal(names(got), c.want) || total != c.total {
			t.Errorf("Search(%q, %d) = %q, %d; want %q, %d", c.q, c.limit, names(got), total, c.want, c.total)
		}
	}
	if got, total := x.Search("e", 0); len(got) != 19 || total != 19 {
		t.Errorf("default limit: %d of %d", len(got), total)
	}
	if _, err := x.SelectAll("self", 3); err != nil {
		t.Errorf("SelectAll of 3 with max 3: %v", err)
	}
	if _, err := x.SelectAll("tracelog", 3); !errors.Is(err, ErrTooMany) {
		t.Errorf("SelectAll of 7 with max 3: %v", err)
	}
}

// TestAppearAndDisappear: a new file is found on its first lookup, a
// removed one is gone after the next timed walk.
func TestAppearAndDisappear(t *testing.T) {
	dir := dataDir(t)
	c := &clock{t: time.Unix(1e9, 0)}
	x := newIndex(t, Options{DataDir: dir, Interval: 50 * time.Millisecond, Now: c.Now})
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer x.Close(context.Background())
	c.Add(3 * time.Second)
	touch(t, filepath.Join(dir, "rrd/metrics/cimaa.metrics/new.example.com/mem.rrd"))
	if _, ok := x.Resolve("cimaa.metrics/new.example.com/mem"); !ok {
		t.Fatal("new file not found on a miss")
	}
	if got, total := x.Search("new.example mem", 10); total != 1 || len(got) != 1 {
		t.Fatalf("search for the new file: %d", total)
	}
	touch(t, filepath.Join(dir, "rrd/metrics/cimaa.metrics/newer.example.com/disk.rrd"))
	c.Add(3 * time.Second)
	if _, total := x.Search("newer disk", 10); total != 1 {
		t.Fatalf("a search that finds nothing rescans: %d", total)
	}
	if err := os.Remove(filepath.Join(dir, "rrd/metrics/_self/input/syslog/lines.rrd")); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the removed file gone from the list (50 ms walks)", func() bool {
		_, ok := x.get().lookup("_self/input/syslog/lines")
		return !ok
	})
}

// TestMissesAreRateLimited: lookups of unknown names rescan at most every
// MinAge.
func TestMissesAreRateLimited(t *testing.T) {
	dir := dataDir(t)
	c := &clock{t: time.Unix(1e9, 0)}
	x := newIndex(t, Options{DataDir: dir, Now: c.Now})
	first, _ := x.Updated()
	for i := range 100 {
		x.Resolve(fmt.Sprintf("cimaa.metrics/missing%d", i))
	}
	if now, _ := x.Updated(); !now.Equal(first) {
		t.Fatal("misses within MinAge rescanned")
	}
	c.Add(2 * time.Second)
	x.Resolve("cimaa.metrics/missing")
	if now, _ := x.Updated(); now.Equal(first) {
		t.Fatal("a miss after MinAge did not rescan")
	}
}

func TestMaxSeries(t *testing.T) {
	x := newIndex(t, Options{DataDir: dataDir(t), MaxSeries: 5})
	if n := x.Len(); n != 5 {
		t.Fatalf("Len = %d, want 5", n)
	}
	if _, full := x.Updated(); !full {
		t.Fatal("not marked truncated")
	}
}

func TestStartClose(t *testing.T) {
	x := newIndex(t, Options{DataDir: dataDir(t), Interval: time.Millisecond})
	for range 3 {
		if err := x.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err == nil {
		t.Fatal("second Start accepted")
	}
	first, _ := x.Updated()
	testwait.For(t, 5*time.Second, "a walk in the background", func() bool { u, _ := x.Updated(); return u.After(first) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := x.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{DataDir: "relative"}); err == nil {
		t.Fatal("relative data dir accepted")
	}
}

// TestConcurrentReaders runs lookups and searches while walks replace the
// snapshot (run with -race).
func TestConcurrentReaders(t *testing.T) {
	dir := dataDir(t)
	x := newIndex(t, Options{DataDir: dir, Interval: time.Millisecond})
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer x.Close(context.Background())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				if _, ok := x.Resolve("_self/input/syslog/errors"); !ok {
					t.Error("lost a series during a walk")
					return
				}
				x.Search("disk", 5)
				if g == 0 && i%50 == 0 {
					x.Refresh()
				}
			}
		}()
	}
	wg.Wait()
}
