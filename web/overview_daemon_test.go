package web

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
	"graphmetrics/web/overview"
)

// TestOverviewDaemon: a pool of three live instances over syslog, one with
// a growing backlog, one gone silent, one healthy, beside healthy pools:
// /overview.json and the page mark the two with those reasons, put their
// pool first, and show the rpm that was sent.
func TestOverviewDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon for about 25 s")
	}
	d := overviewFleet(t)
	o, raw := waitTrouble(t, d)
	c := d.LogIn("alice", alicePW, false)
	t.Logf("overview.json: %s", raw)
	if o.Customers[0].Customer != "shop" || o.Customers[0].Pools[0].Pool != "app-instances" {
		t.Errorf("first customer and pool: %s/%s, want shop/app-instances", o.Customers[0].Customer, o.Customers[0].Pools[0].Pool)
	}
	p := findPool(&o, "shop", "app-instances")
	if !slices.Equal(p.Trouble, []string{overview.Silent, overview.Backlog}) {
		t.Errorf("pool trouble %v, want [silent backlog]", p.Trouble)
	}
	want := map[string][]string{"app-8080": {}, "app-8081": {overview.Backlog}, "app-8082": {overview.Silent}}
	for name, tr := range want {
		in := findInst(p, name)
		if !slices.Equal(in.Trouble, tr) {
			t.Errorf("%s: trouble %v, want %v", name, in.Trouble, tr)
		}
		if in.LastSeen == nil || in.Host != "127.0.0.1" {
			t.Errorf("%s: host %q, last_seen %v", name, in.Host, in.LastSeen)
		}
	}
	if p.Instances[len(p.Instances)-1].Instance != "app-8080" {
		t.Errorf("the healthy instance is not last: %s", p.Instances[len(p.Instances)-1].Instance)
	}
	if w := findInst(p, "app-8081").Waiting; w < 30 {
		t.Errorf("app-8081 waiting %d, want its growing backlog (≥ 30)", w)
	}
	// Every request's app time (C to A) is 18 ms; the histogram's bound
	// is 9.26%.
	checkP95 := func(what string, got *float64) {
		if got == nil || math.Abs(*got-0.018) > 0.018*0.0926 {
			t.Errorf("%s: p95 %v s, want 0.018 ± 9.26%%", what, got)
		}
	}
	checkP95("pool shop/app-instances", p.P95)
	for _, n := range []string{"app-8080", "app-8081"} {
		checkP95("shop/"+n, findInst(p, n).P95)
		checkRPM(t, "shop/"+n, findInst(p, n).RPM, 600)
	}
	aaa := findPool(&o, "aaa", "web-instances")
	checkRPM(t, "aaa/web-instances", aaa.RPM, 1200)
	if len(aaa.Trouble) != 0 || aaa.Hung == nil || *aaa.Hung != 0 || aaa.HeadroomPct == nil {
		t.Errorf("aaa/web-instances: trouble %v, hung %v, headroom %v", aaa.Trouble, aaa.Hung, aaa.HeadroomPct)
	}
	if o.Until-o.From != 3600 || o.Now < o.Until {
		t.Errorf("range %d..%d now %d: want the last hour", o.From, o.Until, o.Now)
	}

	// The page: the pool first, open, its rows marked; the healthy pools closed.
	page := string(getBody(t, c, "http://"+d.Web+"/"))
	first := strings.Index(page, `<details class="pool`)
	if first < 0 || !strings.HasPrefix(page[first:], `<details class="pool trouble" data-match="shop`+"\n"+`app-instances" open>`) {
		t.Errorf("first pool on the page: %.200s", page[max(first, 0):])
	}
	for _, s := range []string{`<b class="reason silent">silent</b>`, `<b class="reason backlog">backlog</b>`, `href="/live/127.0.0.1/shop/app-8081"`,
		`href="/urls/pool/shop/app-instances"`, `<svg class="spark rpm"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	if n := strings.Count(page, `<details class="pool"`); n != 2 {
		t.Errorf("%d closed healthy pools, want 2", n)
	}
	// The filter, as a GET form.
	page = string(getBody(t, c, "http://"+d.Web+"/?q=WEB-90"))
	if strings.Contains(page, "app-8081") || !strings.Contains(page, "web-9001") {
		t.Errorf("?q=WEB-90 shows the wrong rows")
	}
}

// waitTrouble waits until /overview.json shows the fleet's two troubled
// instances and the rpm of a whole minute.
func waitTrouble(t *testing.T, d *daemontest.Daemon) (overview.Overview, []byte) {
	t.Helper()
	c := d.LogIn("alice", alicePW, false)
	var o overview.Overview
	var raw []byte
	testwait.For(t, 60*time.Second, "the overview's rpm and trouble", func() bool {
		raw = getBody(t, c, "http://"+d.Web+"/overview.json")
		o = overview.Overview{}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("overview.json: %v\n%s", err, raw)
		}
		p := findPool(&o, "shop", "app-instances")
		return p != nil && len(p.Trouble) == 2 && findInst(p, "app-8080").RPM != nil && findInst(p, "app-8081").RPM != nil
	})
	return o, raw
}

func getBody(t *testing.T, c *http.Client, url string) []byte {
	t.Helper()
	r, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, r.StatusCode, err, b)
	}
	return b
}

func findPool(o *overview.Overview, customer, pool string) *overview.Pool {
	for _, c := range o.Customers {
		for _, p := range c.Pools {
			if c.Customer == customer && p.Pool == pool {
				return p
			}
		}
	}
	return nil
}

func findInst(p *overview.Pool, name string) *overview.Instance {
	for _, in := range p.Instances {
		if in.Instance == name {
			return in
		}
	}
	return &overview.Instance{}
}

func checkRPM(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > want*0.05 {
		t.Errorf("%s: rpm %v, want %v ± 5%%", what, got, want)
	}
}
