package web

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"graphmetrics/parser/testwait"
	"graphmetrics/store"
	"graphmetrics/store/histstore"
)

// browsePercentiles: alice finds the sample instance's p95 in the /metrics
// builder, adds it as a new chart, gives it the sample's minutes, and the
// chart draws and exports the p95 of each minute of the daemon's
// histograms.
func browsePercentiles(t *testing.T, ctx context.Context, base, dataDir string) {
	const name = "tracelog/127.0.0.1/acme/app-8080/p95"
	const from, until = sampleHour + 47*60, sampleHour + 55*60
	k := store.Key{Host: "127.0.0.1", Customer: "acme", Instance: "app-8080"}
	read := func() *histstore.Series {
		sr, err := histstore.Read(dataDir, k, from, until, 60)
		must(t, err, "read the histograms")
		return sr
	}
	testwait.For(t, 20*time.Second, "the sample's last minute in the histograms", func() bool {
		sr := read()
		return sr.Step == 60 && sr.H[len(sr.H)-1] != nil
	})

	login(t, ctx, base, "alice", alicePW, "/u/alice/")
	navigate(t, ctx, base+"/metrics")
	charts := eval[int](t, ctx, `document.querySelectorAll("figure.chart").length`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`form.search input[name=q]`), "app-8080 p95")), "type a search")
	submit(t, ctx, `form.search button[type=submit]`)
	if got := eval[string](t, ctx, `document.querySelector("p.count").textContent`); got != "1 series match." {
		t.Fatalf("search: %q", got)
	}
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=series][value="`+name+`"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.addplot input[name=title]`), "app-8080 p95"),
	), "build a plot")
	submit(t, ctx, `form.addplot button.add`)
	chartsLoaded(t, ctx, charts+1)
	fig := "#" + eval[string](t, ctx, `[...document.querySelectorAll("figure.chart")].at(-1).id`) + " "
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fig+`> details.edit > summary`)),
		chromedp.Click(chromedp.CSS(fig+`form.chartform input[name=range][value=fixed]`)),
		chromedp.SetValue(chromedp.CSS(fig+`form.chartform input[name=start]`), "2009-07-30T15:47"),
		chromedp.SetValue(chromedp.CSS(fig+`form.chartform input[name=end]`), "2009-07-30T15:55"),
		chromedp.SetValue(chromedp.CSS(fig+`form.chartform select[name=step]`), "60"),
	), "fill chart controls")
	submit(t, ctx, fig+`form.chartform button[type=submit]`)
	chartsLoaded(t, ctx, charts+1)
	// The browser chart holds the series; its CSV is the histograms' p95.
	if n := eval[int](t, ctx, `graphmetrics.charts.at(-1).u.series.length`); n != 2 {
		t.Fatalf("the p95 chart has %d uPlot series, want time and p95", n)
	}
	body := eval[string](t, ctx, `fetch(document.querySelector("`+strings.TrimSpace(fig)+` a.csv").href).then(r => r.text())`)
	legends, rows := readCSV(t, body)
	if len(legends) != 1 || legends[0] != name {
		t.Fatalf("CSV columns %q", legends)
	}
	sr := read()
	seen := 0
	for i, h := range sr.H {
		want := math.NaN()
		if h != nil {
			want, seen = h.Quantile(0.95), seen+1
		}
		if got := rows[sr.Start+int64(i+1)*60]; len(got) != 1 || !sameValue(got[0], want) {
			t.Errorf("minute %d: CSV %v, histograms %g\n%s", i, got, want, body)
		}
	}
	if seen < 7 {
		t.Fatalf("%d minutes with requests in the histograms", seen)
	}
	screenshot(t, ctx, "metrics-p95")
	logout(t, ctx)
}
