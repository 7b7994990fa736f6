package web

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"graphmetrics/web/internal/testrrd"
)

// Two metrics a = i and b = 10·i (unknown at i = 5), one per minute for 30
// minutes from metricStart.
const (
	metricStart = 1699999200 // a whole minute
	metricN     = 30
	cpuUser     = "test.stream/web1/cpu/user"
	cpuSystem   = "test.stream/web1/cpu/system"
)

func metricFile(dir, name string) string {
	return filepath.Join(dir, "rrd", "metrics", filepath.FromSlash(name)+".rrd")
}

// metricsEnv is newEnv plus the two cpu metrics and extra series named
// test.stream/webNNN/disk/free (n of them).
func metricsEnv(t testing.TB, extra int) *env {
	t.Helper()
	return newEnvWith(t, Options{}, func(dir string) {
		a, b := make([]float64, metricN), make([]float64, metricN)
		for i := range a {
			a[i], b[i] = float64(i), float64(10*i)
		}
		b[5] = math.NaN()
		for name, vs := range map[string][]float64{cpuUser: a, cpuSystem: b} {
			if err := testrrd.MakeMetric(metricFile(dir, name), 60, metricStart, vs); err != nil {
				t.Fatal(err)
			}
		}
		if extra > 0 {
			first := metricFile(dir, "test.stream/web001/disk/free")
			if err := testrrd.MakeMetric(first, 60, metricStart, []float64{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
			for i := 2; i <= extra; i++ {
				f := metricFile(dir, fmt.Sprintf("test.stream/web%03d/disk/free", i))
				if out, err := exec.Command("sh", "-c", `mkdir -p "$(dirname "$2")" && cp "$1" "$2"`, "-", first, f).CombinedOutput(); err != nil {
					t.Fatalf("copy: %v %s", err, out)
				}
			}
		}
	})
}

var fixedRange = url.Values{"range": {"fixed"}, "start": {strconv.Itoa(metricStart)},
	"end": {strconv.Itoa(metricStart + metricN*60)}, "step": {"60"}}

// setRange gives chart id of alice's metrics page "m" the fixed range.
func setRange(t *testing.T, c *client, id int, title string) {
	t.Helper()
	f := url.Values{"title": {title}}
	for k, v := range fixedRange {
		f[k] = v
	}
	wantStatus(t, c.post("/metrics/u/alice/m/charts/"+strconv.Itoa(id), f), http.StatusSeeOther)
}

func (e *env) metricCharts(owner, name string) []MetricChart {
	e.t.Helper()
	p, err := e.db.GetPage(e.t.Context(), owner, kindMetrics, name)
	if err != nil {
		e.t.Fatal(err)
	}
	cs, err := decodeList[MetricChart](p.Charts)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

var matchCountRE = regexp.MustCompile(`<p class="count">([^<]*)</p>`)

func TestMetricsSearch(t *testing.T) {
	e := metricsEnv(t, 120)
	c := e.loggedIn("alice", alicePW)
	search := func(q string) (string, []string) {
		t.Helper()
		r := c.get("/metrics/u/alice/m?q=" + url.QueryEscape(q))
		wantStatus(t, r, http.StatusOK)
		m := matchCountRE.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no count on the page:\n%s", r.body)
		}
		var names []string
		for _, m := range regexp.MustCompile(`name="series" value="([^"]*)"`).FindAllStringSubmatch(r.body, -1) {
			names = append(names, html.UnescapeString(m[1]))
		}
		return m[1], names
	}
	// Spaces are wildcards, case does not matter, results are capped with
	// the total shown.
	count, names := search("WEB DISK")
	if count != "120 series match, showing the first 50." || len(names) != 50 || names[0] != "test.stream/web001/disk/free" {
		t.Fatalf("search WEB DISK: %q, %d names, first %q", count, len(names), names)
	}
	count, names = search("web1 cpu")
	if count != "2 series match." || strings.Join(names, ",") != cpuSystem+","+cpuUser {
		t.Fatalf("search web1 cpu: %q %q", count, names)
	}
	// The tracelog data sources are series too.
	count, names = search("tracelog h1 app-8080 req")
	if count != "1 series match." || len(names) != 1 || names[0] != "tracelog/h1/acme/app-8080/requests" {
		t.Fatalf("tracelog series: %q %q", count, names)
	}
	count, _ = search("")
	if want := fmt.Sprintf("%d series in all, showing the first 50.", 2+120+2*(8+3)); count != want {
		t.Fatalf("empty search: %q, want %q", count, want)
	}
	if count, names = search("no such thing"); count != "0 series match." || len(names) != 0 {
		t.Fatalf("search for nothing: %q %q", count, names)
	}
	// A regular expression, by prefix or checkbox, ignoring case.
	count, names = search(`re:WEB1/CPU/(user|sys)`)
	if count != "2 series match." || strings.Join(names, ",") != cpuSystem+","+cpuUser {
		t.Fatalf("regexp search: %q %q", count, names)
	}
	r0 := c.get("/metrics/u/alice/m?re=1&q=" + url.QueryEscape(`web00[1-3]/disk/free$`))
	if m := matchCountRE.FindStringSubmatch(r0.body); m == nil || m[1] != "3 series match." || !strings.Contains(r0.body, `name="re" value="1" checked`) {
		t.Fatalf("regexp checkbox: %v", m)
	}
	r0 = c.get("/metrics/u/alice/m?q=" + url.QueryEscape(`re:web(`))
	if m := matchCountRE.FindStringSubmatch(r0.body); m == nil || m[1] != "0 series match." || !strings.Contains(r0.body, "regular expression: error parsing regexp") {
		t.Fatalf("bad regexp: %v", m)
	}

	// "Select all" is refused above 100 matches…
	r := c.post("/metrics/u/alice/m/plots", url.Values{"q": {"web disk"}, "all": {"1"}, "agg": {"average"}})
	wantStatus(t, r, http.StatusSeeOther)
	if len(e.metricCharts("alice", "m")) != 0 {
		t.Fatal("select all of 120 was accepted")
	}
	if page := c.get(r.Header.Get("Location")); !strings.Contains(page.body, "120 match") || !strings.Contains(page.body, "at most 100") {
		t.Fatalf("no refusal shown:\n%s", page.body)
	}
	// …and takes every match up to it.
	r = c.post("/metrics/u/alice/m/plots", url.Values{"q": {"web0 disk"}, "all": {"1"}, "agg": {"total"}, "color": {"#00FF00"}})
	wantStatus(t, r, http.StatusSeeOther)
	cs := e.metricCharts("alice", "m")
	if len(cs) != 1 || len(cs[0].Plots) != 1 || len(cs[0].Plots[0].Series) != 99 || cs[0].Plots[0].Agg != aggTotal || cs[0].Plots[0].Color != "00ff00" {
		t.Fatalf("select all of 99: %+v", cs)
	}
	if loc := r.Header.Get("Location"); loc != "/metrics/u/alice/m?q=web0+disk#chart-"+strconv.Itoa(cs[0].ID) {
		t.Fatalf("after adding: %q", loc)
	}
	// A name that is no series is refused, whatever it looks like.
	for _, bad := range []string{"../../graphmetrics.db", "/etc/passwd", "test.stream/web1/cpu/user.rrd", "tracelog/h1/acme/app-8080/../../x"} {
		r = c.post("/metrics/u/alice/m/plots", url.Values{"series": {bad}, "chart": {strconv.Itoa(cs[0].ID)}})
		wantStatus(t, r, http.StatusSeeOther)
		if n := len(e.metricCharts("alice", "m")[0].Plots); n != 1 {
			t.Fatalf("series %q was added", bad)
		}
	}
}

// readCSV reads an export: CSV rows as time → values, and the legends.
func readCSV(t *testing.T, body string) ([]string, map[int64][]float64) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	rows := map[int64][]float64{}
	for _, rec := range recs[1:] {
		ts, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			t.Fatalf("CSV time %q: %v", rec[0], err)
		}
		var vs []float64
		for _, f := range rec[1:] {
			v := math.NaN()
			if f != "" {
				if v, err = strconv.ParseFloat(f, 64); err != nil {
					t.Fatalf("CSV value %q: %v", f, err)
				}
			}
			vs = append(vs, v)
		}
		rows[ts] = vs
	}
	return recs[0][1:], rows
}

