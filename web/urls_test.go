package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"graphmetrics/store"
	"graphmetrics/store/urlstore"
)

// rowSource is a URLSource over rows held in memory per instance, merged
// as the store merges them (Row.Merge), for the handler tests of what the
// pages make of rows; the browser test reads the real store.
type rowSource struct {
	mu    sync.Mutex
	rows  map[store.Key][]*urlstore.Row
	calls []string // "table|over keys from until [step]"
}

func (s *rowSource) Table(keys []store.Key, from, until int64) ([]*urlstore.Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("table %d %d %d", len(keys), from, until))
	by := map[string]*urlstore.Row{}
	var out []*urlstore.Row
	for _, k := range keys {
		for _, r := range s.rows[k] {
			m := by[r.URL]
			if m == nil {
				m = urlstore.NewRow(r.URL)
				by[r.URL] = m
				out = append(out, m)
			}
			m.Merge(r)
		}
	}
	return out, nil
}

func (s *rowSource) Over(keys []store.Key, u string, from, until, step int64) (*urlstore.Series, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("over %d %d %d %d", len(keys), from, until, step))
	// Everything in the second step.
	ser := &urlstore.Series{Start: from, Step: step, R: make([]*urlstore.Row, (until-from)/step)}
	ser.R[1] = urlstore.NewRow(u)
	for _, k := range keys {
		for _, r := range s.rows[k] {
			if r.URL == u {
				ser.R[1].Merge(r)
			}
		}
	}
	return ser, nil
}

// timedRow is a pattern with n requests of app time sec each.
func timedRow(u string, n int, sec float64) *urlstore.Row {
	r := urlstore.NewRow(u)
	for range n {
		r.Hist.Add(sec)
		r.TotalS += sec
	}
	r.Count, r.MaxS = uint64(n), sec
	return r
}

const hostileURL = "/x\xff\xfe\x01\x1b[31m<script>alert(1)</script>\"'&"

// urlsEnv serves 60 patterns on h1 and h2: /p{i} with i+1 requests of
// (i+1) ms, a hostile one of 64 KiB, one with no app time and errors.
func urlsEnv(t *testing.T) (*env, *rowSource) {
	src := &rowSource{rows: map[store.Key][]*urlstore.Row{}}
	for _, h := range []string{"h1", "h2"} {
		k := store.Key{Host: h, Customer: "acme", Instance: "app-8080"}
		for i := range 60 {
			src.rows[k] = append(src.rows[k], timedRow(fmt.Sprintf("/p%d", i), i+1, float64(i+1)/1000))
		}
		big := timedRow(hostileURL+strings.Repeat("y", 64<<10), 2, 30)
		big.Errors, big.Hangs = 1, 3
		untimed := urlstore.NewRow("/untimed")
		untimed.Count, untimed.Errors = 5, 5
		src.rows[k] = append(src.rows[k], big, untimed)
	}
	e := newEnv(t, Options{URLs: src})
	return e, src
}

type urlsDoc struct {
	From, Until int64
	Rows        []map[string]any
}

