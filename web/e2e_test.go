package web

import (
	"context"
	"fmt"
	"graphmetrics/daemon/daemontest"
	"graphmetrics/store/sampletest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"graphmetrics/daemon/kinesis/kinesalitetest"
	"graphmetrics/parser/testwait"
)

// TestBrowserEndToEnd drives the built daemon with headless Chromium: the
// shared sample arrives over syslog (Python's SysLogHandler, UDP), users
// are made with `graphmetrics user add`, and the charts are looked at the
// way a person would.
func TestBrowserEndToEnd(t *testing.T) {
	ctx := browser(t)
	k := kinesalitetest.Start(t)
	k.CreateStream(t, metricStream, 1)
	dataDir := t.TempDir()
	d := daemontest.New(t, dataDir, daemontest.Config(dataDir, fmt.Sprintf(`[self]
interval = "1s"
[kinesis]
region = "us-east-1"
endpoint = %q
[[kinesis.streams]]
name = %q
start = "trim_horizon"
step = "60s"
`, k.URL, metricStream)))
	d.Env = kinesalitetest.AWSEnv(t)
	d.AddUser("alice", alicePW)
	d.Start()
	d.AddUser("bob", bobPW) // the CLI shares the database with a running daemon
	base := "http://" + d.Web

	daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", sampletest.Lines(t))
	// With no header, the host is the sender's address. The last record is
	// at 15:54:56 UTC: its second is the update at 15:54:57.
	file := filepath.Join(d.DataDir, "rrd", "tracelog", "127.0.0.1", "acme", "app-8080.rrd")
	testwait.For(t, 20*time.Second, "the sample's last second in "+file, func() bool {
		last, err := rrdLast(file)
		return err == nil && last == sampleHour+54*60+57
	})

	// Two metrics through Kinesis: user = i and system = 2·i in minute i
	// of twenty, ending ten minutes ago.
	mbase := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute).Unix()
	var recs []kinesalitetest.Record
	for i := range metricMinutes {
		ts := time.Unix(mbase+int64(i)*60+7, 0)
		recs = append(recs,
			kinesalitetest.Record{Time: ts, Name: "//web1/cpu/total#user", Value: float64(i), Units: "%"},
			kinesalitetest.Record{Time: ts, Name: "//web1/cpu/total#system", Value: float64(2 * i)})
	}
	k.PutRecords(t, metricStream, recs)
	for _, m := range []string{"user", "system"} {
		f := filepath.Join(d.DataDir, "rrd", "metrics", metricStream, "web1", "cpu", "total", m+".rrd")
		testwait.For(t, 30*time.Second, "the last minute in "+f, func() bool {
			last, err := rrdLast(f)
			return err == nil && last == mbase+metricMinutes*60
		})
	}

	t.Run("tracelog", func(t *testing.T) { browseTracelog(t, ctx, base) })
	t.Run("metrics", func(t *testing.T) { browseMetrics(t, ctx, base, mbase) })
	t.Run("percentiles", func(t *testing.T) { browsePercentiles(t, ctx, base, d.DataDir) })
	t.Run("latency", func(t *testing.T) { browseLatency(t, ctx, base) })
}

// browseLatency: alice adds the app-8080 latency and heatmap views to her
// page (after the chart browseTracelog left there), sets the sample's
// minutes on each and checks the images and the latency CSV.
func browseLatency(t *testing.T, ctx context.Context, base string) {
	login(t, ctx, base, "alice", alicePW, "/u/alice/main")
	for k, view := range []string{"latency", "heatmap"} {
		submit(t, ctx, `button[data-`+view+`="127.0.0.1/acme/app-8080"]`)
		n := k + 2
		loaded := func() {
			if view == "latency" {
				chartsLoaded(t, ctx, n)
				return
			}
			// The heatmap is the server's image (SVG), not a script chart.
			waitJS(t, ctx, `(() => { const i = document.querySelector("figure.chart:nth-of-type(`+strconv.Itoa(n)+`) img");
				return !!i && i.complete && i.naturalWidth > 0; })()`, "wait for the heatmap image")
		}
		loaded()
		fig := fmt.Sprintf("figure.chart:nth-of-type(%d) ", n)
		must(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(fig+`details.edit summary`)),
			chromedp.Click(chromedp.CSS(fig+`input[name=range][value=fixed]`)),
			chromedp.SetValue(chromedp.CSS(fig+`input[name=start]`), "2009-07-30T15:47"),
			chromedp.SetValue(chromedp.CSS(fig+`input[name=end]`), "2009-07-30T15:55"),
			chromedp.SetValue(chromedp.CSS(fig+`select[name=step]`), "60"),
		), "fill chart controls")
		submit(t, ctx, fig+`form.controls button[type=submit]`)
		loaded()
		src := eval[string](t, ctx, `document.querySelector("`+fig+`").dataset.img`)
		if !strings.Contains(src, "view="+view) || !strings.Contains(src, "start=1248968820") {
			t.Fatalf("%s chart: %s", view, src)
		}
		ctype := eval[string](t, ctx, `fetch(document.querySelector("`+fig+`").dataset.img).then(r => r.headers.get("Content-Type"))`)
		if want := map[string]string{"latency": "image/png", "heatmap": "image/svg+xml"}[view]; ctype != want {
			t.Errorf("%s image is %s, want %s", view, ctype, want)
		}
		if view != "latency" {
			continue
		}
		body := eval[string](t, ctx, `fetch(document.querySelector("`+fig+`a.csv").href).then(r => r.text())`)
		legends, rows := readCSV(t, body)
		if strings.Join(legends, ",") != "p50,p95,p99,mean" {
			t.Fatalf("latency CSV columns %q", legends)
		}
		var seen int
		for _, v := range rows {
			if len(v) == 4 && v[0] > 0 && v[0] <= v[1] && v[1] <= v[2] {
				seen++
			}
		}
		if seen == 0 {
			t.Fatalf("no minute with percentiles in the latency CSV:\n%s", body)
		}
	}
	screenshot(t, ctx, "tracelog-latency")
	logout(t, ctx)
}

