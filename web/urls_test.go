package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/urlpattern"
	"graphmetrics/store/urlstore"
)

// urlStat is n requests of pattern u, each of sec seconds of app time.
func urlStat(u string, n int, sec float64) store.URLStat {
	h := hist.New(urlstore.Scheme)
	h.AddN(urlstore.Scheme.Index(sec), uint64(n))
	us := uint64(math.Round(sec * 1e6))
	return store.URLStat{Pattern: u, Count: uint32(n), AppSumUS: uint64(n) * us, AppMaxUS: us, App: h.AppendEncode(nil)}
}

// writeURLs stores one second of URL statistics of an instance through
// the store's writer.
func writeURLs(t *testing.T, dir, host string, sec int64, stats ...store.URLStat) {
	t.Helper()
	w := urlstore.New(urlstore.Options{DataDir: dir})
	k := store.Key{Host: host, Customer: "acme", Instance: "app-8080"}
	must(t, w.WriteBuckets(k, []store.Bucket{{Time: sec, URLs: stats}}), "write URL statistics")
}

const hostileURL = "/x\xff\xfe\x01\x1b[31m<script>alert(1)</script>\"'&"

// hostilePattern is the pattern the aggregator makes of a 64 KiB hostile
// URL (store/urlpattern).
func hostilePattern(t *testing.T) string {
	n, err := urlpattern.New(nil)
	must(t, err, "normalizer")
	return n.Pattern(hostileURL + strings.Repeat("y", 64<<10))
}

// urlsEnv serves, on h1 and h2 at second at (30 minutes ago): 60 patterns
// /p{i} with i+1 requests of (i+1) ms, the hostile pattern with 2 of 30 s,
// 1 error and 3 hangs, and /untimed with 5 errors and no app time; 150
// minutes ago /timed and /untimed alone.
func urlsEnv(t *testing.T) (e *env, at, alone int64) {
	now := time.Now().Unix()
	at, alone = now-now%60-1800+7, now-now%60-9000+7
	e = newEnvWith(t, Options{}, func(dir string) {
		for i, h := range []string{"h1", "h2"} {
			var stats []store.URLStat
			for i := range 60 {
				stats = append(stats, urlStat(fmt.Sprintf("/p%d", i), i+1, float64(i+1)/1000))
			}
			big := urlStat(hostilePattern(t), 2, 30)
			big.Errors, big.Hangs = 1, 3
			stats = append(stats, big, store.URLStat{Pattern: "/untimed", Count: 5, Errors: 5})
			writeURLs(t, dir, h, alone, urlStat("/timed", 1, 0.1), store.URLStat{Pattern: "/untimed", Count: uint32(1 + 4*i), Errors: uint32(5 * i)})
			writeURLs(t, dir, h, at, stats...)
		}
	})
	return e, at, alone
}

type urlsDoc struct {
	From, Until int64
	Rows        []map[string]any
}

