package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
	"graphmetrics/store/urlstore"
)

// The /urls page in Chromium over the URL statistics written by the
// store's writer: the table, escaping, a click on a URL drawing its count
// and p95 (uPlot from over.json), and the SVG a browser without JS shows.
// With GM_SCREENS (make screens) it photographs the page, light and dark.
func TestBrowserURLs(t *testing.T) {
	ctx := browser(t)
	e, _, _ := urlsEnv(t)
	login(t, ctx, e.base, "alice", alicePW, "/")
	page := "/urls/pool/acme/app-instances?from=-1h"
	navigate(t, ctx, e.base+page)
	checkURLsTable(t, ctx, 51, "/p59", "120")
	if n := eval[int](t, ctx, `document.querySelectorAll("table.urls script, table.urls img").length`); n != 0 {
		t.Errorf("markup from a URL became %d elements", n)
	}
	if got := eval[string](t, ctx, `document.querySelector("table.urls tbody tr td.url").textContent`); !strings.HasPrefix(got, "/x\uFFFD\uFFFD\uFFFD[31m<script>alert(1)</script>") ||
		!strings.HasSuffix(got, "…") {
		t.Errorf("hostile URL shown as %.80q", got)
	}
	clickURL(t, ctx, "/p59", 120, 0.06)
	// Back: the chart goes, still without a navigation; Forward brings it.
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`history.back() === undefined`))
	must(t, err, "back")
	waitJS(t, ctx, `!location.search.includes("url=") && !document.getElementById("over") && graphmetrics.charts.length == 0 &&
		!document.querySelector("table.urls tr.selected")`, "the page without the chart after Back")
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`history.forward() === undefined`))
	must(t, err, "forward")
	waitJS(t, ctx, `location.search.includes("url=%2Fp59") && graphmetrics.charts.length == 1 && !!graphmetrics.charts[0].u &&
		document.querySelector("table.urls tr.selected td.url").textContent == "/p59"`, "the chart again after Forward")
	if !eval[bool](t, ctx, `window.gmMarker === 1`) {
		t.Error("Back or Forward loaded the whole page")
	}
	screens(t, ctx, "urls", e.base+page+"&url=%2Fp59")
}

// checkURLsTable checks the page's table: rows, its first URL after the
// most costly, and that URL's count.
func checkURLsTable(t *testing.T, ctx context.Context, rows int, second, count string) {
	t.Helper()
	got := eval[[]string](t, ctx, `[...document.querySelectorAll("table.urls tbody tr")].map(r => r.cells[0].textContent + " " + r.cells[1].textContent)`)
	if len(got) != rows || got[1] != second+" "+count || (rows > 50 && got[len(got)-1][:6] != "other ") {
		t.Errorf("table rows %d: %.400q", len(got), got)
	}
}