type graphiteSeries struct {
	Target     string        `json:"target"`
	Datapoints [][2]*float64 `json:"datapoints"`
}

// linksOf returns the image, CSV and JSON URLs of the page's charts.
func linksOf(t *testing.T, body string) (imgs, csvs, jsons []string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`<img src="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		imgs = append(imgs, html.UnescapeString(m[1]))
	}
	for _, m := range regexp.MustCompile(`<a href="([^"]*)" class="(csv|json)"`).FindAllStringSubmatch(body, -1) {
		if m[2] == "csv" {
			csvs = append(csvs, html.UnescapeString(m[1]))
		} else {
			jsons = append(jsons, html.UnescapeString(m[1]))
		}
	}
	return imgs, csvs, jsons
}

func TestMetricsExpressionExport(t *testing.T) {
	e := metricsEnv(t, 0)
	c := e.loggedIn("alice", alicePW)
	// a = user, b = system: the ticked series in the order given.
	r := c.post("/metrics/u/alice/m/plots", url.Values{"series": {cpuUser, cpuSystem}, "agg": {"expr"},
		"expr": {"a,b,+,2,/"}, "legend": {"mean of user and system"}, "line": {"LINE2"}, "title": {"cpu"}})
	wantStatus(t, r, http.StatusSeeOther)
	cs := e.metricCharts("alice", "m")
	if len(cs) != 1 || cs[0].Title != "cpu" || cs[0].Plots[0].Expr != "a,b,+,2,/" {
		t.Fatalf("chart: %+v", cs)
	}
	setRange(t, c, cs[0].ID, "cpu")
	page := c.get("/metrics/u/alice/m")
	wantStatus(t, page, http.StatusOK)
	imgs, csvs, jsons := linksOf(t, page.body)
	if len(imgs) != 1 || len(csvs) != 1 || len(jsons) != 1 {
		t.Fatalf("links: %q %q %q", imgs, csvs, jsons)
	}
	img := c.get(imgs[0])
	wantStatus(t, img, http.StatusOK)
	if msg := img.Header.Get("X-Graph-Error"); msg != "" {
		t.Fatalf("graph error: %s", msg)
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(img.body)); err != nil || cfg.Width != defaultWidth {
		t.Fatalf("image: %v %+v", err, cfg)
	}

	// The same expression, run by rrdtool itself on the files.
	want, err := testrrd.Xport([]string{"--start", strconv.Itoa(metricStart), "--end", strconv.Itoa(metricStart + metricN*60),
		"--step", "60", "DEF:a=" + metricFile(e.dir, cpuUser) + ":value:AVERAGE",
		"DEF:b=" + metricFile(e.dir, cpuSystem) + ":value:AVERAGE", "CDEF:x=a,b,+,2,/", "XPORT:x:x"})
	if err != nil {
		t.Fatal(err)
	}
	r = c.get(csvs[0])
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("CSV content type %q", ct)
	}
	legends, rows := readCSV(t, r.body)
	if len(legends) != 1 || legends[0] != "mean of user and system" {
		t.Fatalf("CSV legends %q", legends)
	}
	if len(rows) != len(want) || len(rows) < metricN-1 {
		t.Fatalf("CSV has %d rows, rrdtool xport %d", len(rows), len(want))
	}
	for ts, w := range want {
		got, ok := rows[ts]
		if !ok || len(got) != 1 || !(got[0] == w[0] || math.IsNaN(got[0]) && math.IsNaN(w[0])) {
			t.Errorf("CSV at %d: %v, rrdtool xport %v", ts, got, w)
		}
	}
	// And by hand: (i + 10·i)/2 in the row ending at start+(i+1)·60.
	for i := 1; i < metricN; i++ {
		v := rows[int64(metricStart+(i+1)*60)]
		if i == 5 && !math.IsNaN(v[0]) || i != 5 && v[0] != 5.5*float64(i) {
			t.Errorf("value %d = %v, want %v", i, v, 5.5*float64(i))
		}
	}
	if !strings.Contains(r.body, strconv.Itoa(metricStart+6*60)+",\n") && !strings.Contains(r.body, strconv.Itoa(metricStart+6*60)+",\r\n") {
		t.Errorf("the unknown value is not empty in CSV:\n%s", r.body)
	}

	// JSON in the shape of Graphite's render API: [value, epoch], null for
	// unknown.
	r = c.get(jsons[0])
	wantStatus(t, r, http.StatusOK)
	var gs []graphiteSeries
	if err := json.Unmarshal([]byte(r.body), &gs); err != nil || len(gs) != 1 || gs[0].Target != "mean of user and system" {
		t.Fatalf("JSON: %v %.300s", err, r.body)
	}
	if len(gs[0].Datapoints) != len(want) {
		t.Fatalf("JSON has %d points, xport %d", len(gs[0].Datapoints), len(want))
	}
	for _, dp := range gs[0].Datapoints {
		ts := int64(*dp[1])
		w := want[ts][0]
		if math.IsNaN(w) && dp[0] != nil || !math.IsNaN(w) && (dp[0] == nil || *dp[0] != w) {
			t.Errorf("JSON at %d: %v, want %v", ts, dp[0], w)
		}
	}
	if !strings.Contains(r.body, fmt.Sprintf("[null,%d]", metricStart+6*60)) {
		t.Errorf("unknown value not null in JSON: %.500s", r.body)
	}
}

