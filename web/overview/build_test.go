package overview

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/web/internal/testrrd"
	"graphmetrics/web/tree"
)

type fixed []Live

func (f fixed) Live(context.Context) ([]Live, error) { return f, nil }

// Each rule on real files: errors (10% of requests), headroom (5% left:
// 0.095 s a request at 600 rpm; the others 0.05 s, 50%),
// backlog (waiting since 3 minutes), silent (3 minutes quiet while its
// pool is live); the troubled pools sort first, the healthy last.
func TestTroubleRules(t *testing.T) {
	root := t.TempDir()
	now := time.Now().Truncate(time.Minute)
	start := now.Add(-10 * time.Minute).Unix()
	mk := func(host, cust, inst string, f func(*store.Bucket)) {
		bs := make([]store.Bucket, 600)
		for i := range bs {
			bs[i] = store.Bucket{Time: start + int64(i), Requests: 10, AppN: 10, AppSum: 0.5}
			f(&bs[i])
		}
		if err := testrrd.Make(filepath.Join(root, host, cust, inst+".rrd"), bs); err != nil {
			t.Fatal(err)
		}
	}
	mk("h1", "c", "err-8080", func(b *store.Bucket) { b.Errors = 1 })
	mk("h1", "c", "slow-8080", func(b *store.Bucket) { b.AppSum = 0.95 })
	mk("h1", "c", "ok-8080", func(*store.Bucket) {})
	mk("h1", "c", "app-8080", func(*store.Bucket) {})
	mk("h2", "c", "app-8080", func(*store.Bucket) {})
	mk("h3", "c", "app-8080", func(*store.Bucket) {})
	live := fixed{
		{Host: "h1", Customer: "c", Instance: "app-8080", LastSeen: now, LastHeard: now, Waiting: 3, WaitingSince: now.Add(-3 * time.Minute)},
		{Host: "h2", Customer: "c", Instance: "app-8080", LastSeen: now, LastHeard: now.Add(-3 * time.Minute)},
		{Host: "h3", Customer: "c", Instance: "app-8080", LastSeen: now, LastHeard: now, Waiting: 2, WaitingSince: now.Add(-30 * time.Second)},
	}
	o, err := Build(context.Background(), Request{Tree: tree.New(tree.Options{Root: root}).Get(), State: live,
		Thresholds: DefaultThresholds(), From: now.Add(-time.Hour), Until: now, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	got := map[string][]string{}
	for _, p := range o.Customers[0].Pools {
		order = append(order, p.Pool)
		got[p.Pool] = p.Trouble
		for _, in := range p.Instances {
			got[in.Host+"/"+in.Instance] = in.Trouble
		}
	}
	want := map[string][]string{
		"app-instances": {Silent, Backlog}, "h1/app-8080": {Backlog}, "h2/app-8080": {Silent}, "h3/app-8080": {},
		"err-instances": {Errors}, "h1/err-8080": {Errors},
		"slow-instances": {Headroom}, "h1/slow-8080": {Headroom},
		"ok-instances": {}, "h1/ok-8080": {},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: trouble %v, want %v", k, got[k], w)
		}
	}
	if !slices.Equal(order, []string{"app-instances", "err-instances", "slow-instances", "ok-instances"}) {
		t.Errorf("pool order %v", order)
	}
	p := o.Customers[0].Pools[0]
	if *p.RPM != 1800 || *p.EPM != 0 || p.Waiting != 5 || p.Hung == nil || *p.Hung != 0 || *p.HeadroomPct != 50 {
		t.Errorf("pool app-instances: rpm %v epm %v waiting %d hung %v headroom %v", *p.RPM, *p.EPM, p.Waiting, p.Hung, *p.HeadroomPct)
	}
	if len(p.SparkRPM) != 60 || p.SparkRPM[59] != 1800 {
		t.Errorf("sparkline of %d rows, last %v", len(p.SparkRPM), p.SparkRPM[len(p.SparkRPM)-1])
	}
	// The filter: a host keeps its instances only.
	o, err = Build(context.Background(), Request{Tree: tree.New(tree.Options{Root: root}).Get(), State: live,
		Thresholds: DefaultThresholds(), From: now.Add(-time.Hour), Until: now, Now: now, Filter: "H2"})
	if err != nil || len(o.Customers) != 1 || len(o.Customers[0].Pools) != 1 || len(o.Customers[0].Pools[0].Instances) != 1 {
		t.Errorf("filter H2: %+v %v", o, err)
	}
}
