// Package legacy maps the RRD files of the original zc.graphmetrics onto
// tracelog files (graphmetrics import-legacy).
//
// A legacy file is <host>__<customer>__<instance>.rrd with step 60, the
// GAUGE data sources rpm epm bl spr start and AVERAGE archives of 1, 5 and
// 60 steps. Fill writes its history into a tracelog file's rows directly
// (package rrdraw): librrd only takes updates newer than a file's last
// update, and history goes before the live data.
//
// Mapping, per legacy row, into every 1-minute and 1-hour archive of the
// tracelog file, whatever its consolidation function (AVERAGE and MAX get
// the same values; the original kept no maxima):
//
//	requests = rpm/60            errors = epm/60       waiting = bl
//	app_n    = rpm/60            app_sum = rpm/spr     (so 60·app_n/app_sum = spr)
//	starts   = start/60          busy    = unknown
//
// When spr is unknown (no request with app time) or 0 while rpm is known,
// app_n = app_sum = 0, as live data has for such a second: the charts'
// max rpm (60·app_n/app_sum when app_sum > 0) then reads unknown. An
// unknown legacy value stays unknown. A minute takes the legacy 1-minute
// row where that archive reaches, else the 5-minute row holding it, else
// the hourly one; an hour takes the legacy hourly row. A row is written
// only when every value of it is unknown and it ends at or before the
// tracelog file's first known second, so live data is never overwritten and
// a second import writes nothing.
package legacy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"graphmetrics/store"
	"graphmetrics/store/rrdraw"
)

// Step and DataSources of a legacy file.
const Step = 60

var DataSources = []string{"rpm", "epm", "bl", "spr", "start"}

// ParseName splits "<host>__<customer>__<instance>.rrd".
func ParseName(name string) (store.Key, error) {
	base, ok := strings.CutSuffix(name, ".rrd")
	parts := strings.Split(base, "__")
	if !ok || len(parts) != 3 || slices.Contains(parts, "") {
		return store.Key{}, fmt.Errorf("%q does not split into <host>__<customer>__<instance>.rrd", name)
	}
	return store.Key{Host: parts[0], Customer: parts[1], Instance: parts[2]}, nil
}

// ErrShape marks a readable RRD file that is not a legacy file.
var ErrShape = errors.New("not a legacy graphmetrics file")

// Check says whether f has the legacy step, data sources and archives.
func Check(f *rrdraw.File) error {
	if f.Step != Step {
		return fmt.Errorf("%w: step %ds, want %d", ErrShape, f.Step, Step)
	}
	var names []string
	for _, d := range f.DS {
		if d.Type != "GAUGE" {
			return fmt.Errorf("%w: data source %s is %s, want GAUGE", ErrShape, d.Name, d.Type)
		}
		names = append(names, d.Name)
	}
	if !slices.Equal(names, DataSources) {
		return fmt.Errorf("%w: data sources %v, want %v", ErrShape, names, DataSources)
	}
	for _, r := range f.RRAs {
		if r.CF != "AVERAGE" || (r.PDPs != 1 && r.PDPs != 5 && r.PDPs != 60) {
			return fmt.Errorf("%w: archive %s of %d steps, want AVERAGE of 1, 5 or 60", ErrShape, r.CF, r.PDPs)
		}
	}
	return nil
}

// Stats counts what Fill wrote: rows of the 1-minute archives (counted
// once however many archives) and of the 1-hour ones.
type Stats struct{ Minutes, Hours int }

// Fill writes legacy rows into dst (a tracelog file), before dst's first
// known second only and into unknown rows only.
func Fill(dst, src *rrdraw.File) (Stats, error) {
	idx := make([]int, len(store.DataSources))
	for i, name := range store.DataSources {
		idx[i] = slices.IndexFunc(dst.DS, func(d rrdraw.DS) bool { return d.Name == name })
		if idx[i] < 0 {
			return Stats{}, fmt.Errorf("target has no data source %s", name)
		}
	}
	limit := dst.FirstKnown()
	var st Stats
	for _, res := range []int64{60, 3600} {
		written := map[int64]bool{}
		for r := range dst.RRAs {
			if dst.RowStep(r) != res {
				continue
			}
			lo, hi := dst.Span(r)
			for t := lo; t <= min(hi, limit); t += res {
				if !dst.RowUnknown(r, t) {
					continue
				}
				v, ok := legacyRow(src, t, res)
				if !ok {
					continue
				}
				for i, x := range mapRow(v) {
					dst.Set(r, t, idx[i], x)
				}
				written[t] = true
			}
		}
		if res == 60 {
			st.Minutes = len(written)
		} else {
			st.Hours = len(written)
		}
	}
	return st, nil
}

// legacyRow is the legacy values (DataSources order) of the interval of
// res seconds ending at t, from the finest archive that reaches it; ok is
// false when none does or all values are unknown.
func legacyRow(src *rrdraw.File, t, res int64) (v [5]float64, ok bool) {
	best := -1
	for r := range src.RRAs {
		s := src.RowStep(r)
		if s < res && res != 60 || s > res && res == 3600 {
			continue // an hour only from hourly rows
		}
		end := (t + s - 1) / s * s // the row holding the interval
		if lo, hi := src.Span(r); end < lo || end > hi {
			continue
		}
		if best < 0 || s < src.RowStep(best) {
			best = r
		}
	}
	if best < 0 {
		return v, false
	}
	s := src.RowStep(best)
	end := (t + s - 1) / s * s
	known := false
	for i := range v {
		v[i], _ = src.Get(best, end, i)
		known = known || !math.IsNaN(v[i])
	}
	return v, known
}

// mapRow turns legacy rpm epm bl spr start into store.DataSources values.
func mapRow(v [5]float64) [7]float64 {
	rpm, epm, bl, spr, start := v[0], v[1], v[2], v[3], v[4]
	nan := math.NaN()
	appN, appSum := nan, nan
	if !math.IsNaN(rpm) {
		appN, appSum = 0, 0
		if !math.IsNaN(spr) && spr > 0 {
			appN, appSum = rpm/60, rpm/spr
		}
	}
	// requests errors app_sum app_n waiting busy starts
	return [7]float64{rpm / 60, epm / 60, appSum, appN, bl, nan, start / 60}
}