func TestMetricsExpressionRefused(t *testing.T) {
	e := metricsEnv(t, 0)
	c := e.loggedIn("alice", alicePW)
	add := func(expr string) {
		t.Helper()
		wantStatus(t, c.post("/metrics/u/alice/m/plots", url.Values{"series": {cpuUser, cpuSystem}, "agg": {"expr"},
			"expr": {expr}, "chart": {"new"}}), http.StatusSeeOther)
	}
	cases := []struct{ expr, says string }{
		{"DEF:x=/etc/passwd:value:AVERAGE", `token 1 "DEF:x=/etc/passwd:value:AVERAGE"`},
		{"a,b,+ LINE1:a#ff0000", `token 3 "+ LINE1:a#ff0000"`},
		{"a\nPRINT:a:AVERAGE:%s", `token 1 "a\nPRINT:a:AVERAGE:%s"`},
		{"../../x", `token 1 "../../x"`},
		{"a,c,+", `token 2 "c"`},
		{"a,+", `token 2 "+"`},
	}
	for _, k := range cases {
		add(k.expr)
	}
	cs := e.metricCharts("alice", "m")
	if len(cs) != len(cases) {
		t.Fatalf("%d charts, want %d", len(cs), len(cases))
	}
	page := c.get("/metrics/u/alice/m")
	wantStatus(t, page, http.StatusOK)
	// Each plot shows why next to it, and its image says so too.
	problems := regexp.MustCompile(`<span class="plot-error error" role="alert">([^<]*)</span>`).FindAllStringSubmatch(page.body, -1)
	if len(problems) != len(cases) {
		t.Fatalf("%d problems shown, want %d:\n%s", len(problems), len(cases), page.body)
	}
	imgs, _, _ := linksOf(t, page.body)
	for i, k := range cases {
		if got := html.UnescapeString(problems[i][1]); !strings.Contains(got, k.says) {
			t.Errorf("%q: shown %q, want it to name %s", k.expr, got, k.says)
		}
		r := c.get(imgs[i])
		wantStatus(t, r, http.StatusBadRequest)
		if msg := r.Header.Get("X-Graph-Error"); !strings.Contains(msg, "plot 1: token") {
			t.Errorf("%q: graph error %q", k.expr, msg)
		}
		if r.Header.Get("Content-Type") != "image/png" {
			t.Errorf("%q: not an image", k.expr)
		}
		ex := c.get(strings.Replace(imgs[i], "/graph/metrics.png", "/export/metrics.csv", 1))
		wantStatus(t, ex, http.StatusBadRequest)
	}
	// Fixing the expression fixes the chart.
	wantStatus(t, c.post(fmt.Sprintf("/metrics/u/alice/m/charts/%d/plots/0", cs[0].ID),
		url.Values{"agg": {"expr"}, "expr": {"a,b,MAX"}, "color": {"#112233"}, "line": {"TICK"}}), http.StatusSeeOther)
	p := e.metricCharts("alice", "m")[0].Plots[0]
	if p.Expr != "a,b,MAX" || p.Line != "TICK" || p.Color != "112233" || len(p.Series) != 2 {
		t.Fatalf("changed plot: %+v", p)
	}
	imgs, _, _ = linksOf(t, c.get("/metrics/u/alice/m").body)
	r := c.get(imgs[0])
	wantStatus(t, r, http.StatusOK)
	if msg := r.Header.Get("X-Graph-Error"); msg != "" {
		t.Fatalf("fixed chart: %s", msg)
	}
}

