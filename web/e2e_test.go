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

const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser test needs %s (make deps): %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks a submit button and waits for the page it leads to.
func submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	must(t, err, "click "+sel)
	if resp.Status != 200 {
		t.Fatalf("click %s: status %d at %s", sel, resp.Status, resp.URL)
	}
}

func path(t *testing.T, ctx context.Context) string {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	must(t, err, "read location")
	return p
}

// chartsLoaded waits until the page has n chart images, all decoded with a
// real size, then checks that none of them is the error image.
func chartsLoaded(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const imgs = [...document.querySelectorAll("figure.chart img")];
		return imgs.length == `+strconv.Itoa(n)+` && imgs.every(i => i.complete && i.naturalWidth > 0);
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	must(t, err, "wait for chart images")
	// The error image is a PNG too; the server marks it in a header.
	errs, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Promise.all(
		[...document.querySelectorAll("figure.chart img")].map(i => fetch(i.src).then(r =>
			r.status == 200 && !r.headers.get("X-Graph-Error") ? "" : r.status + " " + r.headers.get("X-Graph-Error")))
	).then(a => a.join(""))`, chromedp.EvalAwaitPromise))
	must(t, err, "fetch chart images")
	if errs != "" {
		t.Fatalf("a chart shows an error: %s", errs)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
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

func login(t *testing.T, ctx context.Context, e *env, user, pw string) {
	t.Helper()
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(e.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
	), "fill login form")
	submit(t, ctx, `form.login button[type=submit]`)
	if p := path(t, ctx); p != "/u/"+user+"/main" {
		t.Fatalf("after login as %s: at %s", user, p)
	}
}

func TestBrowser(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := browser(t)

	// alice was created with UserCommand, as `graphmetrics user add` does.
	login(t, ctx, e, "alice", alicePW)
	submit(t, ctx, `button[data-instance="h1/acme/app-8080"]`)
	chartsLoaded(t, ctx, 1)
	// A trailing chart redraws itself (every minute; here at once).
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`graphmetricsRefresh()`))
	must(t, err, "refresh")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const i = document.querySelector("figure.chart img[data-refresh]");
		return i && /[?&]r=\d+/.test(i.src) && i.complete && i.naturalWidth > 0;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	must(t, err, "wait for the refreshed chart")
	chartsLoaded(t, ctx, 1)

	// Show the sample's day: a fixed range, one-minute steps.
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`figure.chart details.edit summary`)),
		chromedp.Click(chromedp.CSS(`figure.chart input[name=range][value=fixed]`)),
		chromedp.SetValue(chromedp.CSS(`figure.chart input[name=start]`), "2009-07-30T15:40"),
		chromedp.SetValue(chromedp.CSS(`figure.chart input[name=end]`), "2009-07-30T16:00"),
		chromedp.SetValue(chromedp.CSS(`figure.chart select[name=step]`), "60"),
	), "fill chart controls")
	submit(t, ctx, `figure.chart form.controls button[type=submit]`)
	chartsLoaded(t, ctx, 1)

	// Saved: a reload shows the same chart.
	must(t, chromedp.Do(ctx, chromedp.Reload()), "reload")
	chartsLoaded(t, ctx, 1)
	src, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("figure.chart img").getAttribute("src")`))
	must(t, err, "read chart src")
	if !strings.Contains(src, "start=1248968400") || !strings.Contains(src, "instance=app-8080") {
		t.Fatalf("chart after reload: %s", src)
	}
	screenshot(t, ctx, "alice")

	// bob views alice's page, read-only, and saves a copy.
	submit(t, ctx, `form.logout button`)
	login(t, ctx, e, "bob", bobPW)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.base+"/u/alice/main")), "open alice's page")
	chartsLoaded(t, ctx, 1)
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.controls, aside.tree").length`))
	must(t, err, "count edit forms")
	if forms != 0 {
		t.Fatalf("bob sees %d edit controls on alice's page", forms)
	}
	must(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`form.saveas input[name=name]`), "from-alice")), "name the copy")
	submit(t, ctx, `form.saveas button`)
	if p := path(t, ctx); p != "/u/bob/from-alice" {
		t.Fatalf("after save as: at %s", p)
	}
	chartsLoaded(t, ctx, 1)
	screenshot(t, ctx, "bob")
	if cs := e.charts("bob", "from-alice"); len(cs) != 1 || cs[0].Start != 1248968400 {
		t.Fatalf("bob's copy: %+v", cs)
	}
}
