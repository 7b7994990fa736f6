package graphite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestFindExpandIndex(t *testing.T) {
	_, srv := newAPI(t, fixture(t), Options{})
	find := func(q string, extra ...string) []treeNode {
		t.Helper()
		v := url.Values{"query": {q}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		code, body := get(t, srv, "/metrics/find", v)
		if code != 200 {
			t.Fatalf("find %s: %d %s", q, code, body)
		}
		var out []treeNode
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	top := find("*")
	want := []treeNode{
		{Text: "counter", ID: "counter", Leaf: 1},
	}
	_ = want
	var ids []string
	for _, n := range top {
		ids = append(ids, fmt.Sprintf("%s:%d", n.ID, n.Leaf))
	}
	// Branches first, then leaves, as graphite-web's treejson.
	if strings.Join(ids, " ") != "disk:0 kin:0 tracelog:0 counter:1" {
		t.Errorf("find *: %v", ids)
	}
	inst := find("tracelog.h1.acme.app-8080.*")
	var names []string
	for _, n := range inst {
		if n.Leaf != 1 || n.Expandable != 0 || n.AllowChildren != 0 || n.ID != "tracelog.h1.acme.app-8080."+n.Text {
			t.Errorf("leaf node %+v", n)
		}
		names = append(names, n.Text)
	}
	if strings.Join(names, " ") != "app_mean app_n app_sum busy epm errors hung maxrpm p50 p95 p99 requests rpm starts waiting" {
		t.Errorf("instance children: %v", names)
	}
	// A dotted host name is one element, escaped.
	if got := find("kin.*"); len(got) != 1 || got[0].Text != "db%2Eexample%2Ecom" || got[0].Leaf != 0 {
		t.Errorf("kin.*: %+v", got)
	}
	if got := find("kin.db%2Eexample%2Ecom.load"); len(got) != 1 || got[0].Leaf != 1 {
		t.Errorf("escaped path: %+v", got)
	}
	if got := find("nothing.here"); len(got) != 0 {
		t.Errorf("no match: %+v", got)
	}
	code, body := get(t, srv, "/metrics/find", url.Values{"query": {"tracelog.h"}, "format": {"completer"}})
	if code != 200 || !strings.Contains(body, `"path":"tracelog.h1."`) || !strings.Contains(body, `"is_leaf":"0"`) {
		t.Errorf("completer: %d %s", code, body)
	}

	code, body = get(t, srv, "/metrics/expand", url.Values{"query": {"tracelog.h2.*.*.busy", "disk.web1.*"}, "leavesOnly": {"1"}})
	if code != 200 || body != `{"results":["disk.web1.free","tracelog.h2.acme.app-8080.busy","tracelog.h2.beta.worker1.busy"]}` {
		t.Errorf("expand: %d %s", code, body)
	}
	code, body = get(t, srv, "/metrics/index.json", nil)
	var idx []string
	if code != 200 || json.Unmarshal([]byte(body), &idx) != nil || len(idx) != 4*15+5 || !slices.IsSorted(idx) ||
		!slices.Contains(idx, "tracelog.h2.beta.worker1.maxrpm") || !slices.Contains(idx, "kin.db%2Eexample%2Ecom.load") {
		t.Errorf("index.json: %d %d names %.300s", code, len(idx), body)
	}
}

func TestRenderDerivedAndCSV(t *testing.T) {
	_, srv := newAPI(t, fixture(t), Options{})
	// rpm = requests × 60, maxrpm = 60 × app_n / app_sum, per row.
	q := url.Values{"from": {fmt.Sprint(t0 + 4000)}, "until": {fmt.Sprint(t0 + 4100)}}
	got := render(t, srv, "tracelog.h1.acme.app-8080.{requests,rpm,app_n,app_sum,maxrpm,app_mean,errors,epm}", q)
	by := map[string][]float64{}
	for _, s := range got {
		for _, p := range s.Datapoints {
			v := -1.0
			if p[0] != nil {
				v, _ = p[0].Float64()
			}
			by[s.Target[strings.LastIndexByte(s.Target, '.')+1:]] = append(by[s.Target[strings.LastIndexByte(s.Target, '.')+1:]], v)
		}
	}
	if len(by["rpm"]) != 100 {
		t.Fatalf("rpm has %d points", len(by["rpm"]))
	}
	for i := range by["rpm"] {
		if by["rpm"][i] != by["requests"][i]*60 || by["epm"][i] != by["errors"][i]*60 {
			t.Errorf("row %d: rpm %v requests %v epm %v errors %v", i, by["rpm"][i], by["requests"][i], by["epm"][i], by["errors"][i])
		}
		n, sum := by["app_n"][i], by["app_sum"][i]
		if n > 0 && (abs(by["maxrpm"][i]-60*n/sum) > 1e-9*by["maxrpm"][i] || abs(by["app_mean"][i]-sum/n) > 1e-12) {
			t.Errorf("row %d: maxrpm %v app_mean %v from n %v sum %v", i, by["maxrpm"][i], by["app_mean"][i], n, sum)
		}
		if n == 0 && (by["maxrpm"][i] != -1 || by["app_mean"][i] != -1) {
			t.Errorf("row %d: no requests, maxrpm %v app_mean %v, want null", i, by["maxrpm"][i], by["app_mean"][i])
		}
	}
	code, body := get(t, srv, "/render", url.Values{"target": {"disk.web1.free"}, "format": {"csv"},
		"from": {fmt.Sprint(t0)}, "until": {fmt.Sprint(t0 + 180)}})
	if code != 200 || body != "disk.web1.free,2023-11-14 22:00:00,1000.0\r\ndisk.web1.free,2023-11-14 22:01:00,998.6423717297922\r\ndisk.web1.free,2023-11-14 22:02:00,997.2818428521222\r\n" {
		t.Errorf("csv: %d %q", code, body)
	}
	// noNullPoints drops the nulls, and series that are all null.
	got = render(t, srv, "disk.web1.free", url.Values{"from": {fmt.Sprint(t0 + 14100)}, "until": {fmt.Sprint(t0 + 15000)}, "noNullPoints": {"1"}})
	if len(got) != 1 || len(got[0].Datapoints) != 4 {
		t.Errorf("noNullPoints: %+v", got)
	}
	got = render(t, srv, "disk.web1.free", url.Values{"from": {fmt.Sprint(t0 + 15000)}, "until": {fmt.Sprint(t0 + 16000)}, "noNullPoints": {"1"}})
	if len(got) != 0 {
		t.Errorf("noNullPoints, all null: %+v", got)
	}
}

func abs(x float64) float64 { return max(x, -x) }

func TestRenderErrors(t *testing.T) {
	_, srv := newAPI(t, fixture(t), Options{MaxSeries: 5})
	cases := map[string]string{
		"nosuch(a.b)":                           "Received request for unknown function: nosuch",
		"scale(tracelog.*.*.*.busy)":            `Missing required parameter "factor" for function "scale"`,
		"scale(tracelog.*.*.*.busy,'x')":        `Invalid "float" value specified for function "scale" parameter "factor": 'x'`,
		"limit(tracelog.*.*.*.busy,1.5)":        `Invalid "integer" value specified for function "limit" parameter "n": 1.5`,
		"absolute(a,b)":                         `Too many parameters specified for function "absolute"`,
		"alias(a,'x',foo=1)":                    `Too many parameters specified for function "alias"`,
		"alias(a,foo='x')":                      `Unexpected key word arguments: foo`,
		"summarize(a,'5parsecs')":               `Invalid "interval" value`,
		"consolidateBy(a,'median')":             `Invalid option specified for function "consolidateBy"`,
		"divideSeries(a.b,tracelog.*.*.*.busy)": "divideSeries second argument must reference exactly 1 series",
		"sumSeries(tracelog.*.*.*.*)":           "more than 5 series ([web] max_render_series)",
		"tracelog.*.*.*.*":                      "more than 5 series",
		"grep(a,'(')":                           "bad regular expression",
		"sum(a":                                 "invalid target",
		"a.{b":                                  "unbalanced",
		"scale(3,2)":                            `Invalid "seriesList" value`,
	}
	for target, want := range cases {
		code, body := get(t, srv, "/render", url.Values{"target": {target}, "format": {"json"}})
		if code != http.StatusBadRequest || !strings.HasPrefix(body, "Invalid parameters (") || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q, want 400 with %q", target, code, body, want)
		}
	}
	for q, want := range map[string]string{
		"target=a&from=soon":                            "unknown day reference",
		"target=a&format=xml":                           "format",
		"target=a&from=-1h&until=-1h":                   "Invalid empty time range",
		"target=a&xFilesFactor=2":                       "xFilesFactor",
		"target=a&until=20991231&from=-1d&now=21010101": "out of bounds",
		"target=a&format=json&maxDataPoints=x":          "",
	} {
		resp, err := http.Get(srv.URL + "/render?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want != "" && resp.StatusCode != 400 || want == "" && resp.StatusCode != 200 {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
	if code, body := get(t, srv, "/metrics/find", url.Values{}); code != 400 || !strings.Contains(body, "query") {
		t.Errorf("find without query: %d %s", code, body)
	}
	if code, body := get(t, srv, "/metrics/find", url.Values{"query": {"tracelog.{" + strings.Repeat("a,", 300) + "b}"}}); code != 400 {
		t.Errorf("find with 300 alternatives: %d %s", code, body)
	}
}

func TestRenderPointCap(t *testing.T) {
	_, srv := newAPI(t, fixture(t), Options{MaxPoints: 10000})
	code, body := get(t, srv, "/render", url.Values{"target": {"tracelog.*.*.*.busy"}, "format": {"json"},
		"from": {fmt.Sprint(t0 + 4000)}, "until": {fmt.Sprint(t0 + 7000)}})
	if code != 400 || !strings.Contains(body, "more than 10000 points") {
		t.Errorf("%d %s", code, body)
	}
}