const (
	metricStream  = "e2e.metrics"
	metricMinutes = 20
)

// browseTracelog: alice adds a chart on "/", narrows it to the sample's
// minutes, reloads; bob views her page and saves a copy.
func browseTracelog(t *testing.T, ctx context.Context, base string) {
	login(t, ctx, base, "alice", alicePW, "/u/alice/main")
	submit(t, ctx, `button[data-instance="127.0.0.1/acme/app-8080"]`)
	chartsLoaded(t, ctx, 1)
	// A trailing chart redraws itself (every minute; here at once).
	eval[any](t, ctx, `graphmetrics.charts[0].loads = 0, graphmetrics.refresh()`)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`graphmetrics.charts[0].loads > 0`, chromedp.WithPollingTimeout(30*time.Second)))
	must(t, err, "wait for the refreshed chart")
	chartsLoaded(t, ctx, 1)

	// The sample's minutes: a fixed range, one-minute steps.
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`figure.chart details.edit summary`)),
		chromedp.Click(chromedp.CSS(`figure.chart input[name=range][value=fixed]`)),
		chromedp.SetValue(chromedp.CSS(`figure.chart input[name=start]`), "2009-07-30T15:47"),
		chromedp.SetValue(chromedp.CSS(`figure.chart input[name=end]`), "2009-07-30T15:55"),
		chromedp.SetValue(chromedp.CSS(`figure.chart select[name=step]`), "60"),
	), "fill chart controls")
	submit(t, ctx, `figure.chart form.controls button[type=submit]`)
	chartsLoaded(t, ctx, 1)

	// Saved: a reload shows the same chart.
	must(t, chromedp.Do(ctx, chromedp.Reload()), "reload")
	chartsLoaded(t, ctx, 1)
	src := eval[string](t, ctx, `document.querySelector("figure.chart").dataset.img`)
	const start, end = "start=1248968820", "end=1248969300" // 15:47 and 15:55 UTC
	if !strings.Contains(src, start) || !strings.Contains(src, end) || !strings.Contains(src, "instance=app-8080") {
		t.Fatalf("chart after reload: %s", src)
	}
	screenshot(t, ctx, "tracelog-alice")

	// bob views alice's page, read-only, and saves a copy.
	logout(t, ctx)
	login(t, ctx, base, "bob", bobPW, "/u/bob/")
	navigate(t, ctx, base+"/u/alice/main")
	chartsLoaded(t, ctx, 1)
	if n := eval[int](t, ctx, `document.querySelectorAll("form.controls, aside.tree").length`); n != 0 {
		t.Fatalf("bob sees %d edit controls on alice's page", n)
	}
	must(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`form.saveas input[name=name]`), "from-alice")), "name the copy")
	submit(t, ctx, `form.saveas button`)
	if p := location(t, ctx); p != "/u/bob/from-alice" {
		t.Fatalf("after save as: at %s", p)
	}
	chartsLoaded(t, ctx, 1)
	if src := eval[string](t, ctx, `document.querySelector("figure.chart").dataset.img`); !strings.Contains(src, start) {
		t.Fatalf("bob's copy shows %s", src)
	}
	// The copy is bob's: he gets the controls.
	if n := eval[int](t, ctx, `document.querySelectorAll("form.controls").length`); n != 1 {
		t.Fatalf("bob's copy has %d edit forms", n)
	}
	screenshot(t, ctx, "tracelog-bob")
	logout(t, ctx)
}

