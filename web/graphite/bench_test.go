package graphite

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks of issue 16, each with graphite-web's time on the same files
// in the same run (go test ./web/graphite -run '^$' -bench . -benchtime 20x):
//
//   - sumSeries over 500 series × 1 day at 1 min: ≤ 150 ms median;
//   - /metrics/find over 100,000 series: ≤ 20 ms median.

const benchDay = 1440

// sumSeriesDir holds rrd/metrics/bench/sNNN.rrd: 500 files of one day of
// 1-minute values from t0 (one archive, so the copies stay small).
func sumSeriesDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	first := filepath.Join(dir, "rrd", "metrics", "bench", "s000.rrd")
	if err := os.MkdirAll(filepath.Dir(first), 0o755); err != nil {
		b.Fatal(err)
	}
	rrd := func(args ...string) {
		if out, err := exec.Command("rrdtool", args...).CombinedOutput(); err != nil {
			b.Fatalf("rrdtool %v: %v %s", args[:2], err, out)
		}
	}
	rrd("create", first, "--start", strconv.Itoa(t0), "--step", "60", "DS:value:GAUGE:600:U:U", "RRA:AVERAGE:0.5:1:1500")
	up := []string{"update", first}
	for i := range benchDay {
		up = append(up, fmt.Sprintf("%d:%g", t0+60*(i+1), 100+50*math.Sin(float64(i)/30)))
	}
	rrd(up...)
	data, err := os.ReadFile(first)
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < 500; i++ {
		if err := os.WriteFile(filepath.Join(filepath.Dir(first), fmt.Sprintf("s%03d.rrd", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// findDir holds 100,000 metric series: rrd/metrics/bench/dNN/sNNNN.rrd,
// 100 directories of 1,000 (empty files: finding reads directories only,
// in graphmetrics and in graphite-web).
func findDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	for d := range 100 {
		sub := filepath.Join(dir, "rrd", "metrics", "bench", fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for s := range 1000 {
			f, err := os.Create(filepath.Join(sub, fmt.Sprintf("s%04d.rrd", s)))
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	}
	return dir
}

// timeHTTP runs GET path?q b.N times and returns the median.
func timeHTTP(b *testing.B, base, path string, q url.Values, check func(body string) error) time.Duration {
	b.Helper()
	u := base + path + "?" + q.Encode()
	var d []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d = append(d, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d %.300s", u, resp.StatusCode, body)
		}
		if err := check(string(body)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(d)
	return d[len(d)/2]
}

// graphiteMedian times the same request in graphite-web.
func graphiteMedian(b *testing.B, dir, path string, q url.Values, repeat int) time.Duration {
	b.Helper()
	ans := runReference(b, dir, []refRequest{{Path: path, Params: q, Repeat: repeat}})
	if ans[0].Status != 200 {
		b.Fatalf("graphite-web %s: %d %.300s", path, ans[0].Status, ans[0].Body)
	}
	s := slices.Clone(ans[0].Seconds)
	slices.Sort(s)
	return time.Duration(s[len(s)/2] * float64(time.Second))
}

func report(b *testing.B, ours, theirs time.Duration) {
	b.ReportMetric(float64(ours)/1e6, "median-ms")
	b.ReportMetric(float64(theirs)/1e6, "graphite-web-median-ms")
	b.ReportMetric(float64(theirs)/float64(ours), "x-faster")
}

func BenchmarkSumSeries500x1Day(b *testing.B) {
	dir := sumSeriesDir(b)
	_, srv := newAPI(b, dir, Options{})
	q := url.Values{"target": {"sumSeries(bench.*)"}, "format": {"json"},
		"from": {strconv.Itoa(t0)}, "until": {strconv.Itoa(t0 + 86400)}}
	ours := timeHTTP(b, srv.URL, "/render", q, func(body string) error {
		if !strings.HasPrefix(body, `[{"target": "sumSeries(bench.*)"`) || strings.Count(body, "], [") < benchDay-2 {
			return fmt.Errorf("answer %.200s", body)
		}
		return nil
	})
	q.Set("target", "sumSeries(metrics.bench.*.value)")
	report(b, ours, graphiteMedian(b, dir, "/render", q, 5))
}

func BenchmarkFind100k(b *testing.B) {
	dir := findDir(b)
	a, srv := newAPI(b, dir, Options{})
	if n := a.ev.Names.Tree().Len(); n != 100_000 {
		b.Fatalf("%d series", n)
	}
	for _, c := range []struct{ name, query string }{{"top", "bench.*"}, {"dir", "bench.d42.*"}, {"glob", "bench.d4?.s0[0-2]1*"}} {
		b.Run(c.name, func(b *testing.B) {
			ours := timeHTTP(b, srv.URL, "/metrics/find", url.Values{"query": {c.query}}, func(body string) error {
				if !strings.HasPrefix(body, `[{"text":`) {
					return fmt.Errorf("answer %.200s", body)
				}
				return nil
			})
			report(b, ours, graphiteMedian(b, dir, "/metrics/find", url.Values{"query": {"metrics." + c.query}}, 5))
		})
	}
}