func TestURLsJSON(t *testing.T) {
	e, at, alone := urlsEnv(t)
	c := e.loggedIn("alice", alicePW)
	q := fmt.Sprintf("from=%d&until=%d", at-60, at+60)
	r := c.get("/urls/h1/acme/app-8080.json?" + q)
	wantStatus(t, r, http.StatusOK)
	var doc urlsDoc
	must(t, json.Unmarshal([]byte(r.body), &doc), "json")
	if doc.From != at-60 || doc.Until != at+60 {
		t.Errorf("range %d..%d", doc.From, doc.Until)
	}
	if len(doc.Rows) != 51 {
		t.Fatalf("%d rows, want 50 + other", len(doc.Rows))
	}
	fields := "count errors hangs max_s mean_s p50_s p95_s p99_s total_s url"
	for i, row := range doc.Rows {
		var keys []string
		for k := range row {
			keys = append(keys, k)
		}
		if got := strings.Join(slices.Sorted(slices.Values(keys)), " "); got != fields {
			t.Fatalf("row %d fields %q, want %q", i, got, fields)
		}
		if i > 0 && i < 50 && row["total_s"].(float64) > doc.Rows[i-1]["total_s"].(float64) {
			t.Errorf("row %d (%v) has more impact than row %d", i, row["url"], i-1)
		}
	}
	big := doc.Rows[0] // 2 × 30 s
	if u := big["url"].(string); u != hostilePattern(t) || !utf8.ValidString(u) || !strings.Contains(u, "<script>") {
		t.Errorf("hostile url in JSON: %d bytes %.40q", len(u), u)
	}
	if big["count"] != 2.0 || big["errors"] != 1.0 || big["hangs"] != 3.0 || big["max_s"] != 30.0 || big["total_s"] != 60.0 {
		t.Errorf("hostile row %v", big)
	}
	if p := big["p95_s"].(float64); !urlstore.Scheme.Within(p, 30) {
		t.Errorf("p95 %v, want 30 s within the scheme's error", p)
	}
	// /p59 .. /p11: 49 timed patterns after the big one; /p10 .. /p0 and
	// /untimed (no app time) are "other".
	if doc.Rows[1]["url"] != "/p59" || doc.Rows[49]["url"] != "/p11" || doc.Rows[1]["count"] != 60.0 {
		t.Errorf("rows 1, 49: %v, %v", doc.Rows[1], doc.Rows[49]["url"])
	}
	if m := doc.Rows[1]["mean_s"].(float64); math.Abs(m-0.06) > 1e-9 {
		t.Errorf("/p59's mean %v, want 0.06", m)
	}
	other := doc.Rows[50]
	wantCount, wantTotal := 5.0, 0.0
	for i := range 11 {
		wantCount += float64(i + 1)
		wantTotal += float64((i+1)*(i+1)) / 1000
	}
	if other["url"] != "other" || other["count"] != wantCount || other["errors"] != 5.0 ||
		math.Abs(other["total_s"].(float64)-wantTotal) > 1e-9 || other["max_s"] != 0.011 {
		t.Errorf("other %v, want count %v total %v", other, wantCount, wantTotal)
	}
	if m := other["mean_s"].(float64); math.Abs(m-wantTotal/(wantCount-5)) > 1e-9 {
		t.Errorf("other's mean %v: the untimed requests must not count", m)
	}

	// The pool merges both instances; a pattern without app times has
	// null percentiles.
	r = c.get(fmt.Sprintf("/urls/pool/acme/app-instances.json?from=%d&until=%d", alone-5, alone+5))
	wantStatus(t, r, http.StatusOK)
	if want := `"rows":[{"url":"/timed","count":2,"errors":0,"mean_s":0.1,`; !strings.Contains(r.body, want) {
		t.Errorf("pool JSON lacks %s: %.600s", want, r.body)
	}
	if want := `{"url":"/untimed","count":6,"errors":5,"mean_s":null,"p50_s":null,"p95_s":null,"p99_s":null,"max_s":null,"total_s":0,"hangs":0}]}`; !strings.HasSuffix(strings.TrimSpace(r.body), want) {
		t.Errorf("pool JSON does not end in %s: %.600s", want, r.body)
	}

	// Ranges: over 400 days is refused, as is nonsense.
	for _, q := range []string{"from=-401d", "from=yesterday", "from=-1h&until=-2h"} {
		wantStatus(t, c.get("/urls/h1/acme/app-8080.json?"+q), http.StatusBadRequest)
	}
	r = c.get("/urls/h1/acme/app-8080.json?from=-400d")
	wantStatus(t, r, http.StatusOK)
	must(t, json.Unmarshal([]byte(r.body), &doc), "json")
	if len(doc.Rows) != 51 || doc.Rows[50]["count"] != wantCount+2 {
		t.Errorf("400 days: %d rows, other %v", len(doc.Rows), doc.Rows[50])
	}
}

