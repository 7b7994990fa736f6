package web

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/histstore"
	"graphmetrics/web/internal/testrrd"
)

// latencyEnv is one instance (b1 of bench on hb) with a year of app-time
// histograms: a second every ten minutes holding that time's requests,
// then a last day of every second at 10 requests/s.
func latencyEnv(b *testing.B) (*env, *client) {
	b.Helper()
	e := newEnv(b, Options{})
	if err := testrrd.Make(rrdFile(e.dir, "hb", "bench", "b1"), testrrd.Synthetic(benchEnd-86400, 86400, 1)); err != nil {
		b.Fatal(err)
	}
	k := store.Key{Host: "hb", Customer: "bench", Instance: "b1"}
	s := histstore.New(histstore.Options{DataDir: e.dir})
	r := rand.New(rand.NewPCG(1, 2))
	h := hist.New(hist.Default)
	var bs []store.Bucket
	flush := func() {
		if err := s.WriteBuckets(k, bs); err != nil {
			b.Fatal(err)
		}
		bs = bs[:0]
	}
	second := func(t int64, n int) {
		h.Reset()
		for range n {
			v := math.Exp(r.NormFloat64()*0.7 - 3)
			if (t/3600)%24 >= 20 && r.IntN(10) == 0 { // a slow tail every evening
				v *= 30
			}
			h.Add(v)
		}
		bs = append(bs, store.Bucket{Time: t, App: h.AppendEncode(nil)})
		if len(bs) == 100 {
			flush()
		}
	}
	for t := int64(benchEnd - 365*86400); t < benchEnd-86400; t += 600 {
		second(t, 600)
	}
	for t := int64(benchEnd - 86400); t < benchEnd; t++ {
		second(t, 10)
	}
	flush()
	return e, e.loggedIn("alice", alicePW)
}

// BenchmarkLatencyCharts: a one-day heatmap (target median ≤ 100 ms) and a
// one-year latency chart of one instance, 800×250, through HTTP and the
// render workers.
func BenchmarkLatencyCharts(b *testing.B) {
	e, c := latencyEnv(b)
	meds := map[string]float64{}
	for b.Loop() {
		for _, ch := range []struct {
			name, view string
			days       int64
		}{{"heatmap-day", "heatmap", 1}, {"latency-year", "latency", 365}, {"latency-day", "latency", 1}} {
			url := e.base + "/graph/tracelog.png?customer=bench&host=hb&instance=b1&view=" + ch.view +
				"&start=" + strconv.FormatInt(benchEnd-ch.days*86400, 10) + "&end=" + strconv.FormatInt(benchEnd, 10) + "&w=800&h=250"
			meds[ch.name] = median30(b, c, url)
		}
	}
	for name, m := range meds {
		b.ReportMetric(m, name+"-ms-median")
	}
}

// BenchmarkMetricPercentiles: /metrics charts of b1's p95 (images and a
// CSV export, through HTTP and the render workers), each beside the same
// chart of its RRD data source requests as the baseline: a day at the
// image's step, a year, three hours at 1 s, and p99 − p50 over a day.
func BenchmarkMetricPercentiles(b *testing.B) {
	e, c := latencyEnv(b)
	const inst = "tracelog/hb/bench/b1/"
	chart := func(days int64, step int, agg, expr string, names ...string) MetricChart {
		return MetricChart{Title: "bench", Plots: []Plot{{Series: names, Agg: agg, Expr: expr, Color: "0072b2", Line: "LINE1"}},
			Controls: Controls{Start: benchEnd - days*86400, End: benchEnd, Step: step, Width: 800, Height: 250}}
	}
	cases := []struct {
		name, path string
		c          MetricChart
	}{
		{"p95-day-png", "/graph/metrics.png", chart(1, 0, aggOne, "", inst+"p95")},
		{"requests-day-png", "/graph/metrics.png", chart(1, 0, aggOne, "", inst+"requests")},
		{"p95-year-png", "/graph/metrics.png", chart(365, 0, aggOne, "", inst+"p95")},
		{"p99-p50-day-png", "/graph/metrics.png", chart(1, 0, aggExpr, "a,b,-", inst+"p99", inst+"p50")},
		{"p95-3h-1s-csv", "/export/metrics.csv", chart(0, 1, aggOne, "", inst+"p95")},
		{"requests-3h-1s-csv", "/export/metrics.csv", chart(0, 1, aggOne, "", inst+"requests")},
	}
	for i := range cases {
		if cases[i].c.Start == benchEnd {
			cases[i].c.Start = benchEnd - 3*3600
		}
	}
	meds := map[string]float64{}
	for b.Loop() {
		for _, k := range cases {
			meds[k.name] = median30(b, c, e.base+k.path+"?"+k.c.Query().Encode())
		}
	}
	for name, m := range meds {
		b.ReportMetric(m, name+"-ms-median")
	}
}

// median30 fetches url once, then 30 times: the median in milliseconds.
func median30(b *testing.B, c *client, url string) float64 {
	fetch(b, c.c, url)
	var ds []time.Duration
	for range 30 {
		t := time.Now()
		fetch(b, c.c, url)
		ds = append(ds, time.Since(t))
	}
	return median(ds)
}
