package web

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserEndToEnd drives the built daemon with headless Chromium: the
// shared sample arrives over syslog (Python's SysLogHandler, UDP), users
// are made with `graphmetrics user add`, and the charts are looked at the
// way a person would.
func TestBrowserEndToEnd(t *testing.T) {
	ctx := browser(t)
	d := newDaemon(t, "")
	d.addUser("alice", alicePW)
	d.start()
	d.addUser("bob", bobPW) // the CLI shares the database with a running daemon
	base := "http://" + d.web

	sendSyslogPython(t, d.udp, "acme app-8080 ", sampleLines(t))
	// With no header, the host is the sender's address. The last record is
	// at 15:54:56 UTC: its second is the update at 15:54:57.
	file := filepath.Join(d.dataDir, "rrd", "tracelog", "127.0.0.1", "acme", "app-8080.rrd")
	waitUntil(t, 20*time.Second, "the sample's last second in "+file, func() bool {
		last, err := rrdLast(file)
		return err == nil && last == sampleHour+54*60+57
	})

	t.Run("tracelog", func(t *testing.T) { browseTracelog(t, ctx, base) })
}

// browseTracelog: alice adds a chart on "/", narrows it to the sample's
// minutes, reloads; bob views her page and saves a copy.
func browseTracelog(t *testing.T, ctx context.Context, base string) {
	login(t, ctx, base, "alice", alicePW, "/u/alice/main")
	submit(t, ctx, `button[data-instance="127.0.0.1/acme/app-8080"]`)
	chartsLoaded(t, ctx, 1)
	// A trailing chart redraws itself (every minute; here at once).
	eval[any](t, ctx, `graphmetricsRefresh()`)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const i = document.querySelector("figure.chart img[data-refresh]");
		return i && /[?&]r=\d+/.test(i.src) && i.complete && i.naturalWidth > 0;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
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
	src := eval[string](t, ctx, `document.querySelector("figure.chart img").getAttribute("src")`)
	const start, end = "start=1248968820", "end=1248969300" // 15:47 and 15:55 UTC
	if !strings.Contains(src, start) || !strings.Contains(src, end) || !strings.Contains(src, "instance=app-8080") {
		t.Fatalf("chart after reload: %s", src)
	}
	screenshot(t, ctx, "tracelog-alice")

	// bob views alice's page, read-only, and saves a copy.
	logout(t, ctx)
	login(t, ctx, base, "bob", bobPW, "/u/bob/main")
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
	if src := eval[string](t, ctx, `document.querySelector("figure.chart img").getAttribute("src")`); !strings.Contains(src, start) {
		t.Fatalf("bob's copy shows %s", src)
	}
	// The copy is bob's: he gets the controls.
	if n := eval[int](t, ctx, `document.querySelectorAll("form.controls").length`); n != 1 {
		t.Fatalf("bob's copy has %d edit forms", n)
	}
	screenshot(t, ctx, "tracelog-bob")
	logout(t, ctx)
}