// clickURL clicks the URL's link and waits for its chart: the browser
// chart drawn over the server's SVG in place (a marker set on the window
// before the click survives: no navigation; the address says the URL),
// with the count and p95 expected in one step and nothing else.
func clickURL(t *testing.T, ctx context.Context, u string, count, p95 float64) {
	t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll("table.urls td.url a")].find(a => a.textContent == %s)`, jsString(u))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.gmMarker = 1) && (window.gmLoads = graphmetrics.overLoads) >= 0 && `+sel+`.click() === undefined`))
	must(t, err, "click "+u)
	waitJS(t, ctx, `new URLSearchParams(location.search).get("url") == `+jsString(u)+` && location.hash == "#over" &&
		graphmetrics.charts.length == 1 && !!graphmetrics.charts[0].u && graphmetrics.charts[0].plot.querySelector("canvas").width > 0`, "the URL's chart")
	if !eval[bool](t, ctx, `window.gmMarker === 1 && graphmetrics.overLoads == gmLoads + 1`) {
		t.Error("the click loaded the whole page, not the chart in place")
	}
	if got := eval[string](t, ctx, `document.querySelector("table.urls tr.selected td.url").textContent`); got != u {
		t.Errorf("selected row %q, want %q", got, u)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("figure#over svg.over").length`); n != 0 {
		t.Errorf("the server's SVG is still there beside the browser chart")
	}
	d := eval[[][]any](t, ctx, `graphmetrics.charts[0].u.data`)
	found := 0
	for i := range d[1] {
		c, _ := d[1][i].(float64)
		p, ok := d[2][i].(float64)
		if c == 0 && !ok {
			continue
		}
		found++
		if c != count || !ok || p < p95*0.98 || p > p95*1.02 {
			t.Errorf("step %d: count %v p95 %v, want %v and %v", i, d[1][i], d[2][i], count, p95)
		}
	}
	if found != 1 {
		t.Errorf("%d steps with requests, want 1: %v", found, d)
	}
	legend := eval[string](t, ctx, `graphmetrics.charts[0].legend.textContent`)
	if !strings.Contains(legend, "requests per minute") || !strings.Contains(legend, "p95 app time (s)") {
		t.Errorf("legend %q", legend)
	}
}

// screens photographs page light and dark, 1400 and 800 px wide, and
// without JS, into GM_SCREENS (make screens); without it, only the no-JS
// SVG is checked.
func screens(t *testing.T, ctx context.Context, name, page string) {
	t.Helper()
	dir := os.Getenv("GM_SCREENS")
	for _, scheme := range []string{"light", "dark"} {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		must(t, err, "emulate "+scheme)
		for _, width := range []int64{1400, 800} {
			if dir == "" {
				break
			}
			must(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)), "viewport")
			navigate(t, ctx, page)
			// Charts are drawn when they come near the window.
			waitJS(t, ctx, `!!window.graphmetrics && graphmetrics.charts.length == 1 &&
				(graphmetrics.charts[0].fig.scrollIntoView(), !!graphmetrics.charts[0].u)`, "the chart")
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`scrollTo(0, 0) === undefined`))
			must(t, err, "scroll up")
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			must(t, err, "screenshot")
			must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", name, scheme, width)), png, 0o644), "save screenshot")
		}
		nctx, cancel := chromedp.NewContext(ctx)
		_, err = chromedp.Call(nctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		must(t, err, "disable JS")
		_, err = chromedp.Call(nctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		must(t, err, "emulate "+scheme)
		must(t, chromedp.Do(nctx, chromedp.EmulateViewport(1400, 900)), "viewport")
		navigate(t, nctx, page)
		if n := eval[int](t, nctx, `document.querySelectorAll("figure#over svg.over rect.count").length`); n == 0 {
			t.Errorf("no bars in the SVG without JS")
		}
		if dir != "" {
			png, err := chromedp.Run(nctx, chromedp.FullScreenshot(100))
			must(t, err, "screenshot")
			must(t, os.WriteFile(filepath.Join(dir, name+"-nojs-"+scheme+"-1400.png"), png, 0o644), "save screenshot")
		}
		cancel()
	}
}

// The /urls page through the real daemon fed over syslog: requests of
// known app times become the table (patterns, counts, errors, p95 within
// the histogram's error, a hostile URL escaped), a click on a URL draws
// its count and p95, and /live and /urls link each other.
func TestBrowserURLsDaemon(t *testing.T) {
	ctx := browser(t)
	dataDir := t.TempDir()
	d := daemontest.New(t, dataDir, daemontest.Config(dataDir, ""))
	d.AddUser("alice", alicePW)
	d.Start()
	base := "http://" + d.Web
	// Every request in one second a little in the past, so its minute is
	// whole; app times from C to A.
	t0 := time.Now().Add(-3 * time.Second).Truncate(time.Second)
	ts := func(ms int) string {
		return t0.Add(time.Duration(ms) * time.Millisecond).UTC().Format("2006-01-02 15:04:05.000000")
	}
	var lines []string
	req := func(rid, url string, appMS, status int) {
		lines = append(lines, "B "+rid+" "+ts(0)+" GET "+url, "I "+rid+" "+ts(0)+" 0", "C "+rid+" "+ts(1),
			"A "+rid+" "+ts(1+appMS)+" "+strconv.Itoa(status)+" 10", "E "+rid+" "+ts(2+appMS))
	}
	for i := range 30 {
		req(fmt.Sprintf("s%d", i), fmt.Sprintf("/shop/%d?q=%d", 100+i, i), 200, 200)
	}
	for i := range 10 {
		status := 200
		if i < 2 {
			status = 500
		}
		req(fmt.Sprintf("a%d", i), fmt.Sprintf("/api/deadbeef%08x/get", i), 50, status)
	}
	daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", lines)
	// A hostile URL sent raw: 60 KiB, invalid UTF-8, control characters, markup.
	conn, err := net.Dial("udp", d.UDP)
	must(t, err, "dial")
	_, err = conn.Write([]byte("<134>acme app-8080 B bad " + ts(0) + " POST /x\xff\xfe\x01\x1b[31m<img src=x onerror=alert(2)>" + strings.Repeat("y", 60<<10)))
	must(t, err, "send hostile line")
	conn.Close()
	daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", []string{"C bad " + ts(1), "A bad " + ts(11) + " 200 1", "E bad " + ts(12)})

	login(t, ctx, base, "alice", alicePW, "/")
	page := "/urls/127.0.0.1/acme/app-8080"
	want := `/shop/{n}","count":30,"errors":0,`
	testwait.For(t, 30*time.Second, "the URL statistics in "+page+".json", func() bool {
		return strings.Contains(eval[string](t, ctx, `fetch(`+jsString(page+".json?from=-15min")+`).then(r => r.text())`), want)
	})
	var doc urlsDoc
	must(t, json.Unmarshal([]byte(eval[string](t, ctx, `fetch(`+jsString(page+".json?from=-15min")+`).then(r => r.text())`)), &doc), "json")
	if len(doc.Rows) != 3 || doc.Rows[0]["url"] != "/shop/{n}" || doc.Rows[1]["url"] != "/api/{id}/get" ||
		doc.Rows[1]["count"] != 10.0 || doc.Rows[1]["errors"] != 2.0 {
		t.Fatalf("rows %v", doc.Rows)
	}
	if p := doc.Rows[0]["p95_s"].(float64); !urlstore.Scheme.Within(p, 0.2) {
		t.Errorf("/shop/{n} p95 %v, want 0.2 within %.2f%%", p, 100*urlstore.Scheme.RelErr())
	}
	if u := doc.Rows[2]["url"].(string); !utf8.ValidString(u) || len(u) > 512 || !strings.Contains(u, "<img src=x onerror=alert(2)>") {
		t.Errorf("hostile pattern %d bytes %.60q", len(u), u)
	}

	navigate(t, ctx, base+page+"?from=-15min")
	checkURLsTable(t, ctx, 3, "/api/{id}/get", "10")
	if n := eval[int](t, ctx, `document.querySelectorAll("table.urls img, table.urls script").length`); n != 0 {
		t.Errorf("markup from a URL became %d elements", n)
	}
	clickURL(t, ctx, "/shop/{n}", 30, 0.2)

	// A refresh (the picker's, on a trailing range) brings new requests
	// into the table and the chart in place.
	t0 = time.Now().Add(-2 * time.Second).Truncate(time.Second)
	lines = nil
	for i := range 10 {
		req(fmt.Sprintf("n%d", i), fmt.Sprintf("/shop/%d", i), 200, 200)
	}
	daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", lines)
	testwait.For(t, 30*time.Second, "the new requests in "+page+".json", func() bool {
		return strings.Contains(eval[string](t, ctx, `fetch(`+jsString(page+".json?from=-15min")+`).then(r => r.text())`), `/shop/{n}","count":40,`)
	})
	eval[bool](t, ctx, `graphmetrics.refresh() === undefined`)
	waitJS(t, ctx, `graphmetrics.reloads > 0 && graphmetrics.charts[0].loads > 0 &&
		document.querySelector("table.urls tr.selected").cells[1].textContent == "40" &&
		graphmetrics.charts[0].u.data[1].reduce((a, b) => a + b, 0) == 40 && location.search.includes("url=")`, "the refreshed table and chart")

	// /live and /urls link each other.
	navigate(t, ctx, base+"/live/127.0.0.1/acme/app-8080")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a.urls`))), "follow /live's link")
	waitJS(t, ctx, `location.pathname == `+jsString(page)+` && !!document.querySelector("table.urls")`, "/urls from /live")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.urls-links a.live`))), "follow /urls' link")
	waitJS(t, ctx, `location.pathname == "/live/127.0.0.1/acme/app-8080" && !!document.querySelector("table.live")`, "/live from /urls")
}
