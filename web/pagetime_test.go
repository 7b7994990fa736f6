package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The page's ?from=&until= reaches every chart's image, CSV and JSON that
// does not pin its own range, and the exports cover exactly that range.
func TestPageRangeReachesEveryChart(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	for range 2 {
		wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	}
	// The second chart pins its own range.
	pinned := e.charts("alice", "main")[1].ID
	wantStatus(t, c.post(fmt.Sprintf("/u/alice/main/charts/%d", pinned), sampleQuery("range", "fixed")), http.StatusSeeOther)

	page := c.get("/u/alice/main?from=2009-07-30T15:47&until=2009-07-30T15:55")
	wantStatus(t, page, http.StatusOK)
	imgs, csvs, jsons := linksOf(t, page.body)
	if len(imgs) != 2 || len(csvs) != 2 || len(jsons) != 2 {
		t.Fatalf("links: %q %q %q", imgs, csvs, jsons)
	}
	for _, l := range []string{imgs[0], csvs[0], jsons[0]} {
		if !hasQuery(l, "from=1248968820&until=1248969300") {
			t.Errorf("chart following the page: %s", l)
		}
	}
	for _, l := range []string{imgs[1], csvs[1], jsons[1]} {
		if strings.Contains(l, "from=") || !strings.Contains(l, "start=1248968400") {
			t.Errorf("pinned chart: %s", l)
		}
	}
	if !strings.Contains(page.body, "pinned: 2009-07-30 15:40 to 16:00:00") {
		t.Error("the pinned chart does not say so")
	}
	if !strings.Contains(page.body, `value="2009-07-30T15:47"`) || !strings.Contains(page.body, "2009-07-30 15:47 to 15:55:00") {
		t.Error("the picker does not show the page's range")
	}
	// The page's range at its full detail: one row a second.
	_, rows := readCSV(t, c.get(csvs[0]).body)
	first, last := int64(1<<62), int64(0)
	for ts := range rows {
		first, last = min(first, ts), max(last, ts)
	}
	if first < 1248968820 || last > 1248969300 || len(rows) < 470 {
		t.Fatalf("CSV of the page's range: %d rows %d..%d", len(rows), first, last)
	}
	if v := rows[sampleHour+53*60+30]; len(v) != 6 { // rpm epm waiting maxrpm restarts hung
		t.Fatalf("CSV at 15:53:30: %v", v)
	}
	// Every image draws.
	for _, l := range imgs {
		r := c.get(l)
		if r.StatusCode != 200 || r.Header.Get("X-Graph-Error") != "" {
			t.Fatalf("%s: %d %s", l, r.StatusCode, r.Header.Get("X-Graph-Error"))
		}
	}
}

func TestPageRangeForms(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	for q, want := range map[string]string{
		"from=-15min":                      "from=-15min",
		"from=-15m&until=now":              "from=-15min&until=now",
		"from=-3h":                         "from=-3h",
		"from=-7d&until=-1d":               "from=-7d&until=-1d",
		"from=1248968820&until=1248972000": "from=1248968820&until=1248972000",
		"until=2009-07-30T16:00":           "until=1248969600",
		"from=yesterday":                   "w=800", // refused: the default range, and the reason shown
		"":                                 "w=800",
	} {
		page := c.get("/u/alice/main?" + q)
		wantStatus(t, page, http.StatusOK)
		imgs, _, _ := linksOf(t, page.body)
		if len(imgs) != 1 || !hasQuery(imgs[0], want) {
			t.Errorf("?%s: image %q, want %s in it", q, imgs, want)
		}
		if (q == "from=yesterday") != strings.Contains(page.body, `role="alert"`) {
			t.Errorf("?%s: error shown is %v", q, !(q == "from=yesterday"))
		}
	}
	// The presets keep other query values (a /metrics search).
	page := c.get("/metrics/u/alice/main?q=cpu")
	if !strings.Contains(page.body, `href="/metrics/u/alice/main?from=-5min&amp;q=cpu"`) {
		t.Error("the 5m preset does not keep the search")
	}
	// An edit goes back to the page at the range it was seen at.
	id := e.charts("alice", "main")[0].ID
	r := c.do("POST", fmt.Sprintf("/u/alice/main/charts/%d", id), url.Values{"range": {"page"}, "step": {"60"}},
		"Origin", e.base, "Sec-Fetch-Site", "same-origin", "Referer", e.base+"/u/alice/main?from=-3h")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/u/alice/main?from=-3h#chart-1" {
		t.Errorf("after an edit: back to %s", loc)
	}
}

// hasQuery reports whether link's query has every value of want.
func hasQuery(link, want string) bool {
	u, err := url.Parse(link)
	w, err2 := url.ParseQuery(want)
	if err != nil || err2 != nil {
		return false
	}
	for k := range w {
		if u.Query().Get(k) != w.Get(k) {
			return false
		}
	}
	return true
}

// The original's page URLs redirect, permanently and with their query.
func TestOldBookmarks(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.client()
	for from, to := range map[string]string{
		"/alice/main/":            "/u/alice/main",
		"/alice/main/?from=-3h":   "/u/alice/main?from=-3h",
		"/metrics/bob/cpu/?q=a+b": "/metrics/u/bob/cpu?q=a+b",
		"/metrics/alice/main/":    "/metrics/u/alice/main",
	} {
		r := c.get(from)
		if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != to {
			t.Errorf("%s: %d to %q, want 301 to %s", from, r.StatusCode, r.Header.Get("Location"), to)
		}
	}
	for _, bad := range []string{"/u/alice/", "/al%2Fice/main/", "/alice/.x/"} {
		if r := c.get(bad); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, r.StatusCode)
		}
	}
}
