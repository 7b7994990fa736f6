package graphite

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// grafanaSequence is what Grafana's Graphite data source sends when a user
// opens the query editor, browses the tree and a panel draws: the function
// list, /metrics/find one level at a time (with the panel's range), then a
// POST /render form with maxDataPoints.
func grafanaSequence() []refRequest {
	rng := map[string][]string{"from": {fmt.Sprint(t0 + 3600)}, "until": {fmt.Sprint(t0 + tSpan)}}
	find := func(q string) refRequest {
		p := map[string][]string{"query": {q}}
		for k, v := range rng {
			p[k] = v
		}
		return refRequest{Path: "/metrics/find", Params: p}
	}
	return []refRequest{
		{Path: "/functions", Params: map[string][]string{}},
		find("*"),
		find("tracelog.*"),
		find("tracelog.h1.*"),
		find("tracelog.h1.acme.*"),
		find("tracelog.h*.{acme,beta}.*"),
		{Path: "/render", Method: "POST", Params: map[string][]string{
			"target": {"aliasByNode(tracelog.*.acme.*.requests,1,3)", "sumSeries(tracelog.*.*.*.busy)"},
			"from":   {"-3h"}, "until": {"now"}, "now": {fmt.Sprint(t0 + tSpan)},
			"format": {"json"}, "maxDataPoints": {"1234"}}},
	}
}

func TestGrafanaRequestSequence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs graphite-web")
	}
	dir := fixture(t)
	_, srv := newAPI(t, dir, Options{})
	seq := grafanaSequence()
	ref := runReference(t, dir, append(seq, refRequest{Path: "@functions"}))
	// graphite-web's own /functions fails on Python 3.11 (a 500:
	// inspect.getargspec is gone); compare with its function table.
	if ref[0].Status != 500 {
		t.Logf("graphite-web's /functions answered %d", ref[0].Status)
	}
	ref[0] = ref[len(seq)]
	for i, rq := range seq {
		var resp *http.Response
		var err error
		if rq.Method == "POST" {
			resp, err = http.PostForm(srv.URL+rq.Path, url.Values(rq.Params))
		} else {
			resp, err = http.Get(srv.URL + rq.Path + "?" + url.Values(rq.Params).Encode())
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || ref[i].Status != 200 {
			t.Fatalf("%s %v: status %d (graphite-web %d): %.300s", rq.Path, rq.Params, resp.StatusCode, ref[i].Status, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", rq.Path, ct)
		}
		switch rq.Path {
		case "/functions":
			checkFunctions(t, b, ref[i].Body)
		case "/metrics/find":
			var got, want []treeNode
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(ref[i].Body), &want); err != nil {
				t.Fatal(err)
			}
			// graphite-web lists rrd/metrics as the branch "metrics";
			// graphmetrics lists the metric paths at the top.
			if rq.Params["query"][0] == "*" {
				want = slices.DeleteFunc(want, func(n treeNode) bool { return n.ID == "metrics" })
				got = slices.DeleteFunc(got, func(n treeNode) bool { return n.ID != "tracelog" })
			}
			if !slices.Equal(got, want) {
				t.Errorf("find %s: got %+v, graphite-web %+v", rq.Params["query"][0], got, want)
			}
		case "/render":
			if msg := diffSeries(decodeRender(t, string(b)), decodeRender(t, ref[i].Body)); msg != "" {
				t.Errorf("POST render: %s", msg)
			}
		}
	}
}

// checkFunctions: every function graphmetrics lists is one graphite-web
// lists, with the same parameter names and types, as Grafana reads them.
func checkFunctions(t *testing.T, got []byte, ref string) {
	t.Helper()
	type param struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Required bool   `json:"required"`
		Multiple bool   `json:"multiple"`
	}
	type fn struct {
		Name   string  `json:"name"`
		Group  string  `json:"group"`
		Params []param `json:"params"`
	}
	var ours, theirs map[string]fn
	if err := json.Unmarshal(got, &ours); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(ref, "1e9999", "1e308")), &theirs); err != nil {
		t.Fatal(err)
	}
	if len(ours) != 37 {
		t.Errorf("/functions lists %d functions, want the issue's 37", len(ours))
	}
	for name, f := range ours {
		g, ok := theirs[name]
		if !ok {
			t.Errorf("/functions: %s is not a graphite-web function", name)
			continue
		}
		if !slices.Equal(f.Params, g.Params) {
			t.Errorf("/functions: %s params %+v, graphite-web %+v", name, f.Params, g.Params)
		}
		if f.Group != g.Group {
			t.Errorf("/functions: %s group %q, graphite-web %q", name, f.Group, g.Group)
		}
	}
}

// TestGrafanaDashboard renders every target of contrib/grafana's
// dashboard, its variables filled as Grafana fills them (a multi-value
// variable becomes {a,b}), and checks its variable queries.
func TestGrafanaDashboard(t *testing.T) {
	_, srv := newAPI(t, fixture(t), Options{})
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", "grafana", "dashboards", "pool.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct{ Name, Query string }
		}
		Panels []struct {
			Title   string
			Targets []struct{ Target string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("$host", "h1", "$customer", "acme", "$instance", "{app-8080,app-8081}")
	for _, v := range d.Templating.List {
		code, body := get(t, srv, "/metrics/find", url.Values{"query": {fill.Replace(v.Query)}})
		if code != 200 || !strings.Contains(body, `"text"`) {
			t.Errorf("variable %s (%s): %d %s", v.Name, v.Query, code, body)
		}
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			got := render(t, srv, fill.Replace(tg.Target), url.Values{"from": {fmt.Sprint(t0 + 3600)}, "until": {fmt.Sprint(t0 + tSpan)}, "maxDataPoints": {"800"}})
			if len(got) == 0 || len(got[0].Datapoints) < 100 {
				t.Errorf("%s: %s: %+v", p.Title, tg.Target, got)
			}
			n++
		}
	}
	if len(d.Panels) != 4 || n < 4 {
		t.Errorf("%d panels, %d targets", len(d.Panels), n)
	}
}