func TestURLsJSON(t *testing.T) {
	e, src := urlsEnv(t)
	c := e.loggedIn("alice", alicePW)
	r := c.get("/urls/h1/acme/app-8080.json?from=1700000000&until=1700003600")
	wantStatus(t, r, http.StatusOK)
	var doc urlsDoc
	must(t, json.Unmarshal([]byte(r.body), &doc), "json")
	if doc.From != 1700000000 || doc.Until != 1700003600 || src.calls[0] != "table 1 1700000000 1700003600" {
		t.Errorf("range %d..%d, calls %q", doc.From, doc.Until, src.calls)
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
	if u := big["url"].(string); !utf8.ValidString(u) || len(u) > urlsMaxJSON || !strings.HasPrefix(u, "/x\uFFFD\x01\x1b[31m<script>") {
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
	if doc.Rows[1]["url"] != "/p59" || doc.Rows[49]["url"] != "/p11" {
		t.Errorf("rows 1, 49: %v, %v", doc.Rows[1]["url"], doc.Rows[49]["url"])
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
	for i, h := range []string{"h1", "h2"} {
		r := urlstore.NewRow("/untimed")
		r.Count, r.Errors = uint64(1+4*i), uint64(5*i)
		src.rows[store.Key{Host: h, Customer: "acme", Instance: "app-8080"}] = []*urlstore.Row{r, timedRow("/timed", 1, 0.1)}
	}
	r = c.get("/urls/pool/acme/app-instances.json?from=-2h")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `{"url":"/untimed","count":6,"errors":5,"mean_s":null,"p50_s":null,"p95_s":null,"p99_s":null,"max_s":null,"total_s":0,"hangs":0}`) {
		t.Errorf("pool JSON: %.600s", r.body)
	}
	if last := src.calls[len(src.calls)-1]; !strings.HasPrefix(last, "table 2 ") {
		t.Errorf("pool asked %q", last)
	}

	// Ranges: over 400 days is refused, as is nonsense.
	for _, q := range []string{"from=-401d", "from=yesterday", "from=-1h&until=-2h"} {
		wantStatus(t, c.get("/urls/h1/acme/app-8080.json?"+q), http.StatusBadRequest)
	}
	wantStatus(t, c.get("/urls/h1/acme/app-8080.json?from=-400d"), http.StatusOK)
}

func TestURLsPage(t *testing.T) {
	e, src := urlsEnv(t)
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
	if !strings.Contains(r.body, "/x\uFFFD\uFFFD\uFFFD[31m&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;yyy") {
		t.Errorf("hostile URL not shown escaped: %.2000s", r.body)
	}
	if len(r.body) > 64<<10 {
		t.Errorf("page of %d bytes: the 64 KiB URL was not bounded", len(r.body))
	}

	// A click on a URL: the chart under the table, its SVG and its data.
	r = c.get("/urls/pool/acme/app-instances?from=-3h&url=%2Fp59")
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{`<tr class="selected"><td class="url" title="/p59"><a href="/urls/pool/acme/app-instances?from=-3h&amp;url=%2Fp59#over">`,
		`<figure class="chart over" id="over" data-json="/urls/pool/acme/app-instances/over.json?from=-3h&amp;url=%2Fp59"`,
		`<svg class="over"`, `<rect class="count"`, `<path class="p95" d="M`, `requests per minute`} {
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
	last := src.calls[len(src.calls)-1]
	var keys, from, until, step int64
	fmt.Sscanf(last, "over %d %d %d %d", &keys, &from, &until, &step)
	if len(series) != 2 || series[0].Target != "count" || series[1].Target != "p95_s" || keys != 2 || step != 60 ||
		from%60 != 0 || until%60 != 0 || len(series[0].Datapoints) != int((until-from)/60) {
		t.Fatalf("over.json %.300s after %q", r.body, last)
	}
	d0, d1 := series[0].Datapoints, series[1].Datapoints
	if *d0[0][0] != 0 || d1[0][0] != nil || *d0[1][0] != 120 || *d0[1][1] != float64(from+120) ||
		!urlstore.Scheme.Within(*d1[1][0], 0.06) {
		t.Errorf("points %v %v, %v %v", *d0[0][0], d1[0][0], *d0[1][0], *d1[1][0])
	}
	wantStatus(t, c.get("/urls/pool/acme/app-instances/over.json?from=-3h"), http.StatusBadRequest)
	wantStatus(t, c.get("/urls/h1/acme/app-8080/over.json?url="+strings.Repeat("a", urlsMaxLink+1)), http.StatusBadRequest)
	// At most 360 steps, whole hours beyond 48 hours.
	for _, c2 := range []struct {
		from string
		step int64
	}{{"-5min", 60}, {"-6h", 60}, {"-24h", 300}, {"-47h", 600}, {"-49h", 3600}, {"-30d", 7200}, {"-1y", 2 * 86400}} {
		wantStatus(t, c.get("/urls/h1/acme/app-8080/over.json?from="+c2.from+"&url=/p1"), http.StatusOK)
		if last := src.calls[len(src.calls)-1]; !strings.HasSuffix(last, fmt.Sprintf(" %d", c2.step)) {
			t.Errorf("from %s: %q, want a step of %d", c2.from, last, c2.step)
		}
	}
	// A range too long is said on the page, which shows the last hour.
	r = c.get("/urls/h1/acme/app-8080?from=-500d")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "at most 400 days") || !strings.Contains(r.body, "last hour") {
		t.Errorf("too long a range: %.3000s", r.body)
	}
}

func TestURLsHostilePaths(t *testing.T) {
	e, src := urlsEnv(t)
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
		"/urls/h1/acme/app-8080/../../../etc", "/urls/pool/acme/app-8080.json%00",
	} {
		r := c.get(p)
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusMovedPermanently {
			t.Errorf("%.80s: %d", p, r.StatusCode)
		}
		if r.StatusCode == http.StatusMovedPermanently {
			if loc := r.Header.Get("Location"); strings.HasPrefix(loc, "/urls/h1/acme/app-8080") {
				t.Errorf("%s redirects to %s", p, loc)
			}
		}
	}
	for _, call := range src.calls {
		t.Errorf("a hostile path reached the store: %s", call)
	}
}
