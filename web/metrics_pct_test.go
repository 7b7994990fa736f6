package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/histstore"
	"graphmetrics/web/internal/testrrd"
)

// appTimes are the app times of the requests finished in second t of the
// test's histograms: t%5 requests (none in every fifth second), from 2 ms
// to 194 ms, one in ten of them ten times slower; none at all in the
// seconds skip says.
func appTimes(t int64, skip func(int64) bool) []float64 {
	if skip(t) {
		return nil
	}
	var out []float64
	for j := range t % 5 {
		v := 0.002 * float64(1+(t*7+j*13)%97)
		if (t+j)%10 == 0 {
			v *= 10
		}
		out = append(out, v)
	}
	return out
}

// pctData writes the histograms of appTimes for seconds from..until-1 of
// instance k through the histogram store, as the daemon does, and returns
// per step (keyed by its start) the merged histogram and the raw values.
func pctData(t testing.TB, dir string, k store.Key, from, until, step int64, skip func(int64) bool) (map[int64]*hist.Hist, map[int64][]float64) {
	t.Helper()
	s := histstore.New(histstore.Options{DataDir: dir})
	merged, raw := map[int64]*hist.Hist{}, map[int64][]float64{}
	var bs []store.Bucket
	for sec := from; sec < until; sec++ {
		vs := appTimes(sec, skip)
		if len(vs) == 0 {
			continue
		}
		h := hist.New(hist.Default)
		for _, v := range vs {
			h.Add(v)
		}
		bs = append(bs, store.Bucket{Time: sec, Requests: uint32(len(vs)), App: h.AppendEncode(nil)})
		m := sec - sec%step
		if merged[m] == nil {
			merged[m] = hist.New(hist.Default)
		}
		if err := merged[m].Merge(h); err != nil {
			t.Fatal(err)
		}
		raw[m] = append(raw[m], vs...)
	}
	if err := s.WriteBuckets(k, bs); err != nil {
		t.Fatal(err)
	}
	return merged, raw
}

// exportMetric exports a /metrics chart as CSV, with extra query
// parameters (the page's range).
func exportMetric(t *testing.T, c *client, ch MetricChart, extra url.Values) ([]string, map[int64][]float64) {
	t.Helper()
	q := ch.Query()
	for k, v := range extra {
		q[k] = v
	}
	r := c.get("/export/metrics.csv?" + q.Encode())
	wantStatus(t, r, http.StatusOK)
	return readCSV(t, r.body)
}

func newPlot(color, agg, expr string, names ...string) Plot {
	return Plot{Series: names, Agg: agg, Expr: expr, Color: color, Line: "LINE1"}
}

