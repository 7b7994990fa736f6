package web

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"graphmetrics/store/histstore"
	"graphmetrics/web/render"
)

// pctSource is one of a /metrics graph's app-time percentiles (issue 13):
// g.Data[data] is the q-quantile of the histograms in dir.
type pctSource struct {
	data int
	dir  string
	q    float64
}

// fillPercentiles computes g's percentile series from the histogram store
// at the step g is drawn or exported at (XportStep: the chart's step, else
// one pixel's), over its range and a step either side. histstore rounds the
// step up to the resolution that still holds the range's start (1 s rows
// for 3 hours, 1 min for 8 days, then 1 h) and aligns it like RRD rows,
// and the worker writes each series into an RRD file of that step: the
// rest of the pipeline (CDEFs, legend, export) treats it as any series. A
// step in which no request finished is unknown. Each instance's
// histograms are read once, one instance at a time, and all values
// together are bounded by render.MaxDataPoints.
func fillPercentiles(g *render.Graph, ps []pctSource) error {
	if len(ps) == 0 {
		return nil
	}
	step := int64(g.XportStep())
	from, until := g.Start-step, g.End+step
	// A range reaching past what a level keeps (an import's hours, then
	// days of nothing) would be more steps than one read returns.
	step = max(step, (until-from+histstore.MaxPoints-2)/(histstore.MaxPoints-1))
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b pctSource) int { return cmp.Compare(a.dir, b.dir) })
	var (
		sr  *histstore.Series
		dir string
		n   int
	)
	for _, p := range ps {
		if sr == nil || p.dir != dir {
			var err error
			if sr, err = histstore.ReadDir(p.dir, from, until, step); err != nil {
				return fmt.Errorf("app-time histograms: %w", err)
			}
			dir = p.dir
		}
		if n += len(sr.H); n > render.MaxDataPoints {
			return fmt.Errorf("the chart's app-time percentiles would be more than %d values; choose a larger step or a shorter range",
				render.MaxDataPoints)
		}
		vals := sr.Quantile(p.q)
		ptrs := make([]*float64, len(vals))
		for i := range vals {
			if !math.IsNaN(vals[i]) {
				ptrs[i] = &vals[i]
			}
		}
		d := &g.Data[p.data]
		d.Start, d.Step, d.Values = sr.Start, sr.Step, ptrs
	}
	return nil
}
