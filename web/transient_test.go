package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A viewer changes a chart of someone else's page for the moment (the URL
// carries it), points it at another instance, applies its range to all
// charts, then saves the page as their own with the changes; save as over
// one of their own pages asks first.
func TestViewerChangesAndSaveAs(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.loggedIn("alice", alicePW)
	for range 2 {
		wantStatus(t, alice.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	}
	cs := e.charts("alice", "main")
	bob := e.loggedIn("bob", bobPW)

	// Chart 1 on h2 instead of h1, one-minute steps, pinned to the sample.
	q := url.Values{"edit": {fmt.Sprint(cs[0].ID)}, "target": {"acme/app-8080@h2"}, "range": {"fixed"},
		"start": {"2009-07-30T15:40"}, "end": {"2009-07-30T16:00"}, "step": {"60"}, "w": {"700"}, "h": {"200"}}
	r := bob.get("/u/alice/main?" + q.Encode())
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/u/alice/main?o1=") || !strings.HasSuffix(loc, "#chart-1") {
		t.Fatalf("after a viewer's change: %s", loc)
	}
	page := bob.get(strings.TrimSuffix(loc, "#chart-1"))
	wantStatus(t, page, http.StatusOK)
	imgs, _, _ := linksOf(t, page.body)
	if len(imgs) != 2 || !hasQuery(imgs[0], "host=h2&step=60&start=1248968400&w=700") || !hasQuery(imgs[1], "host=h1&w=800") {
		t.Fatalf("charts after the change: %q", imgs)
	}
	if saved := e.charts("alice", "main"); saved[0].Host != "h1" || saved[0].Step != 0 {
		t.Fatalf("a viewer's change was saved: %+v", saved[0])
	}
	// "Apply to all": chart 1's controls to chart 2 as well, on top of the first change.
	q2 := url.Values{"edit": {"1"}, "all": {"1"}, "range": {"fixed"}, "start": {"2009-07-30T15:40"},
		"end": {"2009-07-30T16:00"}, "step": {"60"}, "w": {"700"}, "h": {"200"}, "o1": {page.Request.URL.Query().Get("o1")}}
	r = bob.get("/u/alice/main?" + q2.Encode())
	wantStatus(t, r, http.StatusSeeOther)
	page = bob.get(strings.Split(r.Header.Get("Location"), "#")[0])
	imgs, _, _ = linksOf(t, page.body)
	if len(imgs) != 2 || !hasQuery(imgs[0], "host=h2&step=60&w=700") || !hasQuery(imgs[1], "host=h1&step=60&start=1248968400&w=700&h=200") {
		t.Fatalf("charts after apply to all: %q", imgs)
	}
	// Save as: the copy has the changes.
	form := url.Values{"name": {"copy"}}
	for k, vs := range page.Request.URL.Query() {
		form[k] = vs
	}
	wantStatus(t, bob.post("/u/alice/main/saveas", form), http.StatusSeeOther)
	got := e.charts("bob", "copy")
	if len(got) != 2 || got[0].Host != "h2" || got[0].Step != 60 || got[1].Host != "h1" || got[1].Width != 700 {
		t.Fatalf("bob's copy: %+v", got)
	}
	// Again over his own page: asked first, replaced when he says so.
	r = bob.post("/u/alice/main/saveas", url.Values{"name": {"copy"}})
	if r.StatusCode != http.StatusConflict || !strings.Contains(r.body, `You already have a page &#34;copy&#34;`) || !strings.Contains(r.body, `name="replace" value="1"`) {
		t.Fatalf("save as over an own page: %d %.300s", r.StatusCode, r.body)
	}
	wantStatus(t, bob.post("/u/alice/main/saveas", url.Values{"name": {"copy"}, "replace": {"1"}}), http.StatusSeeOther)
	if got := e.charts("bob", "copy"); got[0].Host != "h1" || got[0].Step != 0 {
		t.Fatalf("bob's copy after replacing: %+v", got[0])
	}
}

// The owner points a chart at a group, and applies its controls to all.
func TestOwnerTargetAndApplyAll(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	for range 3 {
		wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	}
	form := sampleQuery("range", "fixed", "target", "acme/pool:app-instances", "view", "headroom", "all", "1")
	wantStatus(t, c.post("/u/alice/main/charts/2", form), http.StatusSeeOther)
	cs := e.charts("alice", "main")
	if cs[1].Group != "app-instances" || cs[1].View != viewHeadroom || cs[0].Group != "" {
		t.Fatalf("pointed at the pool: %+v", cs)
	}
	for _, ch := range cs {
		if ch.Start != 1248968400 || ch.Step != 60 || ch.Width != 640 {
			t.Errorf("apply to all: %+v", ch)
		}
	}
	// An unknown target is refused, and nothing changes.
	r := c.post("/u/alice/main/charts/1", sampleQuery("range", "fixed", "target", "acme/nosuch@h9"))
	wantStatus(t, r, http.StatusSeeOther)
	if e.charts("alice", "main")[0].Host != "h1" {
		t.Fatal("pointed at an unknown instance")
	}
}

// The browser chart's drawing styles: waiting on an axis of its own, the
// server image's colours and lines.
func TestChartStyles(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	body := c.get("/u/alice/main").body
	m := regexp.MustCompile(`data-series="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no data-series")
	}
	var st []seriesStyle
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &st); err != nil || len(st) != 6 {
		t.Fatalf("data-series %q: %v", m[1], err)
	}
	if st[0] != (seriesStyle{Label: "rpm", Color: "#" + colRPM, Type: "LINE2"}) || !st[2].Own || st[2].Label != "waiting" ||
		!st[3].Dashed || st[4].Type != "TICK" || st[0].Own || st[5].Label != "hung" || !st[5].Own {
		t.Fatalf("styles %+v", st)
	}
}

// FuzzSetTarget: any target text is refused or points the chart at
// something whose targetValue reads back the same.
func FuzzSetTarget(f *testing.F) {
	for _, s := range []string{"acme/app-8080@h1", "acme/pool:app-instances", "acme/host:h1", "a/b", "/x@y", "acme/pool:", "c/i@h@h"} {
		f.Add(s, "rpm")
	}
	f.Fuzz(func(t *testing.T, target, view string) {
		var c Chart
		if err := setTarget(&c, target, view); err != nil {
			return
		}
		var d Chart
		if err := setTarget(&d, targetValue(&c), c.View); err != nil || d != c {
			t.Fatalf("%q: %+v, read back %+v, %v", target, c, d, err)
		}
		if c.IsGroup() && viewTitles[c.View] == "" {
			t.Fatalf("%q: group with view %q", target, c.View)
		}
	})
}