// sameValue compares an exported value with the expected one: both
// unknown, or equal up to the rounding of librrd's arithmetic.
func sameValue(got, want float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

var seriesValueRE = regexp.MustCompile(`name="series" value="([^"]*)"`)

const (
	pctH1   = "tracelog/h1/acme/app-8080/"
	dayInst = "tracelog/h3/acme/app-9090/"
	dayFrom = 1_767_225_600 // 2026-01-01 00:00 UTC
)

// TestMetricsPercentiles: every tracelog instance has p50, p95 and p99
// series on /metrics, and a chart of them exports the percentiles of the
// histograms the store holds at the chart's step, alone and combined with
// other series in RPN.
func TestMetricsPercentiles(t *testing.T) {
	bs := sampleBuckets(t)
	from, until := bs[0].Time, bs[len(bs)-1].Time+1
	emptyMinute := from - from%60 + 3*60 // no request finishes in it
	var minuteHists, dayHists map[int64]*hist.Hist
	var minuteRaw map[int64][]float64
	e := newEnvWith(t, Options{}, func(dir string) {
		minuteHists, minuteRaw = pctData(t, dir, store.Key{Host: "h1", Customer: "acme", Instance: "app-8080"}, from, until, 60,
			func(s int64) bool { return s-s%60 == emptyMinute })
		// A day of another instance, one second in ten, hour 5 empty.
		if err := testrrd.Make(rrdFile(dir, "h3", "acme", "app-9090"), testrrd.Synthetic(dayFrom, 10, 1)); err != nil {
			t.Fatal(err)
		}
		dayHists, _ = pctData(t, dir, store.Key{Host: "h3", Customer: "acme", Instance: "app-9090"}, dayFrom, dayFrom+86400, 3600,
			func(s int64) bool { return s%10 != 3 || (s-dayFrom)/3600 == 5 })
	})
	c := e.loggedIn("alice", alicePW)

	t.Run("listed", func(t *testing.T) {
		r := c.get("/metrics/u/alice/m?q=" + url.QueryEscape("re:/p(50|95|99)$"))
		wantStatus(t, r, http.StatusOK)
		var names []string
		for _, m := range seriesValueRE.FindAllStringSubmatch(r.body, -1) {
			names = append(names, m[1])
		}
		var want []string
		for _, inst := range []string{"tracelog/h1/acme/app-8080/", "tracelog/h2/acme/app-8080/", dayInst} {
			for _, p := range []string{"p50", "p95", "p99"} {
				want = append(want, inst+p)
			}
		}
		if !slices.Equal(names, want) {
			t.Fatalf("percentile series: %q, want %q", names, want)
		}
		if n := strings.Count(r.body, `<label title="app time (A − C) percentile in seconds`); n != len(want) {
			t.Fatalf("%d percentiles say what they are", n)
		}
		// Beside the instance's data sources.
		r = c.get("/metrics/u/alice/m?q=" + url.QueryEscape("h1 app-8080"))
		names = names[:0]
		for _, m := range seriesValueRE.FindAllStringSubmatch(r.body, -1) {
			names = append(names, strings.TrimPrefix(m[1], pctH1))
		}
		if got := strings.Join(names, " "); got != "app_n app_sum busy errors hung p50 p95 p99 requests starts waiting" {
			t.Fatalf("h1 app-8080 series: %s", got)
		}
	})

	t.Run("minutes", func(t *testing.T) {
		// Added through the builder's form, then given the sample's minutes.
		wantStatus(t, c.post("/metrics/u/alice/m/plots", url.Values{"series": {pctH1 + "p95"}, "title": {"p95"}}), http.StatusSeeOther)
		cs := e.metricCharts("alice", "m")
		if len(cs) != 1 || len(cs[0].Plots) != 1 {
			t.Fatalf("charts: %+v", cs)
		}
		ch := cs[0]
		ch.Start, ch.End, ch.Hours, ch.Step = from-from%60, until-until%60+60, 0, 60
		ch.Plots = append(ch.Plots,
			newPlot("ff0000", aggExpr, "a,b,-", pctH1+"p99", pctH1+"p50"),
			newPlot("00ff00", aggExpr, "a,b,*", pctH1+"p95", "tracelog/h2/acme/app-8080/requests"))
		legends, rows := exportMetric(t, c, ch, nil)
		if want := []string{pctH1 + "p95", "a,b,-", "a,b,*"}; !slices.Equal(legends, want) {
			t.Fatalf("legends %q, want %q", legends, want)
		}
		reqs := minutes(bs)
		seen := 0
		for m := ch.Start; m < ch.End; m += 60 {
			row, ok := rows[m+60] // the row ending at the minute's end
			if !ok {
				t.Fatalf("no row at %d: %v", m+60, rows)
			}
			h := minuteHists[m]
			p95, p99, p50 := math.NaN(), math.NaN(), math.NaN()
			if h != nil {
				p95, p99, p50 = h.Quantile(0.95), h.Quantile(0.99), h.Quantile(0.5)
				seen++
				sorted := slices.Sorted(slices.Values(minuteRaw[m]))
				if exact := hist.NearestRank(sorted, 0.95); !hist.Default.Within(row[0], exact) {
					t.Errorf("minute %d: p95 %g, exact %g", m, row[0], exact)
				}
			}
			// The RRD file's minute row, unknown until the minute is over
			// (the first minute, which the file holds only part of, is
			// not checked).
			rq := math.NaN()
			if r, ok := reqs[m]; ok && m+60 <= until {
				rq = r.req / 60
			}
			for k, want := range []float64{p95, p99 - p50, p95 * rq} {
				if k == 2 && m < from {
					continue
				}
				if !sameValue(row[k], want) {
					t.Errorf("minute %d, %s: %g, want %g", m, legends[k], row[k], want)
				}
			}
		}
		if seen < 6 || !math.IsNaN(rows[emptyMinute+60][0]) {
			t.Fatalf("%d minutes with requests; the empty one: %v", seen, rows[emptyMinute+60])
		}
		// The image of the same chart draws.
		r := c.get("/graph/metrics.png?" + ch.Query().Encode())
		wantStatus(t, r, http.StatusOK)
		if msg := r.Header.Get("X-Graph-Error"); msg != "" || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("graph: %q %s", msg, r.Header.Get("Content-Type"))
		}
		// JSON: unknown is null.
		q := ch.Query()
		r = c.get("/export/metrics.json?" + q.Encode())
		wantStatus(t, r, http.StatusOK)
		var gs []graphiteSeries
		if err := json.Unmarshal([]byte(r.body), &gs); err != nil || len(gs) != 3 {
			t.Fatalf("JSON: %v %.300s", err, r.body)
		}
		if !strings.Contains(r.body, fmt.Sprintf("[null,%d]", emptyMinute+60)) {
			t.Errorf("the empty minute is not null in JSON: %.400s", r.body)
		}
	})

	t.Run("day", func(t *testing.T) {
		// The page's range, a day, at a one-hour step.
		ch := MetricChart{Title: "day", Plots: []Plot{newPlot("0072b2", aggOne, "", dayInst+"p95")},
			Controls: Controls{Hours: 24, Step: 3600, Width: 800, Height: 250}}
		_, rows := exportMetric(t, c, ch, url.Values{"from": {strconv.Itoa(dayFrom)}, "until": {strconv.Itoa(dayFrom + 86400)}})
		known := 0
		for i := range int64(24) {
			h, want := dayHists[dayFrom+i*3600], math.NaN()
			if h != nil {
				want = h.Quantile(0.95)
				known++
			}
			if got := rows[dayFrom+(i+1)*3600]; len(got) != 1 || !sameValue(got[0], want) {
				t.Errorf("hour %d: %v, want %g", i, got, want)
			}
		}
		if known != 23 || dayHists[dayFrom+5*3600] != nil {
			t.Fatalf("%d hours with requests, hour 5 empty: %v", known, dayHists[dayFrom+5*3600] == nil)
		}
	})

	t.Run("graphite", func(t *testing.T) {
		// Listed once per instance, and rendered from the same histograms:
		// the last ten minutes of the day, at the store's 1-second rows.
		r := c.get("/metrics/find?query=tracelog.h3.acme.app-9090.p*")
		wantStatus(t, r, http.StatusOK)
		var found []struct{ ID string }
		if err := json.Unmarshal([]byte(r.body), &found); err != nil || len(found) != 3 || found[1].ID != "tracelog.h3.acme.app-9090.p95" {
			t.Fatalf("find: %v %s", err, r.body)
		}
		end := int64(dayFrom + 86400)
		secs, _ := pctData(t, t.TempDir(), store.Key{Host: "x", Customer: "x", Instance: "x"}, end-600, end, 1,
			func(s int64) bool { return s%10 != 3 })
		r = c.get("/render?" + url.Values{"target": {"tracelog.h3.acme.app-9090.p95"}, "format": {"json"},
			"from": {strconv.FormatInt(end-600, 10)}, "until": {strconv.FormatInt(end, 10)}}.Encode())
		wantStatus(t, r, http.StatusOK)
		var gs []graphiteSeries
		if err := json.Unmarshal([]byte(r.body), &gs); err != nil || len(gs) != 1 || len(gs[0].Datapoints) < 590 {
			t.Fatalf("render: %v %.300s", err, r.body)
		}
		known := 0
		for _, dp := range gs[0].Datapoints {
			want, got := math.NaN(), math.NaN()
			if h := secs[int64(*dp[1])]; h != nil {
				want = h.Quantile(0.95)
				known++
			}
			if dp[0] != nil {
				got = *dp[0]
			}
			if !sameValue(got, want) {
				t.Errorf("render at %v: %g, want %g", *dp[1], got, want)
			}
		}
		if known < 50 {
			t.Fatalf("%d seconds with requests rendered", known)
		}
	})

	t.Run("bounds", func(t *testing.T) {
		// An export over the limit is refused before any histogram is read.
		ch := MetricChart{Title: "big", Plots: []Plot{newPlot("0072b2", aggOne, "", dayInst+"p95")},
			Controls: Controls{Start: dayFrom, End: dayFrom + 700*86400, Step: 1, Width: 800, Height: 250}}
		wantStatus(t, c.get("/export/metrics.csv?"+ch.Query().Encode()), http.StatusRequestEntityTooLarge)
		// Two days at 1 s from the sample's minutes, which the store keeps
		// at 1 s: more steps than one read gives, so a coarser step.
		ch.Plots[0].Series[0] = pctH1 + "p95"
		ch.Start, ch.End = from, from+2*86400
		_, rows := exportMetric(t, c, ch, nil)
		known := 0
		for _, v := range rows {
			if !math.IsNaN(v[0]) {
				known++
			}
		}
		if known < 100 {
			t.Fatalf("two days at 1 s: %d known values of %d", known, len(rows))
		}
	})
}