func TestURLsPage(t *testing.T) {
	e, at, _ := urlsEnv(t)
	c := e.loggedIn("alice", alicePW)
	r := c.get("/urls/h1/acme/app-8080")
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{`<table class="urls">`, `href="/live/h1/acme/app-8080"`, `href="/urls/h1/acme/app-8080.json?from=-1h"`,
		`<a href="/urls/h1/acme/app-8080?from=-1h&amp;url=%2Fp59#over">/p59</a>`, `<td>60</td>`, `<td>60.0 ms</td>`,
		`<tr class="other"><td class="url" title="other">other</td>`, `±1.97%`, `aria-current="true">1h</a>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "\x1b") || !utf8.ValidString(r.body) {
		t.Error("the hostile URL came through unescaped")
	}
	if !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;yyy") {
		t.Errorf("hostile URL not shown escaped: %.2000s", r.body)
	}
	if len(r.body) > 64<<10 {
		t.Errorf("page of %d bytes", len(r.body))
	}

	// A click on a URL: the chart under the table, its SVG and its data.
	r = c.get("/urls/pool/acme/app-instances?from=-3h&url=%2Fp59")
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{`<tr class="selected"><td class="url" title="/p59"><a href="/urls/pool/acme/app-instances?from=-3h&amp;url=%2Fp59#over">`,
		`<figure class="chart over" id="over" data-json="/urls/pool/acme/app-instances/over.json?from=-3h&amp;url=%2Fp59"`,
		`<svg class="over"`, `<rect class="count"`, `<path class="p95" d="M`, `requests per minute`, `<text class="count" x="52" y="22" text-anchor="end">120</text>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("chart page lacks %q", want)
		}
	}
	r = c.get("/urls/pool/acme/app-instances/over.json?from=-3h&url=%2Fp59")
	wantStatus(t, r, http.StatusOK)
	var series []struct {
		Target     string
		Datapoints [][2]*float64
	}
	must(t, json.Unmarshal([]byte(r.body), &series), "over.json")
	if len(series) != 2 || series[0].Target != "count" || series[1].Target != "p95_s" || len(series[0].Datapoints) < 180 {
		t.Fatalf("over.json %.300s", r.body)
	}
	found := 0
	for i, p := range series[0].Datapoints {
		end, c, p95 := int64(*p[1]), *p[0], series[1].Datapoints[i][0]
		if end%60 != 0 || (i > 0 && end-int64(*series[0].Datapoints[i-1][1]) != 60) {
			t.Fatalf("point %d at %d", i, end)
		}
		if end-60 <= at && at < end {
			found++
			if c != 120 || p95 == nil || !urlstore.Scheme.Within(*p95, 0.06) {
				t.Errorf("the minute of the requests: count %v p95 %v", c, p95)
			}
		} else if c != 0 || p95 != nil {
			t.Errorf("point %d at %d: count %v p95 %v", i, end, c, p95)
		}
	}
	if found != 1 {
		t.Errorf("the requests' minute found %d times", found)
	}
	wantStatus(t, c.get("/urls/pool/acme/app-instances/over.json?from=-3h"), http.StatusBadRequest)
	wantStatus(t, c.get("/urls/h1/acme/app-8080/over.json?url="+strings.Repeat("a", urlsMaxLink+1)), http.StatusBadRequest)
	// A range too long is said on the page, which shows the last hour.
	r = c.get("/urls/h1/acme/app-8080?from=-500d")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "at most 400 days") || !strings.Contains(r.body, "last hour") {
		t.Errorf("too long a range: %.3000s", r.body)
	}
}

// At most urlsPoints steps of whole minutes; the store makes them hours
// where it has no minutes any more.
func TestURLsStep(t *testing.T) {
	for _, c := range []struct{ span, step int64 }{{300, 60}, {6 * 3600, 60}, {86400, 300}, {49 * 3600, 600}, {30 * 86400, 7200}, {365 * 86400, 2 * 86400}} {
		if got := urlsStep(0, c.span); got != c.step {
			t.Errorf("span %d: step %d, want %d", c.span, got, c.step)
		}
	}
}