// A graph URL is made by the page, but anyone can type one: every part of
// it is checked again.
func TestMetricsGraphURLChecked(t *testing.T) {
	e := metricsEnv(t, 0)
	c := e.loggedIn("alice", alicePW)
	chart := func(mod func(m *MetricChart)) string {
		m := MetricChart{Title: "t", Plots: []Plot{{Series: []string{cpuUser}, Color: "ff0000", Line: "LINE1"}},
			Controls: Controls{Start: metricStart, End: metricStart + 1800, Width: 400, Height: 200}}
		mod(&m)
		return "/graph/metrics.png?" + m.Query().Encode()
	}
	ok := chart(func(*MetricChart) {})
	for _, good := range []string{ok,
		// Log scale with the mirrored right axis, any script in text, a tick.
		chart(func(m *MetricChart) { m.Log, m.Min = true, ptr(0.5) }),
		chart(func(m *MetricChart) {
			m.Title = strings.Repeat("指標", 50)
			m.Plots[0].Legend = strings.Repeat("😀", maxLegend)
			m.Plots[0].Line = "TICK"
		}),
	} {
		r := c.get(good)
		wantStatus(t, r, http.StatusOK)
		if msg := r.Header.Get("X-Graph-Error"); msg != "" {
			t.Fatalf("%s: %s", good, msg)
		}
	}
	for _, k := range []struct {
		status int
		mod    func(m *MetricChart)
	}{
		{404, func(m *MetricChart) { m.Plots[0].Series = []string{"../graphmetrics.db"} }},
		{404, func(m *MetricChart) { m.Plots[0].Series = []string{metricFile(e.dir, cpuUser)} }},
		{400, func(m *MetricChart) { m.Width = 5000 }},
		{400, func(m *MetricChart) { m.Start = 0 }},
		{400, func(m *MetricChart) { m.Plots[0].Color = "ff0000:dashes" }},
		{400, func(m *MetricChart) { m.Plots[0].Line = "PRINT" }},
		{400, func(m *MetricChart) { m.Plots[0].Legend = strings.Repeat("x", 61) }},
		{400, func(m *MetricChart) { m.Title = "a\nb" }},
		{400, func(m *MetricChart) { m.Plots[0].Agg = "sum" }},
		{400, func(m *MetricChart) { m.Plots[0].Series = append(m.Plots[0].Series, cpuSystem) }}, // two series, no aggregate
		{400, func(m *MetricChart) { m.Plots = slicesRepeat(m.Plots[0], maxPlots+1) }},
	} {
		r := c.get(chart(k.mod))
		wantStatus(t, r, k.status)
		if r.Header.Get("X-Graph-Error") == "" {
			t.Errorf("%s: no error message", r.Request.URL)
		}
	}
	for _, q := range []string{"c=", "c=%7B", "c=" + url.QueryEscape(`{"title":"t","plots":[],"width":400,"height":200,"hours":1,"file":"/etc/passwd"}`)} {
		wantStatus(t, c.get("/graph/metrics.png?"+q), http.StatusBadRequest)
	}
	// Logged out: no image, no data.
	wantStatus(t, e.client().get(ok), http.StatusSeeOther)
	wantStatus(t, e.client().get(strings.Replace(ok, "/graph/metrics.png", "/export/metrics.json", 1)), http.StatusSeeOther)
}

