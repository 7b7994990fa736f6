package web

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/web/internal/testrrd"
	"graphmetrics/web/overview"
)

// TestOverviewSample: the sample's two instances (h1, h2) make one pool
// with their rpm in its last minute, the page and JSON agree, and the
// filter keeps only what it names.
func TestOverviewSample(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	r := c.get("/overview.json?from=2009-07-30T15:40&until=2009-07-30T16:00")
	wantStatus(t, r, http.StatusOK)
	var o overview.Overview
	if err := json.Unmarshal([]byte(r.body), &o); err != nil {
		t.Fatal(err)
	}
	p := findPool(&o, "acme", "app-instances")
	if p == nil || len(p.Instances) != 2 || p.RPM == nil || p.Instances[0].RPM == nil {
		t.Fatalf("overview: %s", r.body)
	}
	// The sample's last whole minute, from its buckets: a minute's row is
	// written once an update reaches its end (the bucket of second t is
	// the update at t+1).
	bs := sampleBuckets(t)
	last := (bs[len(bs)-1].Time + 1) / 60 * 60
	n := map[int64]float64{}
	for _, b := range bs {
		n[(b.Time/60+1)*60] += float64(b.Requests)
	}
	if got := *p.Instances[0].RPM; got != n[last] || *p.RPM != 2*n[last] {
		t.Errorf("rpm %v (pool %v), want %v in the minute ending %d", got, *p.RPM, n[last], last)
	}
	if *p.Instances[0].LastSeen != last {
		t.Errorf("last_seen %d, want %d", *p.Instances[0].LastSeen, last)
	}
	page := c.get("/?from=2009-07-30T15:40&until=2009-07-30T16:00")
	wantStatus(t, page, http.StatusOK)
	for _, s := range []string{"app-instances", `<svg class="spark rpm"`, "on h1", "on h2", `action="/u/alice/main/charts"`} {
		if !strings.Contains(page.body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if r := c.get("/?q=nothing-like-it"); !strings.Contains(r.body, "Nothing matches") {
		t.Errorf("filter: %s", r.body)
	}
	if r := c.get("/overview.json?q=H2"); !strings.Contains(r.body, `"host":"h2"`) || strings.Contains(r.body, `"host":"h1"`) {
		t.Errorf("filter H2: %s", r.body)
	}
}

// fixedState is the daemon's in-memory state of a benchmark's fleet.
type fixedState []overview.Live

func (f fixedState) Live(context.Context) ([]overview.Live, error) { return f, nil }

// BenchmarkOverview2000: 2,000 instances in 100 pools, an hour of
// traffic each in the 1-minute archive (small archives: a fetch reads the
// rows it needs, whatever the file's length), levels from the in-memory
// state: the page and its JSON, gzipped as a browser asks.
func BenchmarkOverview2000(b *testing.B) {
	now := time.Now().Truncate(time.Minute)
	start := now.Add(-time.Hour).Unix()
	tmpl := filepath.Join(b.TempDir(), "one.rrd")
	arch := []store.Archive{{CF: "AVERAGE", Step: time.Second, Span: 5 * time.Minute},
		{CF: "AVERAGE", Step: time.Minute, Span: 3 * time.Hour}, {CF: "MAX", Step: time.Minute, Span: 3 * time.Hour},
		{CF: "AVERAGE", Step: time.Hour, Span: 48 * time.Hour}}
	if err := testrrd.CreateArchives(tmpl, start, arch); err != nil {
		b.Fatal(err)
	}
	if err := testrrd.Update(tmpl, testrrd.Synthetic(start, 3600, 1)); err != nil {
		b.Fatal(err)
	}
	one, err := os.ReadFile(tmpl)
	if err != nil {
		b.Fatal(err)
	}
	var state fixedState
	e := newEnvWith(b, Options{Overview: &state}, func(dir string) {
		for i := range 2000 {
			cust, pool, host := fmt.Sprintf("cust%d", i/200), fmt.Sprintf("app%d", i/20), fmt.Sprintf("host%d", i%20)
			inst := fmt.Sprintf("%s-%d", pool, 8000+i%20)
			f := rrdFile(dir, host, cust, inst)
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(f, one, 0o644); err != nil {
				b.Fatal(err)
			}
			l := overview.Live{Host: host, Customer: cust, Instance: inst, Waiting: i % 3, Busy: i % 5,
				LastSeen: now, LastHeard: now}
			if i%97 == 0 {
				l.WaitingSince = now.Add(-5 * time.Minute)
			}
			state = append(state, l)
		}
	})
	e.clock.Add(now.Sub(e.clock.Now()))
	c := e.loggedIn("alice", alicePW)
	// The baseline is what "/" led to before: the user's tracelog page
	// with the tree of every instance.
	for _, path := range []string{"/", "/overview.json", "/u/alice/main"} {
		b.Run(strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"), func(b *testing.B) {
			var size, raw int
			var times []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				t0 := time.Now()
				size, raw = gzipGet(b, c, e.base+path)
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
			b.ReportMetric(float64(size)/1024, "KB-gzip")
			b.ReportMetric(float64(raw)/1024, "KB-raw")
		})
	}
}

// cpuTime is the CPU time of this process (server, test and librrd).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gzipGet fetches url as a browser does (gzip accepted), returning the
// compressed and plain sizes.
func gzipGet(b *testing.B, c *client, url string) (int, int) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	r, err := c.c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Body.Close()
	z, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != 200 {
		b.Fatalf("GET %s: %d %v", url, r.StatusCode, err)
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		return len(z), len(z)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(z)))
	if err != nil {
		b.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	return len(z), len(plain)
}
