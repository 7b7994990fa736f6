// Package urlstore keeps the per-URL-pattern request statistics of issue 12
// (count, errors, hangs, app-time total, max and histogram) per tracelog
// instance, at minute resolution for 48 hours and hour resolution for 400
// days, mergeable exactly across instances (a pool) and across time.
//
// row.go holds the types the reader returns and the web package shows.
package urlstore

import (
	"math"
	"sort"

	"graphmetrics/store"
	"graphmetrics/store/hist"
)

// Scheme is the app-time histogram scheme of the URL statistics: 59 buckets
// per decade from 1 ms to 346 s, so every percentile is within 1.97% of the
// exact nearest-rank value above 1 ms (issue 12: ≤ 2%).
var Scheme = store.URLScheme

// Other is the URL of the row that sums every pattern beyond an instance's
// max_patterns, and of the row beyond a table's top N.
const Other = "other"

// Row is one URL pattern's statistics over a range of time (and possibly
// several instances). Hist counts the app times of the requests that had
// one (a C before their A); Count also includes those that had none.
type Row struct {
	URL    string
	Count  uint64  // requests finished (A records)
	Errors uint64  // of those, 5xx or "Error:"
	Hangs  uint64  // requests that vanished at S/X or request_timeout
	TotalS float64 // sum of app times, seconds ("impact")
	MaxS   float64 // largest app time, seconds
	Hist   *hist.Hist
}

// NewRow returns an empty row for url.
func NewRow(url string) *Row { return &Row{URL: url, Hist: hist.New(Scheme)} }

// Merge adds o into r (the URL of r is kept).
func (r *Row) Merge(o *Row) {
	r.Count += o.Count
	r.Errors += o.Errors
	r.Hangs += o.Hangs
	r.TotalS += o.TotalS
	r.MaxS = max(r.MaxS, o.MaxS)
	if o.Hist != nil {
		if r.Hist == nil {
			r.Hist = hist.New(Scheme)
		}
		r.Hist.Merge(o.Hist) // one scheme: cannot fail
	}
}

// MeanS is the mean app time in seconds (NaN without app times).
func (r *Row) MeanS() float64 {
	if r.Hist == nil || r.Hist.Total() == 0 {
		return math.NaN()
	}
	return r.TotalS / float64(r.Hist.Total())
}

// Quantile is the q-quantile of the app time in seconds (NaN without app
// times), within Scheme's stated error.
func (r *Row) Quantile(q float64) float64 {
	if r.Hist == nil {
		return math.NaN()
	}
	return r.Hist.Quantile(q)
}

// Top sorts rows by impact (TotalS, then Count, then URL) and keeps the
// first n, merging the rest, and any row already named Other, into one
// Other row at the end (absent when empty).
func Top(rows []*Row, n int) []*Row {
	other := NewRow(Other)
	kept := rows[:0:0]
	for _, r := range rows {
		if r.URL == Other {
			other.Merge(r)
			continue
		}
		kept = append(kept, r)
	}
	sort.Slice(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.TotalS != b.TotalS {
			return a.TotalS > b.TotalS
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.URL < b.URL
	})
	if len(kept) > n {
		for _, r := range kept[n:] {
			other.Merge(r)
		}
		kept = kept[:n]
	}
	if other.Count > 0 || other.Hangs > 0 || other.Hist.Total() > 0 {
		kept = append(kept, other)
	}
	return kept
}

// Series is one pattern's rows over time: R[i] covers
// [Start+i·Step, Start+(i+1)·Step), nil when nothing happened in it.
type Series struct {
	Start, Step int64
	R           []*Row
}
