package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestOverviewBrowser drives the overview in Chromium over the fleet of
// TestOverviewDaemon: the troubled pool first and open with its reasons,
// the filter narrowing rows as one types (and in the URL), the refresh
// replacing the rows in place, "chart" adding the row's chart to the
// user's page, and without JS the GET filter. Screenshots, light and dark
// at 1400 and 800 px (and without JS), go to GM_SCREENS (`make screens`).
func TestOverviewBrowser(t *testing.T) {
	ctx := browser(t)
	d := overviewFleet(t)
	base := "http://" + d.Web
	waitTrouble(t, d)
	login(t, ctx, base, "alice", alicePW, "/u/alice/main")
	page := base + "/?from=-3min"
	navigate(t, ctx, page)
	waitJS(t, ctx, `(() => { const p = document.querySelector("details.pool");
		return p && p.open && p.dataset.match == "shop\napp-instances" &&
			[...p.querySelectorAll(".reason")].map(r => r.textContent).join(",") == "silent,backlog,silent,backlog"; })()`,
		"the troubled pool first, open, with its reasons")
	if n := eval[int](t, ctx, `document.querySelectorAll("details.pool[open]").length`); n != 1 {
		t.Errorf("%d pools open, want the troubled one", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg.spark path[d^=M]").length`); n < 4 {
		t.Errorf("%d sparklines drawn", n)
	}

	// The filter narrows as one types, and the URL keeps it.
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`.ov-filter input[name=q]`), "WORKER")), "type a filter")
	visible := `[...document.querySelectorAll("details.pool")].filter(p => !p.hidden).map(p => p.dataset.match.replace("\n", "/")).join(" ")`
	if v := eval[string](t, ctx, visible); v != "shop/worker-workers" {
		t.Errorf("filter WORKER shows %q", v)
	}
	if q := eval[string](t, ctx, `new URL(location.href).searchParams.get("q")`); q != "WORKER" {
		t.Errorf("URL q = %q", q)
	}
	// A refresh replaces the rows and keeps the filter.
	eval[any](t, ctx, `graphmetrics.refresh()`)
	waitJS(t, ctx, `graphmetrics.overviewLoads > 0`, "the refreshed overview")
	if v := eval[string](t, ctx, visible); v != "shop/worker-workers" {
		t.Errorf("after a refresh the filter shows %q", v)
	}

	// "chart" adds the instance's chart to alice's page, in one click.
	navigate(t, ctx, page)
	submit(t, ctx, `details.pool button[value="shop/app-8081@127.0.0.1"]`)
	if p := location(t, ctx); p != "/u/alice/main" {
		t.Fatalf("chart led to %s", p)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("figure.chart").length`); n != 1 {
		t.Errorf("%d charts on alice's page after one click", n)
	}

	dir := os.Getenv("GM_SCREENS")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, os.MkdirAll(dir, 0o755), "screens directory")
	var png []byte
	var err error
	for _, scheme := range []string{"light", "dark"} {
		_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		must(t, err, "emulate "+scheme)
		for _, width := range []int64{1400, 800} {
			must(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)), "viewport")
			navigate(t, ctx, page)
			waitJS(t, ctx, `document.querySelectorAll("details.pool").length == 3`, "the overview")
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			must(t, err, "screenshot")
			must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("overview-%s-%d.png", scheme, width)), png, 0o644), "save screenshot")
		}
	}

	// Without JS: the filter is a GET form.
	nctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	_, err = chromedp.Call(nctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	must(t, err, "disable JS")
	must(t, chromedp.Do(nctx, chromedp.EmulateViewport(1400, 900)), "viewport")
	navigate(t, nctx, page)
	must(t, chromedp.Do(nctx, chromedp.SendKeys(chromedp.CSS(`.ov-filter input[name=q]`), "web-900")), "type a filter")
	submit(t, nctx, `.ov-filter button[type=submit]`)
	html := eval[string](t, nctx, `document.getElementById("overview").outerHTML`)
	if !strings.Contains(html, "web-9001") || strings.Contains(html, "app-8081") {
		t.Errorf("without JS, ?q=web-900 shows the wrong rows")
	}
	if q := eval[string](t, nctx, `location.search`); !strings.Contains(q, "q=web-900") || !strings.Contains(q, "from=-3min") {
		t.Errorf("without JS the filter went to %q", q)
	}
	png, err = chromedp.Run(nctx, chromedp.FullScreenshot(100))
	must(t, err, "screenshot")
	must(t, os.WriteFile(filepath.Join(dir, "overview-nojs-light-1400.png"), png, 0o644), "save screenshot")
}
