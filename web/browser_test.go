package web

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Helpers for the headless-Chromium tests (e2e_test.go).

const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile.
func browser(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser test needs %s (make deps): %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 1000))
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks a submit button and waits for the page it leads to.
func submit(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	must(t, err, "click "+sel)
	if resp.Status != 200 {
		t.Fatalf("click %s: status %d at %s", sel, resp.Status, resp.URL)
	}
}

// navigate opens url and checks the answer was 200.
func navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	must(t, err, "open "+url)
	if resp.Status != 200 {
		t.Fatalf("open %s: status %d at %s", url, resp.Status, resp.URL)
	}
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	must(t, err, "evaluate "+js)
	return v
}

func location(t testing.TB, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `location.pathname`)
}

// chartsLoaded waits until the page has n charts, all drawn in the browser
// from their JSON export, then checks that none of their server images
// (what a browser without JS shows) is the error image.
func chartsLoaded(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	// Polled by single evaluations, which survive a navigation in progress
	// (after a drag or Back) where a chromedp.Poll may hang.
	// Charts are drawn as they come near the window: scroll to each one
	// not drawn yet, as a reader would, and back.
	waitJS(t, ctx, `document.readyState == "complete" && (() => {
		const figs = [...document.querySelectorAll("figure.chart")];
		if (!(figs.length == `+strconv.Itoa(n)+` && !!window.graphmetrics && graphmetrics.charts.length == figs.length)) return false;
		if (window.gmTestY === undefined) window.gmTestY = scrollY;
		const c = graphmetrics.charts.find(c => !c.u);
		if (c) { c.fig.scrollIntoView(); return false; }
		scrollTo(0, window.gmTestY); delete window.gmTestY;
		return graphmetrics.charts.every(c => c.u && c.plot.querySelector("canvas").width > 0);
	})()`, "wait for the charts")
	// The error image is a PNG too; the server marks it in a header.
	errs := eval[string](t, ctx, `Promise.all(
		[...document.querySelectorAll("figure.chart")].map(f => fetch(f.dataset.img).then(r =>
			r.status == 200 && !r.headers.get("X-Graph-Error") ? "" : r.status + " " + r.headers.get("X-Graph-Error")))
	).then(a => a.join(""))`)
	if errs != "" {
		t.Fatalf("a chart shows an error: %s", errs)
	}
}

// screenshot saves the page as a test artifact in $GM_ARTIFACTS (or the
// temporary directory).
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err, "screenshot")
	dir := os.Getenv("GM_ARTIFACTS")
	if dir == "" {
		dir = os.TempDir()
	}
	file := filepath.Join(dir, "graphmetrics-web-e2e-"+name+".png")
	must(t, os.WriteFile(file, png, 0o644), "save screenshot")
	t.Logf("screenshot: %s", file)
}

// login logs in through the form, asked for by /tracelogs (the user's
// most recently changed page), and expects to land under landing.
func login(t testing.TB, ctx context.Context, base, user, pw, landing string) {
	t.Helper()
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/tracelogs"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
	), "fill login form")
	submit(t, ctx, `form.login button[type=submit]`)
	if p := location(t, ctx); !strings.HasPrefix(p, landing) {
		t.Fatalf("after login as %s: at %s, want %s", user, p, landing)
	}
}

func logout(t testing.TB, ctx context.Context) {
	t.Helper()
	submit(t, ctx, `form.logout button`)
}