func ptr(f float64) *float64 { return &f }

func slicesRepeat(p Plot, n int) []Plot {
	out := make([]Plot, n)
	for i := range out {
		out[i] = p
	}
	return out
}

func TestMetricsPagesAreOwned(t *testing.T) {
	e := metricsEnv(t, 0)
	alice := e.loggedIn("alice", alicePW)
	wantStatus(t, alice.post("/metrics/u/alice/m/plots", url.Values{"series": {cpuUser, cpuSystem}, "agg": {"average"}}), http.StatusSeeOther)
	id := e.metricCharts("alice", "m")[0].ID
	bob := e.loggedIn("bob", bobPW)
	// bob sees it, without the builder or edit forms…
	r := bob.get("/metrics/u/alice/m")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, `class="builder"`) || strings.Contains(r.body, `class="controls`) || !strings.Contains(r.body, "by alice") {
		t.Fatalf("bob's view of alice's page:\n%s", r.body)
	}
	// …cannot change it…
	for _, p := range []string{"/plots", fmt.Sprintf("/charts/%d", id), fmt.Sprintf("/charts/%d/delete", id),
		fmt.Sprintf("/charts/%d/plots/0", id), fmt.Sprintf("/charts/%d/plots/0/delete", id), "/delete"} {
		wantStatus(t, bob.post("/metrics/u/alice/m"+p, url.Values{"series": {cpuUser}, "agg": {"expr"}, "expr": {"a"}}), http.StatusForbidden)
	}
	if cs := e.metricCharts("alice", "m"); len(cs) != 1 || len(cs[0].Plots) != 1 || cs[0].Plots[0].Agg != aggAverage {
		t.Fatalf("alice's page changed: %+v", cs)
	}
	// …and "save as" copies it into his own pages.
	r = bob.post("/metrics/u/alice/m/saveas", url.Values{"name": {"copy"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/metrics/u/bob/copy" {
		t.Fatalf("save as: %q", loc)
	}
	if cs := e.metricCharts("bob", "copy"); len(cs) != 1 || len(cs[0].Plots[0].Series) != 2 {
		t.Fatalf("bob's copy: %+v", cs)
	}
	// Both kinds of pages are listed, with their owners.
	r = bob.get("/pages")
	if !strings.Contains(r.body, `href="/metrics/u/alice/m"`) || !strings.Contains(r.body, `href="/metrics/u/bob/copy"`) || !strings.Contains(r.body, builtinURL) {
		t.Fatalf("pages:\n%s", r.body)
	}
	// A new page of either kind.
	for kind, want := range map[string]string{"metrics": "/metrics/u/bob/new1", "tracelog": "/u/bob/new1", "": "/u/bob/new1"} {
		r = bob.get("/new?name=new1&kind=" + kind)
		if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("new page of kind %q: %d %q", kind, r.StatusCode, loc)
		}
	}
	// /metrics goes to the most recently changed metrics page.
	r = bob.get("/metrics")
	wantStatus(t, r, http.StatusFound)
	if loc := r.Header.Get("Location"); loc != "/metrics/u/bob/copy" {
		t.Fatalf("/metrics: %q", loc)
	}
}

