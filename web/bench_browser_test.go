package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// BenchmarkBrowserPage12 opens a page of 12 instance charts (one day of
// one-second data each) in headless Chromium, through the HTTP server with
// its render workers, and reports the browser-measured median time from
// navigation start until the page is drawn and interactive: every chart
// near the window drawn and every other chart's data in, drawn as it
// scrolls near (uplot); only the charts in the first screen drawn
// (uplot-view); every chart drawn at once, as before (uplot-all); and the same page with JS off until every server
// image has loaded (images). The browser's cache is off, so every load
// draws afresh:
//
//	go test ./web/ -run '^$' -bench BrowserPage12 -benchtime 10x
func BenchmarkBrowserPage12(b *testing.B) {
	e, c := benchEnv(b, 12, Options{})
	for i := 1; i <= 12; i++ {
		form := url.Values{"customer": {"bench"}, "host": {"hb"}, "instance": {fmt.Sprintf("b%d", i)}}
		wantStatus(b, c.post("/u/alice/main/charts", form), http.StatusSeeOther)
	}
	page := fmt.Sprintf("%s/u/alice/main?from=%d&until=%d", e.base, benchEnd-86400, benchEnd)
	for _, mode := range []string{"uplot", "uplot-view", "uplot-all", "images"} {
		b.Run(mode, func(b *testing.B) {
			ctx := browser(b)
			login(b, ctx, e.base, "alice", alicePW, "/u/alice/main")
			// Every load draws afresh: no image or export from the cache.
			_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
			must(b, err, "disable the cache")
			done := `graphmetrics.drawnAt`
			if mode == "uplot-view" { // the first screen drawn, the rest still loading
				done = `graphmetrics.viewAt`
			}
			if mode == "uplot-all" { // the baseline: every chart drawn at once
				navigate(b, ctx, page)
				_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("gm-draw", "all")`))
				must(b, err, "draw all at once")
			}
			if mode == "images" {
				_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
				must(b, err, "disable JS")
				done = `(() => { const i = [...document.querySelectorAll("figure.chart img")];
					return i.length == 12 && i.every(x => x.complete && x.naturalWidth > 0) ? performance.now() : 0; })()`
			}
			var ms []float64
			b.ResetTimer()
			for b.Loop() {
				navigate(b, ctx, page)
				var at float64
				deadline := time.Now().Add(30 * time.Second)
				for at == 0 {
					v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(`+done+`) || 0`))
					must(b, err, "poll")
					if at = v; at == 0 && time.Now().After(deadline) {
						b.Fatal("page not drawn in 30 s")
					}
				}
				ms = append(ms, at)
			}
			b.StopTimer()
			slices.Sort(ms)
			b.ReportMetric(ms[len(ms)/2], "median-ms")
			b.ReportMetric(ms[len(ms)-1], "max-ms")
		})
	}
}
