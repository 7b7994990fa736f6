package web

import (
	"bytes"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/web/internal/testrrd"
)

// minute sums the sample's buckets of [m, m+60): what rrd's 1-minute
// AVERAGE row makes of them, times 60.
type minute struct{ req, err, wait, appSum, appN float64 }

func minutes(bs []store.Bucket) map[int64]minute {
	out := map[int64]minute{}
	for _, b := range bs {
		m := b.Time - b.Time%60
		x := out[m]
		x.req += float64(b.Requests)
		x.err += float64(b.Errors)
		x.wait += float64(b.Waiting) / 60
		x.appSum += b.AppSum
		x.appN += float64(b.AppN)
		out[m] = x
	}
	return out
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b))
}

// graphFor fetches a chart's PNG and the values of its plotted series, the
// latter by running `rrdtool xport` on the very DEFs and CDEFs the image
// was drawn from.
func graphFor(t *testing.T, e *env, c *client, q url.Values) (map[int64][]float64, []string) {
	t.Helper()
	r := c.get("/graph/tracelog.png?" + q.Encode())
	wantStatus(t, r, http.StatusOK)
	if msg := r.Header.Get("X-Graph-Error"); msg != "" {
		t.Fatalf("graph error: %s", msg)
	}
	cfg, err := png.DecodeConfig(strings.NewReader(r.body))
	if err != nil || cfg.Width != 640 || cfg.Height != 300 {
		t.Fatalf("PNG: %v, %dx%d, want 640x300", err, cfg.Width, cfg.Height)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "private, max-age=31536000, immutable" {
		t.Fatalf("fixed old range: Cache-Control %q", cc)
	}
	ch, err := parseChart(q, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	g, err := chartGraph(e.s.tree, &ch, e.s.now())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := testrrd.Xport(g.XportArgs())
	if err != nil {
		t.Fatal(err)
	}
	var legends []string
	for _, d := range g.Draws {
		legends = append(legends, d.Legend)
	}
	return rows, legends
}

func sampleQuery(kv ...string) url.Values {
	q := url.Values{"customer": {"acme"}, "start": {"2009-07-30T15:40"}, "end": {"2009-07-30T16:00"},
		"step": {"60"}, "w": {"640"}, "h": {"300"}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func TestGraphOfSampleInstance(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	rows, legends := graphFor(t, e, c, sampleQuery("host", "h1", "instance", "app-8080"))
	if strings.Join(legends, ",") != "rpm,epm,waiting,max rpm,restarts,hung" {
		t.Fatalf("series: %q", legends)
	}
	// The row ending at 15:54 is minute 15:53 (SPEC §4).
	if v := rows[sampleHour+54*60]; v[0] != 11 {
		t.Fatalf("rpm at 15:53 UTC = %v, want 11", v[0])
	}
	want := minutes(sampleBuckets(t))
	checked := 0
	// 15:48 to 15:53 are the sample's complete minutes.
	for m := int64(sampleHour + 48*60); m <= sampleHour+53*60; m += 60 {
		v, w := rows[m+60], want[m]
		spr := 60 * w.appN / w.appSum
		if !near(v[0], w.req) || !near(v[1], w.err) || !near(v[2], w.wait) || !near(v[3], spr) || v[4] != 0 {
			t.Errorf("minute %s: got rpm %v epm %v waiting %v max rpm %v restarts %v; want %v %v %v %v 0",
				time.Unix(m, 0).UTC().Format("15:04"), v[0], v[1], v[2], v[3], v[4], w.req, w.err, w.wait, spr)
		}
		checked++
	}
	if checked != 6 {
		t.Fatalf("checked %d minutes", checked)
	}
}

func TestGraphOfSampleGroup(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	m := minutes(sampleBuckets(t))[sampleHour+53*60]
	spr := 60 * m.appN / m.appSum
	at := int64(sampleHour + 54*60)

	rows, legends := graphFor(t, e, c, sampleQuery("gkind", "pool", "group", "app-instances", "view", "all"))
	if v := rows[at]; v[0] != 22 || !near(v[3], 2*spr) {
		t.Fatalf("all at 15:53: %v (%q), want rpm 22, max rpm %v", v, legends, 2*spr)
	}
	rows, legends = graphFor(t, e, c, sampleQuery("gkind", "pool", "group", "app-instances", "view", "rpm"))
	if v := rows[at]; len(v) != 3 || v[0] != 11 || v[1] != 11 || v[2] != 0 || legends[0] != "app-8080 on h1" || legends[1] != "app-8080 on h2" || legends[2] != "restarts" {
		t.Fatalf("compare rpm at 15:53: %v %q", v, legends)
	}
	rows, _ = graphFor(t, e, c, sampleQuery("gkind", "pool", "group", "app-instances", "view", "maxrpm"))
	if v := rows[at]; len(v) != 3 || !near(v[0], spr) || !near(v[1], spr) || v[2] != 0 {
		t.Fatalf("compare max rpm at 15:53: %v, want %v each", v, spr)
	}
	// Max headroom also draws the group's epm and waiting (and restarts).
	rows, legends = graphFor(t, e, c, sampleQuery("gkind", "pool", "group", "app-instances", "view", "headroom"))
	if v, h := rows[at], (2*spr-22)/(2*spr)*100; len(v) != 4 || !near(v[0], h) || !near(v[1], 2*m.err) || !near(v[2], 2*m.wait) || v[3] != 0 {
		t.Fatalf("headroom at 15:53: %v %q, want %v, epm %v, waiting %v, 0", v, legends, h, 2*m.err, 2*m.wait)
	}
}

func TestGraphRefusesBadNamesAndSizes(t *testing.T) {
	e := newEnv(t, Options{})
	if err := os.WriteFile(e.dir+"/secret.rrd", []byte("not for you"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := e.loggedIn("alice", alicePW)
	for _, q := range []url.Values{
		sampleQuery("host", "h1", "instance", "../../../secret"),
		sampleQuery("host", "..", "instance", "app-8080"),
		sampleQuery("host", "h1/../h1", "instance", "app-8080"),
		sampleQuery("customer", "../acme", "host", "h1", "instance", "app-8080"),
		sampleQuery("host", "h1", "instance", "app-8080\x00"),
		sampleQuery("gkind", "host", "group", "../..", "view", "all"),
	} {
		r := c.get("/graph/tracelog.png?" + q.Encode())
		wantStatus(t, r, http.StatusNotFound)
		if r.Header.Get("X-Graph-Error") == "" || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%v: want an error image, got %v", q, r.Header)
		}
	}
	for _, kv := range [][]string{
		{"w", "2001"}, {"h", "1001"}, {"w", "100000"}, {"h", "-5"}, {"w", "1e9"},
		{"start", "1990-01-01T00:00"},                     // longer than the bounded span
		{"step", "999999"}, {"start", "2009-07-30T17:00"}, // start after end
		{"min", "NaN"}, {"log", "1", "min", "0"}, {"gkind", "pool", "group", "app-instances", "view", "PRINT"},
	} {
		q := sampleQuery(append([]string{"host", "h1", "instance", "app-8080"}, kv...)...)
		r := c.get("/graph/tracelog.png?" + q.Encode())
		wantStatus(t, r, http.StatusBadRequest)
		cfg, err := png.DecodeConfig(strings.NewReader(r.body))
		if err != nil || cfg.Width > 2000 || cfg.Height > 1000 || r.Header.Get("X-Graph-Error") == "" {
			t.Fatalf("%v: error image %v %+v %v", kv, err, cfg, r.Header)
		}
	}
	// Adding such a chart to a page is refused too.
	form := url.Values{"customer": {"acme"}, "host": {"h1"}, "instance": {"../../../secret"}}
	wantStatus(t, c.post("/u/alice/main/charts", form), http.StatusSeeOther)
	form = url.Values{"customer": {"acme"}, "host": {"h1"}, "instance": {"app-8080"}, "w": {"2001"}}
	wantStatus(t, c.post("/u/alice/main/charts", form), http.StatusSeeOther)
	if cs := e.charts("alice", "main"); len(cs) != 0 {
		t.Fatalf("refused charts were saved: %+v", cs)
	}
	if r := c.get("/u/alice/main"); !strings.Contains(r.body, "Chart not added: width must be") {
		t.Fatalf("no message about the refused chart:\n%s", r.body)
	}
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGraphRRDErrorIsAnImage(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	broken := rrdFile(e.dir, "h1", "acme", "broken")
	if err := os.WriteFile(broken, bytes.Repeat([]byte("garbage "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	c := e.loggedIn("alice", alicePW)
	r := c.get("/graph/tracelog.png?" + sampleQuery("host", "h1", "instance", "broken", "w", "500", "h", "200").Encode())
	wantStatus(t, r, http.StatusOK)
	msg := r.Header.Get("X-Graph-Error")
	if msg == "" || strings.Contains(msg, e.dir) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("error header %q (must not show the data dir), cache %q", msg, r.Header.Get("Cache-Control"))
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(r.body)); err != nil || cfg.Width != 500 || cfg.Height != 200 {
		t.Fatalf("error image: %v %+v", err, cfg)
	}
	if l := logs.String(); !strings.Contains(l, "graph failed") || !strings.Contains(l, "broken.rrd") {
		t.Fatalf("no log line for the failed graph:\n%s", l)
	}
	// A trailing chart may change: cached briefly.
	r = c.get("/graph/tracelog.png?customer=acme&host=h1&instance=app-8080&hours=3")
	wantStatus(t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "private, max-age=30" || r.Header.Get("X-Graph-Error") != "" {
		t.Fatalf("trailing chart: Cache-Control %q, error %q", cc, r.Header.Get("X-Graph-Error"))
	}
}

func TestEditChart(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	r := c.post("/u/alice/work/charts", instanceForm)
	wantStatus(t, r, http.StatusSeeOther)
	cs := e.charts("alice", "work")
	if len(cs) != 1 || !cs[0].Trailing() || cs[0].Hours != defaultHours || cs[0].Width != defaultWidth {
		t.Fatalf("new chart: %+v", cs)
	}
	id := "/u/alice/work/charts/" + strconv.Itoa(cs[0].ID)
	r = c.post(id, url.Values{"range": {"fixed"}, "hours": {"24"}, "start": {"2009-07-30T15:40"},
		"end": {"2009-07-30T16:00"}, "step": {"60"}, "log": {"1"}, "min": {"0.5"}, "max": {"100"},
		"w": {"640"}, "h": {"300"}, "instance": {"other"}, "group": {"sneaky"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/u/alice/work#chart-"+strconv.Itoa(cs[0].ID) {
		t.Fatalf("after change: %q", loc)
	}
	got := e.charts("alice", "work")[0]
	if got.Trailing() || got.Start != sampleHour+40*60 || got.End != sampleHour+60*60 || got.Step != 60 || !got.Log ||
		*got.Min != 0.5 || *got.Max != 100 || got.Width != 640 || got.Height != 300 ||
		got.Instance != "app-8080" || got.Group != "" {
		t.Fatalf("changed chart: %+v", got)
	}
	page := c.get("/u/alice/work")
	wantStatus(t, page, http.StatusOK)
	if !strings.Contains(page.body, `value="2009-07-30T15:40"`) || !strings.Contains(page.body, `log=1`) {
		t.Fatalf("page does not show the changed chart:\n%s", page.body)
	}
	// A bad change is refused with a message and leaves the chart alone.
	c.post(id, url.Values{"w": {"5000"}})
	if e.charts("alice", "work")[0].Width != 640 {
		t.Fatal("bad change applied")
	}
	if !strings.Contains(c.get("/u/alice/work").body, "chart not changed: width must be") {
		t.Fatal("no message for the refused change")
	}
	wantStatus(t, c.post(id+"/delete", url.Values{}), http.StatusSeeOther)
	if n := len(e.charts("alice", "work")); n != 0 {
		t.Fatalf("%d charts after remove", n)
	}
}