// browseMetrics: alice searches for the Kinesis series on /metrics, plots
// an expression over both, checks the image and the CSV; the built-in page
// shows the daemon's own counters; bob views alice's chart and saves a
// copy.
func browseMetrics(t *testing.T, ctx context.Context, base string, mbase int64) {
	login(t, ctx, base, "alice", alicePW, "/u/alice/")
	navigate(t, ctx, base+"/metrics")
	if p := location(t, ctx); p != "/metrics/u/alice/main" {
		t.Fatalf("/metrics led to %s", p)
	}
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`form.search input[name=q]`), "E2E web1 CPU")), "type a search")
	submit(t, ctx, `form.search button[type=submit]`)
	if got := eval[string](t, ctx, `document.querySelector("p.count").textContent`); got != "2 series match." {
		t.Fatalf("search: %q", got)
	}
	// Ticked in list order: a = system, b = user.
	sys, user := metricStream+"/web1/cpu/total/system", metricStream+"/web1/cpu/total/user"
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=series][value="`+sys+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=series][value="`+user+`"]`)),
		chromedp.Click(chromedp.CSS(`form.addplot input[name=agg][value=expr]`)),
		chromedp.SendKeys(chromedp.CSS(`form.addplot input[name=expr]`), "a,b,10,*,+"),
		chromedp.SendKeys(chromedp.CSS(`form.addplot input[name=legend]`), "system + 10 user"),
		chromedp.SendKeys(chromedp.CSS(`form.addplot input[name=title]`), "cpu through kinesis"),
	), "build a plot")
	submit(t, ctx, `form.addplot button.add`)
	chartsLoaded(t, ctx, 1)
	if n := eval[int](t, ctx, `document.querySelectorAll("li.plot").length`); n != 1 {
		t.Fatalf("%d plots", n)
	}
	if e := eval[string](t, ctx, `[...document.querySelectorAll(".plot-error")].map(e => e.textContent).join()`); e != "" {
		t.Fatalf("plot problem shown: %s", e)
	}

	// The minutes sent: a fixed range, one-minute steps.
	from, to := time.Unix(mbase, 0).UTC(), time.Unix(mbase+metricMinutes*60, 0).UTC()
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`figure.chart > details.edit > summary`)),
		chromedp.Click(chromedp.CSS(`form.chartform input[name=range][value=fixed]`)),
		chromedp.SetValue(chromedp.CSS(`form.chartform input[name=start]`), from.Format(dateLayout)),
		chromedp.SetValue(chromedp.CSS(`form.chartform input[name=end]`), to.Format(dateLayout)),
		chromedp.SetValue(chromedp.CSS(`form.chartform select[name=step]`), "60"),
	), "fill chart controls")
	submit(t, ctx, `form.chartform button[type=submit]`)
	chartsLoaded(t, ctx, 1)
	checkCSV := func() {
		t.Helper()
		body := eval[string](t, ctx, `fetch(document.querySelector("figure.chart a.csv").href).then(r => r.text())`)
		legends, rows := readCSV(t, body)
		if len(legends) != 1 || legends[0] != "system + 10 user" {
			t.Fatalf("CSV columns %q", legends)
		}
		for i := range int64(metricMinutes) {
			// Minute i is the row ending at its end: 2·i + 10·i.
			if v := rows[mbase+(i+1)*60]; len(v) != 1 || v[0] != float64(12*i) {
				t.Errorf("CSV minute %d: %v, want %d\n%s", i, v, 12*i, body)
			}
		}
	}
	checkCSV()
	screenshot(t, ctx, "metrics-alice")

	// Everyone's ready-made page of the daemon's own counters.
	navigate(t, ctx, base+builtinURL)
	n := eval[int](t, ctx, `document.querySelectorAll("figure.chart").length`)
	if n < 3 {
		t.Fatalf("the built-in page has %d charts", n)
	}
	chartsLoaded(t, ctx, n)
	screenshot(t, ctx, "metrics-builtin")
	logout(t, ctx)

	// bob views alice's chart, downloads the same data, saves a copy.
	login(t, ctx, base, "bob", bobPW, "/u/bob/")
	navigate(t, ctx, base+"/metrics/u/alice/main")
	chartsLoaded(t, ctx, 1)
	if n := eval[int](t, ctx, `document.querySelectorAll("aside.builder, form.chartform, form.plotform").length`); n != 0 {
		t.Fatalf("bob sees %d edit forms on alice's page", n)
	}
	checkCSV()
	must(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`form.saveas input[name=name]`), "cpu-from-alice")), "name the copy")
	submit(t, ctx, `form.saveas button`)
	if p := location(t, ctx); p != "/metrics/u/bob/cpu-from-alice" {
		t.Fatalf("after save as: at %s", p)
	}
	chartsLoaded(t, ctx, 1)
	checkCSV()
	screenshot(t, ctx, "metrics-bob")
	logout(t, ctx)
}

// rrdLast is the time of a file's last update (rrdtool last).
func rrdLast(file string) (int64, error) {
	out, err := exec.Command("rrdtool", "last", file).Output()
	if err != nil {
		return 0, err
	}
	var n int64
	_, err = fmt.Sscan(string(out), &n)
	return n, err
}