func TestBuiltinSelfPage(t *testing.T) {
	e := newEnvWith(t, Options{}, func(dir string) {
		for _, name := range []string{"_self/input/syslog/lines", "_self/input/tail/lines", "_self/input/syslog/rejected/bad_time",
			"_self/writer/busy_ns", "_self/process/rss_bytes", "_self/syslog/udp_127.0.0.1_5514/kernel_drops", "_self/kinesis/s1/lag_ms"} {
			if err := testrrd.MakeMetric(metricFile(dir, name), 10, metricStart, []float64{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
		}
	})
	c := e.loggedIn("bob", bobPW)
	r := c.get(builtinURL)
	wantStatus(t, r, http.StatusOK)
	imgs, csvs, _ := linksOf(t, r.body)
	// lines, rejects, writer time, process, syslog, kinesis
	if len(imgs) != 6 || len(csvs) != 6 {
		t.Fatalf("%d charts on the built-in page:\n%s", len(imgs), r.body)
	}
	for _, want := range []string{"syslog/lines", "tail/lines", "syslog/rejected/bad_time", "busy_ns busy %", "rss_bytes MB", "udp_127.0.0.1_5514/kernel_drops", "s1/lag_ms ms"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("built-in page lacks %q", want)
		}
	}
	for _, img := range imgs {
		g := c.get(img)
		wantStatus(t, g, http.StatusOK)
		if msg := g.Header.Get("X-Graph-Error"); msg != "" {
			t.Errorf("%s: %s", img, msg)
		}
	}
	r = c.post(builtinURL+"/saveas", url.Values{"name": {"mine"}})
	wantStatus(t, r, http.StatusSeeOther)
	if cs := e.metricCharts("bob", "mine"); len(cs) != 6 || cs[3].Title != "Process: RSS (MB), goroutines" || cs[3].Plots[0].Expr != "a,1048576,/" {
		t.Fatalf("saved copy: %+v", cs)
	}
}

// The tracelog charts export too: the sample's rpm at 15:53 is 11.
func TestTracelogExport(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	id := e.charts("alice", "main")[0].ID
	wantStatus(t, c.post(fmt.Sprintf("/u/alice/main/charts/%d", id), sampleQuery()), http.StatusSeeOther)
	_, csvs, jsons := linksOf(t, c.get("/u/alice/main").body)
	if len(csvs) != 1 || len(jsons) != 1 {
		t.Fatalf("export links: %q %q", csvs, jsons)
	}
	r := c.get(csvs[0])
	wantStatus(t, r, http.StatusOK)
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	legends, rows := readCSV(t, r.body)
	if strings.Join(legends, ",") != "rpm,epm,waiting,max rpm,restarts,hung" {
		t.Fatalf("CSV columns %q", legends)
	}
	if v := rows[sampleHour+54*60]; v[0] != 11 {
		t.Fatalf("rpm at 15:53 = %v, want 11", v)
	}
	r = c.get(jsons[0])
	var gs []graphiteSeries
	if err := json.Unmarshal([]byte(r.body), &gs); err != nil || len(gs) != 6 || gs[0].Target != "rpm" {
		t.Fatalf("JSON: %v %.200s", err, r.body)
	}
	found := false
	for _, dp := range gs[0].Datapoints {
		if *dp[1] == sampleHour+54*60 {
			found = dp[0] != nil && *dp[0] == 11
		}
	}
	if !found {
		t.Fatal("JSON rpm at 15:53 is not 11")
	}
}
