package web

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"graphmetrics/web/internal/testrrd"
)

// BenchmarkMetricsAverage50: a /metrics chart of one plot, the average of
// 50 series (one day of one-minute values each), 800×250, through HTTP;
// target median ≤ 300 ms.
func BenchmarkMetricsAverage50(b *testing.B) {
	const n = 50
	var names []string
	e := newEnvWith(b, Options{}, func(dir string) {
		vs := make([]float64, 1440)
		for i := range vs {
			vs[i] = float64(i % 97)
		}
		first := metricFile(dir, "bench/host-01/load")
		if err := testrrd.MakeMetric(first, 60, benchEnd-86400, vs); err != nil {
			b.Fatal(err)
		}
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("bench/host-%02d/load", i)
			names = append(names, name)
			if i > 1 {
				copyFile(b, first, metricFile(dir, name))
			}
		}
	})
	c := e.loggedIn("alice", alicePW)
	m := MetricChart{Title: "average of 50", Plots: []Plot{{Series: names, Agg: aggAverage, Color: "1f77b4", Line: "LINE2"}},
		Controls: Controls{Start: benchEnd - 86400, End: benchEnd, Width: 800, Height: 250}}
	u := e.base + "/graph/metrics.png?" + m.Query().Encode()
	fetch(b, c.c, u)
	var ds []time.Duration
	for b.Loop() {
		for range 30 {
			t := time.Now()
			fetch(b, c.c, u)
			ds = append(ds, time.Since(t))
		}
	}
	b.ReportMetric(median(ds), "ms-median")
	b.ReportMetric(maxMS(ds), "ms-max")
}

// BenchmarkMetricsSearch20k: the /metrics page with a search over 20,000
// series (10,000 metric files and the 7 data sources of 1,430 tracelog
// files; empty files, as the index only lists names), through HTTP;
// target median ≤ 50 ms.
func BenchmarkMetricsSearch20k(b *testing.B) {
	e := newEnvWith(b, Options{}, func(dir string) {
		for h := range 500 {
			for _, m := range []string{"disk/root/free", "disk/root/used", "disk/var/free", "disk/var/used",
				"load/1m", "load/5m", "load/15m", "mem/free", "mem/used", "mem/cached", "net/eth0/rx",
				"net/eth0/tx", "cpu/user", "cpu/system", "cpu/idle", "cpu/iowait", "proc/count",
				"proc/zombies", "swap/used", "uptime"} {
				touch(b, metricFile(dir, fmt.Sprintf("cimaa.metrics/host-%03d/%s", h, m)))
			}
		}
		for h := range 110 {
			for c := range 13 {
				touch(b, rrdFile(dir, fmt.Sprintf("app%03d", h), fmt.Sprintf("customer%02d", c), "app-"+strconv.Itoa(8080+c)))
			}
		}
	})
	if n := e.s.series.Len(); n < 20000 {
		b.Fatalf("%d series", n)
	}
	c := e.loggedIn("alice", alicePW)
	queries := []struct{ name, q string }{
		{"typical", "HOST-042 disk free"}, {"tracelog", "app017 customer03 requests"},
		{"broad", "e"}, {"nomatch", "no such series"}, {"all", ""},
	}
	ds := make([][]time.Duration, len(queries))
	for b.Loop() {
		for i, q := range queries {
			u := e.base + "/metrics/u/alice/m?q=" + url.QueryEscape(q.q)
			for range 21 {
				t := time.Now()
				get(b, c, u)
				ds[i] = append(ds[i], time.Since(t))
			}
		}
	}
	for i, q := range queries {
		b.ReportMetric(median(ds[i]), "ms-median-"+q.name)
	}
}

func get(b *testing.B, c *client, u string) {
	r, err := c.c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if err != nil || r.StatusCode != 200 {
		b.Fatalf("GET %s: %v %d", u, err, r.StatusCode)
	}
}

func maxMS(ds []time.Duration) float64 {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return float64(m) / float64(time.Millisecond)
}

func touch(b testing.TB, f string) {
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		b.Fatal(err)
	}
}

func copyFile(b testing.TB, from, to string) {
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(to), 0o755)
	}
	if err == nil {
		err = os.WriteFile(to, data, 0o644)
	}
	if err != nil {
		b.Fatal(err)
	}
}
