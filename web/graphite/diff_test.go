package graphite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// refRequest is one request for graphite-web (testdata/graphite_ref.py).
type refRequest struct {
	Path   string              `json:"path"`
	Params map[string][]string `json:"params"`
	Method string              `json:"method,omitempty"`
	Repeat int                 `json:"repeat,omitempty"`
}

type refAnswer struct {
	Status  int       `json:"status"`
	Body    string    `json:"body"`
	Seconds []float64 `json:"seconds"`
}

const refPython = "/usr/bin/python3"

// runReference runs graphite-web over dir/rrd and returns its answers.
func runReference(t testing.TB, dir string, reqs []refRequest) []refAnswer {
	t.Helper()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/graphite/render/functions.py"); err != nil {
		t.Fatalf("graphite-web is not installed (make deps installs graphite-web and python3-rrdtool): %v", err)
	}
	in, err := json.Marshal(map[string]any{"dir": filepath.Join(dir, "rrd"), "requests": reqs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(refPython, filepath.Join("testdata", "graphite_ref.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("graphite-web: %v\n%s", err, stderr.String())
	}
	var ans []refAnswer
	if err := json.Unmarshal(out, &ans); err != nil || len(ans) != len(reqs) {
		t.Fatalf("graphite-web answered %d of %d (%v): %.500s", len(ans), len(reqs), err, out)
	}
	return ans
}

// Graphite's RRD finder names rrd/metrics/a/b.rrd "metrics.a.b.value";
// graphmetrics names it "a.b". Targets are written in Graphite's form.
var graphiteMetricName = regexp.MustCompile(`metrics\.([^()'" ]+?)\.value\b`)

func ours(target string) string { return graphiteMetricName.ReplaceAllString(target, "$1") }

// graphiteCrashes are targets graphite-web answers with a 500 when the
// range holds None (perSecond or nonNegativeDerivative with a maxValue or
// minValue).
var graphiteCrashes = regexp.MustCompile(`^(perSecond|nonNegativeDerivative)\([^,]*,`)

// diffTargets: every function of issue 16, globs, consolidation.
var diffTargets = []string{
	"tracelog.h1.acme.app-8080.requests",
	"tracelog.*.acme.*.requests",
	"tracelog.h1.acme.app-808?.busy",
	"tracelog.h[12].*.*.waiting",
	"tracelog.{h1,h2}.acme.app-8080.errors",
	"tracelog.h[!2].acme.app-80[7-8]*.app_n",
	"sumSeries(tracelog.*.*.*.requests)",
	"sumSeries(tracelog.h1.*.*.requests,tracelog.h2.*.*.requests)",
	"averageSeries(tracelog.*.acme.*.app_n)",
	"minSeries(tracelog.*.*.*.busy)",
	"maxSeries(tracelog.*.*.*.busy)",
	"diffSeries(tracelog.h1.acme.app-8080.requests,tracelog.h1.acme.app-8081.requests)",
	"divideSeries(tracelog.h1.acme.*.app_sum,tracelog.h1.acme.app-8080.app_n)",
	"multiplySeries(tracelog.h1.acme.app-8080.requests,tracelog.h1.acme.app-8081.busy)",
	"asPercent(tracelog.*.acme.*.requests)",
	"asPercent(tracelog.h1.acme.app-8080.errors,tracelog.h1.acme.app-8080.requests)",
	"asPercent(tracelog.*.acme.*.requests,50)",
	"asPercent(tracelog.h1.acme.*.errors,tracelog.h1.acme.*.requests)",
	"scale(tracelog.h1.acme.app-8080.requests,60)",
	"scale(tracelog.h1.acme.app-8080.app_sum,0.001)",
	"offset(tracelog.h1.acme.*.busy,-1.5)",
	"absolute(offset(tracelog.h1.acme.app-8080.busy,-2))",
	"alias(sumSeries(tracelog.*.*.*.requests),'all requests')",
	"aliasByNode(tracelog.*.acme.*.requests,1,3)",
	"aliasByNode(scale(tracelog.*.acme.*.requests,2),-2)",
	`aliasSub(tracelog.*.acme.*.requests,'app-(\d+)','port \1')`,
	"groupByNode(tracelog.*.*.*.requests,2,'sumSeries')",
	"groupByNode(tracelog.*.*.*.busy,1)",
	"groupByNode(tracelog.*.*.*.waiting,1,'max')",
	"sortByMaxima(tracelog.*.*.*.waiting)",
	"highestMax(tracelog.*.*.*.requests,2)",
	"highestCurrent(tracelog.*.*.*.busy,1)",
	"highestAverage(tracelog.*.*.*.requests,2)",
	"lowestAverage(tracelog.*.*.*.requests,2)",
	"limit(tracelog.*.*.*.requests,2)",
	"exclude(tracelog.*.*.*.requests,'worker')",
	"grep(tracelog.*.*.*.requests,'h2')",
	"perSecond(integral(tracelog.h1.acme.app-8080.requests))",
	"perSecond(metrics.counter.value)",
	"nonNegativeDerivative(metrics.counter.value)",
	"nonNegativeDerivative(metrics.counter.value,6000)",
	"nonNegativeDerivative(tracelog.h1.acme.app-8080.requests,15,2)",
	"nonNegativeDerivative(tracelog.h1.acme.app-8080.waiting)",
	"derivative(tracelog.h1.acme.app-8080.busy)",
	"integral(tracelog.h1.acme.app-8080.requests)",
	"movingAverage(tracelog.h1.acme.app-8080.requests,10)",
	"movingAverage(tracelog.h1.acme.*.requests,'5min')",
	"movingAverage(metrics.disk.*.free.value,5,0.8)",
	"summarize(tracelog.h1.acme.app-8080.requests,'5min')",
	"summarize(tracelog.*.acme.*.busy,'10min','max')",
	"summarize(tracelog.h1.acme.app-8080.requests,'7min','avg',true)",
	"summarize(metrics.disk.web1.free.value,'1h','last')",
	"hitcount(tracelog.h1.acme.app-8080.requests,'5min')",
	"hitcount(metrics.disk.web2.free.value,'7min')",
	"keepLastValue(removeBelowValue(tracelog.h1.acme.app-8080.requests,5))",
	"keepLastValue(removeAboveValue(tracelog.h1.acme.app-8080.requests,10),2)",
	"keepLastValue(metrics.disk.*.free.value)",
	"transformNull(removeBelowValue(tracelog.h1.acme.app-8080.requests,10),-1)",
	"transformNull(metrics.disk.web1.free.value)",
	"transformNull(metrics.disk.web1.free.value,0,metrics.disk.web2.free.value)",
	"timeShift(tracelog.h1.acme.app-8080.requests,'10min')",
	"timeShift(tracelog.h1.acme.app-8080.requests,'-5min',false)",
	"consolidateBy(tracelog.h1.acme.app-8080.requests,'max')",
	"consolidateBy(tracelog.*.acme.*.requests,'sum')",
	"consolidateBy(metrics.disk.web3.free.value,'first')",
	"constantLine(42)",
	"constantLine(0.25)",
	"removeBelowValue(metrics.disk.*.free.value,1500)",
	"removeAboveValue(tracelog.*.*.*.busy,2)",
	"metrics.disk.*.free.value",
	"sumSeries(metrics.disk.*.free.value)",
	"averageSeries(metrics.disk.web{1,3}.free.value)",
}

type diffRange struct {
	from, until string
	mdp         string
}

var diffRanges = []diffRange{
	{fmt.Sprint(t0 + 4000), fmt.Sprint(t0 + 5200), ""},       // 1 s archive
	{fmt.Sprint(t0 + 4000), fmt.Sprint(t0 + 7600), "300"},    // consolidated by maxDataPoints
	{fmt.Sprint(t0), fmt.Sprint(t0 + tSpan), ""},             // 1 min archive
	{"-3h", "-1h", "97"},                                     // relative to now, odd maxDataPoints
	{"01:00_20231114", "03:30_20231114", "1"},                // HH:MM_YYYYMMDD, one point
	{fmt.Sprint(t0 + 600), fmt.Sprint(t0 + 2600), "1000000"}, // maxDataPoints above the points
}

func renderParams(target string, r diffRange) map[string][]string {
	p := map[string][]string{"target": {target}, "format": {"json"}, "from": {r.from}, "until": {r.until},
		"now": {fmt.Sprint(t0 + tSpan)}}
	if r.mdp != "" {
		p["maxDataPoints"] = []string{r.mdp}
	}
	return p
}

func TestDifferentialAgainstGraphiteWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("runs graphite-web")
	}
	dir := fixture(t)
	_, srv := newAPI(t, dir, Options{})
	var reqs []refRequest
	type key struct {
		target string
		r      diffRange
	}
	var keys []key
	for _, tg := range diffTargets {
		for _, r := range diffRanges {
			reqs = append(reqs, refRequest{Path: "/render", Params: renderParams(tg, r)})
			keys = append(keys, key{tg, r})
		}
	}
	ans := runReference(t, dir, reqs)
	compared, crashed := 0, 0
	for i, a := range ans {
		k := keys[i]
		if a.Status == 500 && graphiteCrashes.MatchString(k.target) {
			// graphite-web's _nonNegativeDelta compares None with
			// maxValue/minValue (a TypeError): graphmetrics treats None as
			// missing, as for every other point.
			code, body := get(t, srv, "/render", url.Values(renderParams(ours(k.target), k.r)))
			if code != 200 {
				t.Errorf("%s %+v: status %d: %s", k.target, k.r, code, body)
			}
			crashed++
			continue
		}
		if a.Status != 200 {
			t.Errorf("graphite-web: %s %+v: status %d: %.300s", k.target, k.r, a.Status, a.Body)
			continue
		}
		want := decodeRender(t, a.Body)
		for j := range want {
			want[j].Target = ours(want[j].Target)
		}
		q := url.Values(renderParams(ours(k.target), k.r))
		code, body := get(t, srv, "/render", q)
		if code != 200 {
			t.Errorf("%s %+v: status %d: %s", k.target, k.r, code, body)
			continue
		}
		got := decodeRender(t, body)
		if msg := diffSeries(got, want); msg != "" {
			t.Errorf("%s %+v: %s", ours(k.target), k.r, msg)
			continue
		}
		compared++
	}
	t.Logf("%d targets × %d ranges: %d answers equal graphite-web's; %d where graphite-web fails with a 500", len(diffTargets), len(diffRanges), compared, crashed)
}

