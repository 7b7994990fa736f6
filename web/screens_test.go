package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestScreens photographs an instance page, a pool page and a /metrics
// page, light and dark, 1400 and 800 px wide, through the real daemon:
// `make screens` writes them to web/testdata/screens (GM_SCREENS), so
// changes to the look are reviewed as pictures; otherwise they go to a
// temporary directory and only their drawing is checked.
func TestScreens(t *testing.T) {
	ctx := browser(t)
	base := chartDaemon(t, ctx)
	dir := os.Getenv("GM_SCREENS")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, os.MkdirAll(dir, 0o755), "screens directory")
	for _, c := range [][]string{instanceChart} {
		postForm(t, ctx, "/u/alice/instance/charts", c...)
	}
	for _, c := range [][]string{poolAll, {"customer", "acme", "gkind", "pool", "group", "app-instances", "view", "rpm"}, poolHeadroom} {
		postForm(t, ctx, "/u/alice/pool/charts", c...)
	}
	// The daemon's own series appear within a second or two ([self] interval 1s).
	waitJS(t, ctx, `fetch("/metrics/u/alice/main?q=_self/writer/rows").then(r => r.text()).then(b => b.includes('value="_self/writer/rows"'))`, "the daemon's own series")
	postForm(t, ctx, "/metrics/u/alice/main/plots", "series", "_self/writer/rows", "series", "_self/process/goroutines",
		"agg", "each", "line", "LINE2", "color", "#0072b2", "chart", "new", "title", "writer rows and goroutines")
	postForm(t, ctx, "/metrics/u/alice/main/plots", "series", "_self/process/rss_bytes", "agg", "expr", "expr", "a,1048576,/",
		"legend", "RSS MB", "line", "LINE2", "color", "#e69f00", "chart", "new", "title", "RSS (MB)")
	// The sample instance's app-time percentiles, pinned to its minutes.
	const pct = "tracelog/127.0.0.1/acme/app-8080/"
	postForm(t, ctx, "/metrics/u/alice/main/plots", "series", pct+"p50", "series", pct+"p95", "series", pct+"p99",
		"agg", "each", "line", "LINE2", "color", "#0072b2", "chart", "new", "title", "app-8080 app time (s)")
	navigate(t, ctx, base+"/metrics/u/alice/main")
	id := strings.TrimPrefix(eval[string](t, ctx, `[...document.querySelectorAll("figure.chart")].at(-1).id`), "chart-")
	postForm(t, ctx, "/metrics/u/alice/main/charts/"+id, "title", "app-8080 app time (s)", "range", "fixed",
		"start", "2009-07-30T15:47", "end", "2009-07-30T15:55", "step", "60")

	pages := []struct{ name, url string }{
		{"instance", "/u/alice/instance?" + sampleRange},
		{"pool", "/u/alice/pool?" + sampleRange},
		{"metrics", "/metrics/u/alice/main?from=-5min&q=_self/writer"},
	}
	for _, scheme := range []string{"light", "dark"} {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		must(t, err, "emulate "+scheme)
		for _, width := range []int64{1400, 800} {
			must(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)), "viewport")
			for _, p := range pages {
				navigate(t, ctx, base+p.url)
				n := eval[int](t, ctx, `document.querySelectorAll("figure.chart").length`)
				if n == 0 {
					t.Fatalf("%s: no charts", p.name)
				}
				chartsLoaded(t, ctx, n)
				if dark := eval[bool](t, ctx, `matchMedia("(prefers-color-scheme: dark)").matches`); dark != (scheme == "dark") {
					t.Fatalf("%s: dark is %v", scheme, dark)
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				must(t, err, "screenshot")
				file := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", p.name, scheme, width))
				must(t, os.WriteFile(file, png, 0o644), "save screenshot")
			}
		}
	}
	// The server-drawn images, as a browser without JS shows them.
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900)), "viewport")
	for _, scheme := range []string{"light", "dark"} {
		nctx, cancel := chromedp.NewContext(ctx)
		_, err := chromedp.Call(nctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		must(t, err, "disable JS")
		_, err = chromedp.Call(nctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		must(t, err, "emulate "+scheme)
		must(t, chromedp.Do(nctx, chromedp.EmulateViewport(1400, 900)), "viewport")
		navigate(t, nctx, base+pages[1].url)
		waitJS(t, nctx, `(() => { const i = [...document.querySelectorAll("figure.chart img")];
			return i.length == 3 && i.every(x => x.complete && x.naturalWidth > 0); })()`, "server images")
		png, err := chromedp.Run(nctx, chromedp.FullScreenshot(100))
		must(t, err, "screenshot")
		must(t, os.WriteFile(filepath.Join(dir, "pool-nojs-"+scheme+"-1400.png"), png, 0o644), "save screenshot")
		cancel()
	}
	// The URL statistics of the sample's pool, its costliest URL's chart
	// open (screens sets GM_SCREENS' files itself).
	var doc urlsDoc
	must(t, json.Unmarshal([]byte(eval[string](t, ctx, `fetch("/urls/pool/acme/app-instances.json?`+sampleRange+`").then(r => r.text())`)), &doc), "urls json")
	if len(doc.Rows) < 10 {
		t.Fatalf("the sample's URL table: %v", doc.Rows)
	}
	screens(t, ctx, "urls-sample", base+"/urls/pool/acme/app-instances?"+sampleRange+"&url="+url.QueryEscape(doc.Rows[0]["url"].(string)))
	t.Logf("screens in %s (%s)", dir, time.Now().Format(time.TimeOnly))
}
