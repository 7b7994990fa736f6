package web

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
	"graphmetrics/store/sampletest"
)

// The sample's minutes, as a page range.
const sampleRange = "from=2009-07-30T15:40&until=2009-07-30T16:00"

// chartDaemon runs the built daemon with the sample sent over syslog
// (instance 127.0.0.1/acme/app-8080) and user alice, logged in in ctx.
func chartDaemon(t *testing.T, ctx context.Context) string {
	t.Helper()
	dataDir := t.TempDir()
	d := daemontest.New(t, dataDir, daemontest.Config(dataDir, "[self]\ninterval = \"1s\"\n"))
	d.AddUser("alice", alicePW)
	d.Start()
	daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", sampletest.Lines(t))
	file := filepath.Join(d.DataDir, "rrd", "tracelog", "127.0.0.1", "acme", "app-8080.rrd")
	testwait.For(t, 20*time.Second, "the sample's last second in "+file, func() bool {
		last, err := rrdLast(file)
		return err == nil && last == sampleHour+54*60+57
	})
	base := "http://" + d.Web
	login(t, ctx, base, "alice", alicePW, "/u/alice/main")
	return base
}

// postForm sends a form from the page, as its own forms do.
func postForm(t *testing.T, ctx context.Context, path string, kv ...string) {
	t.Helper()
	var pairs [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, [2]string{kv[i], kv[i+1]})
	}
	b, _ := json.Marshal(pairs)
	st := eval[int](t, ctx, fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams(%s)}).then(r => r.status)`, path, b))
	if st != 200 {
		t.Fatalf("POST %s: %d", path, st)
	}
}

var (
	instanceChart = []string{"customer", "acme", "host", "127.0.0.1", "instance", "app-8080"}
	poolAll       = []string{"customer", "acme", "gkind", "pool", "group", "app-instances", "view", "all"}
	poolHeadroom  = []string{"customer", "acme", "gkind", "pool", "group", "app-instances", "view", "headroom"}
)

// checkRanges checks that every chart shows span seconds (to a step of its
// data: rows align to their step) and that its export asks for from..until.
func checkRanges(t *testing.T, ctx context.Context, span int, from, until string) {
	t.Helper()
	got := eval[[]string](t, ctx, `graphmetrics.charts.map(c => {
		const q = new URL(c.url, location.href).searchParams;
		return Math.round(c.u.scales.x.max - c.u.scales.x.min) + " " + q.get("from") + " " + q.get("until");
	})`)
	for _, r := range got {
		var s int
		var f, u string
		fmt.Sscan(r, &s, &f, &u)
		if s < span || s > span+span/800+1 || f != from || u != until {
			t.Errorf("a chart shows %s, want %d s, %s..%s", r, span, from, until)
		}
	}
}

func TestBrowserCharts(t *testing.T) {
	ctx := browser(t)
	base := chartDaemon(t, ctx)
	for _, c := range [][]string{instanceChart, poolAll, poolHeadroom} {
		postForm(t, ctx, "/u/alice/main/charts", c...)
	}
	page := base + "/u/alice/main?" + sampleRange

	t.Run("picker", func(t *testing.T) {
		navigate(t, ctx, base+"/u/alice/main")
		chartsLoaded(t, ctx, 3)
		submit(t, ctx, `nav.presets a[href*="from=-1h"]`)
		chartsLoaded(t, ctx, 3)
		if q := eval[string](t, ctx, `location.search`); q != "?from=-1h" {
			t.Fatalf("after the 1h preset: %s", q)
		}
		checkRanges(t, ctx, 3600, "-1h", "null")
		must(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`details.custom summary`)),
			chromedp.SetValue(chromedp.CSS(`form.picker input[name=from]`), "2009-07-30T15:47"),
			chromedp.SetValue(chromedp.CSS(`form.picker input[name=until]`), "2009-07-30T15:55"),
		), "custom range")
		submit(t, ctx, `form.picker button[type=submit]`)
		chartsLoaded(t, ctx, 3)
		if q := eval[string](t, ctx, `location.search`); q != "?from=2009-07-30T15%3A47&until=2009-07-30T15%3A55" {
			t.Fatalf("after the custom range: %s", q)
		}
		checkRanges(t, ctx, 480, "1248968820", "1248969300")
	})

	t.Run("hover", func(t *testing.T) {
		navigate(t, ctx, page)
		chartsLoaded(t, ctx, 3)
		box := eval[[]float64](t, ctx, `(() => { const r = document.querySelector("figure.chart .u-over").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
		x, y := box[0]+box[2]*0.66, box[1]+box[3]/2
		must(t, chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y)), "hover")
		var at string
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector("figure.chart table.legend").dataset.t`, chromedp.WithPollingTimeout(5*time.Second)))
		must(t, err, "the legend follows the cursor")
		at = eval[string](t, ctx, `document.querySelector("figure.chart table.legend").dataset.t`)
		shown := eval[[]string](t, ctx, `[...document.querySelectorAll("figure.chart table.legend td.cur")].slice(0, 6).map(td => td.dataset.v)`)
		export := eval[[]string](t, ctx, `fetch(document.querySelector("figure.chart").dataset.json).then(r => r.json()).then(js =>
			js.map(s => { const p = s.datapoints.find(p => String(p[1]) == `+at+`); return p && p[0] != null ? String(p[0]) : ""; }))`)
		if len(shown) != 6 || fmt.Sprint(shown) != fmt.Sprint(export) {
			t.Fatalf("hover at %s shows %q; the JSON export has %q", at, shown, export)
		}
		if shown[0] == "" {
			t.Fatalf("hover at %s over the sample shows no rpm", at)
		}
	})

	t.Run("drag", func(t *testing.T) {
		navigate(t, ctx, page)
		chartsLoaded(t, ctx, 3)
		box := eval[[]float64](t, ctx, `(() => { const r = document.querySelector("figure.chart .u-over").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
		y := box[1] + box[3]/2
		x1, x2 := box[0]+box[2]*0.25, box[0]+box[2]*0.5
		want := eval[[]int](t, ctx, fmt.Sprintf(`(() => { const u = graphmetrics.charts[0].u; return [Math.floor(u.posToVal(%f, "x")), Math.ceil(u.posToVal(%f, "x"))]; })()`, x1-box[0], x2-box[0]))
		must(t, chromedp.Do(ctx,
			chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x1, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (x1+x2)/2, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x2, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x2, y, chromedp.ButtonLeft),
		), "drag")
		waitJS(t, ctx, `location.search.startsWith("?from=1")`, "the URL follows the drag")
		chartsLoaded(t, ctx, 3)
		// The page's range is where the drag began and ended, to a pixel or
		// two (a pixel is about 1.2 s here).
		var from, until int
		q := eval[string](t, ctx, `location.search`)
		if _, err := fmt.Sscanf(q, "?from=%d&until=%d", &from, &until); err != nil ||
			abs(from-want[0]) > 3 || abs(until-want[1]) > 3 || want[1]-want[0] < 200 {
			t.Fatalf("after the drag: %s, want about %v", q, want)
		}
		checkRanges(t, ctx, until-from, fmt.Sprint(from), fmt.Sprint(until))
		// Back goes back.
		eval[any](t, ctx, `history.back()`)
		waitJS(t, ctx, `location.search.replaceAll("%3A", ":") == "?`+sampleRange+`"`, "Back")
		chartsLoaded(t, ctx, 3)
		checkRanges(t, ctx, 1200, "1248968400", "1248969600")
		// A double-click zooms out: twice the range, around the same middle.
		box = eval[[]float64](t, ctx, `(() => { const r = document.querySelector("figure.chart .u-over").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
		must(t, chromedp.Do(ctx, chromedp.MouseClickXY(box[0]+box[2]/2, box[1]+box[3]/2, chromedp.ClickCount(2))), "double-click")
		waitJS(t, ctx, `location.search == "?from=1248967800&until=1248970200"`, "zoom out to 15:30..16:10")
		chartsLoaded(t, ctx, 3)
	})

	t.Run("resize", func(t *testing.T) {
		navigate(t, ctx, page)
		chartsLoaded(t, ctx, 3)
		wide := eval[[]int](t, ctx, `graphmetrics.charts.map(c => c.u.width)`)
		must(t, chromedp.Do(ctx, chromedp.EmulateViewport(800, 1000)), "narrow window")
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`graphmetrics.charts.every(c => c.u.width == c.plot.clientWidth && c.u.width < 780 &&
			c.fig.getBoundingClientRect().right <= document.documentElement.clientWidth)`, chromedp.WithPollingTimeout(10*time.Second)))
		narrow := eval[[]int](t, ctx, `graphmetrics.charts.map(c => c.u.width)`)
		must(t, err, fmt.Sprintf("charts follow the window: %v → %v", wide, narrow))
		must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000)), "wide window")
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`graphmetrics.charts.every((c, i) => c.u.width == `+fmt.Sprint(wide[0])+`)`, chromedp.WithPollingTimeout(10*time.Second)))
		must(t, err, "charts follow the window back")
	})

	t.Run("refresh", func(t *testing.T) {
		navigate(t, ctx, base+"/u/alice/main?from=-15min")
		chartsLoaded(t, ctx, 3)
		if v := eval[string](t, ctx, `(() => { const l = document.querySelector("label.refresh"); return l.hidden + " " + l.querySelector("select").value; })()`); v != "false 60" {
			t.Fatalf("refresh control of a trailing range (hidden, interval): %s", v)
		}
		// The same canvases redraw in place: no flicker, the scroll stays.
		y := eval[float64](t, ctx, `document.querySelectorAll(".uplot").forEach(e => e.dataset.mark = "1"),
			graphmetrics.charts.forEach(c => c.loads = 0), scrollTo(0, 400), scrollY`)
		if y < 100 {
			t.Fatalf("page too short to scroll: %v", y)
		}
		eval[any](t, ctx, `graphmetrics.refresh()`)
		waitJS(t, ctx, `graphmetrics.charts.every(c => c.loads > 0)`, "every chart refreshed")
		if v := eval[string](t, ctx, `scrollY + " " + document.querySelectorAll(".uplot[data-mark]").length`); v != fmt.Sprintf("%v 3", y) {
			t.Fatalf("after a refresh (scroll, charts kept): %s, want %v 3", v, y)
		}
	})

	t.Run("nojs", func(t *testing.T) {
		nctx, cancel := chromedp.NewContext(ctx) // a new tab, same login
		defer cancel()
		_, err := chromedp.Call(nctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		must(t, err, "disable JS")
		navigate(t, nctx, page)
		// The test's own evaluations still run; the page's scripts do not.
		_, err = chromedp.Run(nctx, chromedp.Poll[bool](`(() => {
			const imgs = [...document.querySelectorAll("figure.chart img")];
			return imgs.length == 3 && imgs.every(i => i.complete && i.naturalWidth > 0);
		})()`, chromedp.WithPollingTimeout(30*time.Second)))
		must(t, err, "with JS off, the three server images")
		if n := eval[int](t, nctx, `document.querySelectorAll("canvas").length + (window.graphmetrics ? 100 : 0)`); n != 0 {
			t.Fatalf("with JS off the page ran its script (%d)", n)
		}
		// Each image fills its column, drawn about as wide as that (srcset),
		// whatever width the chart was saved at.
		fit := eval[string](t, nctx, `[...document.querySelectorAll("figure.chart img")].map(i => {
			const col = i.closest(".plot").clientWidth * devicePixelRatio, u = new URL(i.currentSrc);
			const px = Number(u.searchParams.get("iw")) * (u.searchParams.get("zoom") == "2" ? 2 : 1);
			return i.clientWidth == i.closest(".plot").clientWidth && px >= Math.min(col, 1800 * devicePixelRatio) && px <= col * 1.45 ? "ok" : col + ":" + px;
		}).join(" ")`)
		if fit != "ok ok ok" {
			t.Fatalf("with JS off the images do not fit their columns (column px:image px): %s", fit)
		}
	})
}

// waitJS waits until js is true, through navigations (which make single
// evaluations fail).
func waitJS(t testing.TB, ctx context.Context, js, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second) // one evaluation; the tab stays
		ok, err := chromedp.Run(ectx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s is still not true (%v)", what, js, err)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an event
	}
}

func abs(n int) int { return max(n, -n) }