// diffSeries says how got differs from want ("" when equal: same names,
// timestamps, nulls, values within 1e-9 relative).
func diffSeries(got, want []jsonSeries) string {
	if len(got) != len(want) {
		names := func(l []jsonSeries) []string {
			var n []string
			for _, s := range l {
				n = append(n, s.Target)
			}
			return n
		}
		return fmt.Sprintf("%d series %q, graphite-web %d %q", len(got), names(got), len(want), names(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Target != w.Target {
			return fmt.Sprintf("series %d named %q, graphite-web %q", i, g.Target, w.Target)
		}
		if len(g.Datapoints) != len(w.Datapoints) {
			return fmt.Sprintf("%s: %d points, graphite-web %d (first %v vs %v)", g.Target, len(g.Datapoints), len(w.Datapoints), pt(g.Datapoints, 0), pt(w.Datapoints, 0))
		}
		for j := range g.Datapoints {
			gp, wp := g.Datapoints[j], w.Datapoints[j]
			if gp[1].String() != wp[1].String() {
				return fmt.Sprintf("%s: point %d at %s, graphite-web at %s", g.Target, j, gp[1], wp[1])
			}
			if (gp[0] == nil) != (wp[0] == nil) {
				return fmt.Sprintf("%s: point %d at %s is %v, graphite-web %v", g.Target, j, gp[1], num(gp[0]), num(wp[0]))
			}
			if gp[0] == nil {
				continue
			}
			gv, _ := strconv.ParseFloat(gp[0].String(), 64)
			wv, _ := strconv.ParseFloat(wp[0].String(), 64)
			if gv != wv && math.Abs(gv-wv) > 1e-9*math.Max(math.Abs(gv), math.Abs(wv)) {
				return fmt.Sprintf("%s: point %d at %s is %v, graphite-web %v", g.Target, j, gp[1], gv, wv)
			}
		}
	}
	return ""
}

func pt(p [][2]*json.Number, i int) string {
	if i >= len(p) {
		return "-"
	}
	return num(p[i][0]) + "@" + num(p[i][1])
}

func num(n *json.Number) string {
	if n == nil {
		return "null"
	}
	return n.String()
}
