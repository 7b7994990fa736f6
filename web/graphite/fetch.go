package graphite

import (
	"context"
	"fmt"
	"graphmetrics/web/internal/rrdretry"
	"math"
	"time"

	"graphmetrics/store/histstore"

	"github.com/ziutek/rrd"
)

// Fetcher reads leaves through librrd's reentrant fetch, read-only, at
// most Parallel files at a time (so a heavy query leaves the machine's
// other cores to ingest), with the consolidation function CF.
type Fetcher struct {
	sem chan struct{}
	CF  string
}

// NewFetcher allows parallel concurrent reads; CF is AVERAGE.
func NewFetcher(parallel int) *Fetcher {
	return &Fetcher{sem: make(chan struct{}, max(parallel, 1)), CF: "AVERAGE"}
}

// Fetch reads leaf over [from, until] as graphite-web's RRD reader does:
// librrd picks the finest archive that covers the range, the row ending
// at start+(i+1)·step is labelled start+i·step, and the last row is
// dropped.
func (f *Fetcher) Fetch(ctx context.Context, l *Leaf, from, until int64) (*Series, error) {
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.sem }()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q, ok := percentiles[l.Derived]; ok {
		return fetchPercentile(l, q, from, until)
	}
	res, err := rrdretry.Fetch(l.File, f.CF, time.Unix(from, 0), time.Unix(until, 0), time.Second)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", l.Path, err)
	}
	defer res.FreeValues()
	step := int64(res.Step / time.Second)
	start, end := res.Start.Unix(), res.End.Unix()
	if step <= 0 || end < start {
		return nil, fmt.Errorf("fetch %s: librrd answered step %d for %d..%d", l.Path, step, start, end)
	}
	n := int((end-start)/step) - 1 // graphite-web drops the last of (end-start)/step rows
	n = max(n, 0)
	idx := map[string]int{}
	for i, name := range res.DsNames {
		idx[name] = i
	}
	col := func(ds string) (int, error) {
		i, ok := idx[ds]
		if !ok {
			return 0, fmt.Errorf("fetch %s: %s has no data source %q", l.Path, l.File, ds)
		}
		return i, nil
	}
	vals := make([]float64, n)
	if l.Derived == derivedNone {
		c, err := col(l.DS)
		if err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i] = res.ValueAt(c, i)
		}
	} else if err := derive(vals, l.Derived, &res, col); err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return &Series{Name: l.Path, PathExpr: l.Path, Start: start, End: end, Step: step, Values: vals,
		Consolidate: "average", XFilesFactor: 0, Tags: map[string]string{"name": l.Path}}, nil
}

// derive computes SPEC §3's graph-time series from one fetched row.
func derive(vals []float64, kind int, res *rrd.FetchResult, col func(string) (int, error)) error {
	var a, b int
	var err error
	var fn func(x, y float64) float64
	switch kind {
	case derivedRPM:
		a, err = col("requests")
		fn = func(x, _ float64) float64 { return x * 60 }
	case derivedEPM:
		a, err = col("errors")
		fn = func(x, _ float64) float64 { return x * 60 }
	case derivedMaxRPM:
		if a, err = col("app_n"); err == nil {
			b, err = col("app_sum")
		}
		fn = func(n, sum float64) float64 { return safeDiv(60*n, sum) }
	case derivedAppMean:
		if a, err = col("app_sum"); err == nil {
			b, err = col("app_n")
		}
		fn = safeDiv
	default:
		return fmt.Errorf("unknown derived series %d", kind)
	}
	if err != nil {
		return err
	}
	for i := range vals {
		vals[i] = fn(res.ValueAt(a, i), res.ValueAt(b, i))
	}
	return nil
}

// safeDiv is unknown where the divisor is zero (no request measured).
func safeDiv(x, y float64) float64 {
	if y == 0 {
		return math.NaN()
	}
	return x / y
}

var percentiles = map[int]float64{derivedP50: 0.50, derivedP95: 0.95, derivedP99: 0.99}

// fetchPercentile reads an instance's app-time histograms (store/histstore,
// beside its RRD file) at the finest resolution that still holds from, and
// takes the percentile of each step: exact up to the histogram's bucket
// error, in seconds. The value at start+i·step is that of the step
// starting there, as for RRD series.
func fetchPercentile(l *Leaf, q float64, from, until int64) (*Series, error) {
	dir, ok := histstore.DirOfTracelogFile(l.File)
	if !ok {
		return nil, fmt.Errorf("fetch %s: not a tracelog file", l.Path)
	}
	sr, err := histstore.ReadDir(dir, from, until, 1)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", l.Path, err)
	}
	vals := sr.Quantile(q)
	return &Series{Name: l.Path, PathExpr: l.Path, Start: sr.Start, End: sr.Start + int64(len(vals))*sr.Step, Step: sr.Step, Values: vals,
		Consolidate: "average", XFilesFactor: 0, Tags: map[string]string{"name": l.Path}}, nil
}