// boundBytes and shown keep what the store gave valid, short and plain,
// whatever it is.
func TestURLsBound(t *testing.T) {
	u := hostileURL + strings.Repeat("é", 40<<10)
	for _, n := range []int{1, 2, 3, 100, urlsMaxJSON} {
		b := boundBytes(u, n)
		if !utf8.ValidString(b) || len(b) > max(n, len("…")) || !strings.HasSuffix(b, "…") {
			t.Errorf("boundBytes(%d) = %d bytes %.30q", n, len(b), b)
		}
	}
	if s := shown(u, urlsShown); utf8.RuneCountInString(s) != urlsShown+1 || strings.ContainsAny(s, "\x01\x1b") {
		t.Errorf("shown %q", s)
	}
}

func TestURLsHostilePaths(t *testing.T) {
	e, _, _ := urlsEnv(t)
	anon := e.client()
	if r := anon.get("/urls/h1/acme/app-8080"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("without a session: %d", r.StatusCode)
	}
	c := e.loggedIn("alice", alicePW)
	for _, p := range []string{
		"/urls/h1/acme/..", "/urls/h1/../app-8080", "/urls/..%2F..%2Fetc/acme/passwd", "/urls/h1/acme/app-8080%2F..",
		"/urls/h1%2Facme/app-8080/x", "/urls/pool/acme/..", "/urls/pool/..%2Facme/app-instances",
		"/urls/h1/acme/" + strings.Repeat("x", 8000), "/urls/pool/acme/" + strings.Repeat("%2F", 3000) + ".json",
		"/urls/h1/acme/app-8080.json.json", "/urls/h1/acme/app-8080.json/over.json?url=/p1", "/urls/h3/acme/app-8080",
		"/urls/h1/acme/app-8080/../../../etc", "/urls/pool/acme/app-8080.json%00", "/urls/pool/acme/app-instances/x.json",
	} {
		r := c.get(p)
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusBadRequest {
			t.Errorf("%.80s: %d", p, r.StatusCode)
		}
	}
}

// Every instance and group of the tree, every chart's link row and the
// overview link to /urls, and the links lead to pages.
func TestURLsLinks(t *testing.T) {
	e, _, _ := urlsEnv(t)
	c := e.loggedIn("alice", alicePW)
	wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	wantStatus(t, c.post("/u/alice/main/charts", url.Values{"customer": {"acme"}, "gkind": {"pool"}, "group": {"app-instances"}, "view": {"all"}}), http.StatusSeeOther)
	r := c.get("/u/alice/main?from=-3h")
	wantStatus(t, r, http.StatusOK)
	links := []string{
		`<a href="/urls/pool/acme/app-instances" class="urls">urls</a></summary>`,
		`<a href="/urls/h1/acme/app-8080" class="urls">urls</a>`, `<a href="/urls/h2/acme/app-8080" class="urls">urls</a>`,
		`<a href="/urls/h1/acme/app-8080?from=-3h" class="urls">URLs</a></figcaption>`,
		`<a href="/urls/pool/acme/app-instances?from=-3h" class="urls">URLs</a></figcaption>`,
	}
	for _, l := range links {
		if !strings.Contains(r.body, l) {
			t.Errorf("page lacks %s", l)
		}
	}
	r = c.get("/")
	wantStatus(t, r, http.StatusOK)
	for _, l := range []string{`href="/urls/pool/acme/app-instances"`, `href="/urls/h1/acme/app-8080"`} {
		if !strings.Contains(r.body, l) {
			t.Errorf("overview lacks %s", l)
		}
	}
	r = c.get("/?from=-7d")
	wantStatus(t, r, http.StatusOK)
	for _, l := range []string{`href="/urls/pool/acme/app-instances?from=-7d"`, `href="/urls/h1/acme/app-8080?from=-7d"`} {
		if !strings.Contains(r.body, l) {
			t.Errorf("overview lacks %s", l)
		}
	}
	for _, l := range links {
		href := strings.ReplaceAll(strings.Split(l, `"`)[1], "&amp;", "&")
		if r := c.get(href); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `<table class="urls">`) {
			t.Errorf("%s: %d", href, r.StatusCode)
		}
	}
}
