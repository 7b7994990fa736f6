package graphite

import (
	"math"
	"path/filepath"
	"testing"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/histstore"
)

// tracelog.<h>.<c>.<i>.p50|p95|p99 read the histogram store beside the
// instance's RRD file and give each step's percentile in seconds.
func TestFetchPercentile(t *testing.T) {
	data := t.TempDir()
	k := store.Key{Host: "zope1", Customer: "acme", Instance: "app-8080"}
	s := histstore.New(histstore.Options{DataDir: data})
	const t0 = 1_767_225_600
	var bs []store.Bucket
	for i := range int64(120) {
		h := hist.New(hist.Default)
		for j := range 100 {
			h.Add(0.010 * float64(1+j) * float64(1+i/60)) // minute 1 twice as slow
		}
		bs = append(bs, store.Bucket{Time: t0 + i, App: h.AppendEncode(nil)})
	}
	if err := s.WriteBuckets(k, bs); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(store.TracelogRoot(data), "zope1", "acme", "app-8080.rrd")
	if d, ok := histstore.DirOfTracelogFile(file); !ok || d != histstore.Dir(data, k) {
		t.Fatalf("histstore.DirOfTracelogFile(%s) = %s, %v", file, d, ok)
	}
	for name, q := range map[string]float64{"p50": 0.5, "p99": 0.99} {
		l := &Leaf{Path: "tracelog.zope1.acme.app-8080." + name, File: file, Derived: map[string]int{"p50": derivedP50, "p99": derivedP99}[name]}
		sr, err := fetchPercentile(l, q, t0, t0+120)
		if err != nil {
			t.Fatal(err)
		}
		if sr.Step != 1 || sr.Start != t0 || len(sr.Values) != 120 {
			t.Fatalf("%s: step %d start %d, %d values", name, sr.Step, sr.Start, len(sr.Values))
		}
		for i, v := range sr.Values {
			exact := 0.010 * math.Ceil(q*100) * float64(1+i/60)
			if !hist.Default.Within(v, exact) {
				t.Errorf("%s second %d: %g, exact %g", name, i, v, exact)
			}
		}
	}
	if _, ok := histstore.DirOfTracelogFile("/x/rrd/metrics/a/b/c.rrd"); ok {
		t.Error("a metric file maps to histograms")
	}
}
