package graphite

import (
	"fmt"
	"math"
	"slices"
)

// Series is graphite-web's TimeSeries: Values[i] is the point at
// Start + i·Step; NaN is None.
type Series struct {
	Name         string
	PathExpr     string // the path expression that fetched it, for names of functions over it
	Start, End   int64
	Step         int64
	Values       []float64
	Consolidate  string // consolidateBy: average, sum, min, max, first, last, avg_zero
	XFilesFactor float64
	Tags         map[string]string

	valuesPerPoint int // set by maxDataPoints consolidation
}

// copyWith returns a series like s with another name and values.
func (s *Series) copyWith(name string, vals []float64) *Series {
	c := *s
	c.Name = name
	c.Values = vals
	c.Tags = map[string]string{"name": name}
	if s.Tags != nil && name == s.Name {
		c.Tags = s.Tags
	}
	return &c
}

func nan() float64 { return math.NaN() }

// consolidators are graphite-web's TimeSeries consolidation functions.
var consolidators = map[string]func(usable []float64) float64{
	"sum":      sum,
	"average":  func(u []float64) float64 { return sum(u) / float64(len(u)) },
	"avg":      func(u []float64) float64 { return sum(u) / float64(len(u)) },
	"avg_zero": func(u []float64) float64 { return sum(u) / float64(len(u)) },
	"max":      func(u []float64) float64 { return slices.Max(u) },
	"min":      func(u []float64) float64 { return slices.Min(u) },
	"first":    func(u []float64) float64 { return u[0] },
	"last":     func(u []float64) float64 { return u[len(u)-1] },
}

// sum adds left to right, as Python's sum does, so results agree to the
// last bit.
func sum(u []float64) float64 {
	t := 0.0
	for _, v := range u {
		t += v
	}
	return t
}

// consolidated returns the values as graphite-web iterates them after
// consolidate(valuesPerPoint): every group of points becomes one, None
// when fewer than xFilesFactor of them are known.
func (s *Series) consolidated() ([]float64, error) {
	vpp := s.valuesPerPoint
	if vpp <= 1 {
		return s.Values, nil
	}
	cf, ok := consolidators[s.Consolidate]
	if !ok {
		return nil, fmt.Errorf("invalid consolidation function: %q", s.Consolidate)
	}
	out := make([]float64, 0, len(s.Values)/vpp+1)
	buf := make([]float64, 0, vpp)
	for i := 0; i < len(s.Values); i += vpp {
		buf = buf[:0]
		group := s.Values[i:min(i+vpp, len(s.Values))]
		known := 0
		for _, v := range group {
			if !math.IsNaN(v) {
				buf = append(buf, v)
				known++
			} else if s.Consolidate == "avg_zero" {
				buf = append(buf, 0)
			}
		}
		if known > 0 && float64(known)/float64(vpp) >= s.XFilesFactor {
			out = append(out, cf(buf))
		} else {
			out = append(out, nan())
		}
	}
	return out, nil
}

// Point is one datapoint of the output.
type Point struct {
	V float64
	T int64
}

// datapoints zips the (consolidated) values with their times, as
// TimeSeries.datapoints does: times run from Start to End inclusive in
// steps of Step·valuesPerPoint, and the shorter of the two lists wins.
func (s *Series) datapoints() ([]Point, error) {
	vals, err := s.consolidated()
	if err != nil {
		return nil, err
	}
	step := s.Step * int64(max(s.valuesPerPoint, 1))
	if step <= 0 {
		return nil, fmt.Errorf("series %q has step %d", s.Name, s.Step)
	}
	n := min(int64(len(vals)), (s.End-s.Start)/step+1)
	n = max(n, 0)
	out := make([]Point, n)
	for i := range out {
		out[i] = Point{V: vals[i], T: s.Start + int64(i)*step}
	}
	return out, nil
}

// applyMaxDataPoints consolidates as renderViewJson does, including its
// start "nudge" (which drops one point fewer than it shifts).
func applyMaxDataPoints(list []*Series, maxDataPoints int) {
	if len(list) == 0 || maxDataPoints <= 0 {
		return
	}
	start, end := list[0].Start, list[0].End
	for _, s := range list {
		start, end = min(start, s.Start), max(end, s.End)
	}
	timeRange := end - start
	for _, s := range list {
		if s.Step <= 0 {
			continue
		}
		if maxDataPoints == 1 {
			s.valuesPerPoint = max(len(s.Values), 1)
			continue
		}
		// Python 3 division: numberOfDataPoints is a float.
		points := float64(timeRange) / float64(s.Step)
		if float64(maxDataPoints) >= points {
			continue
		}
		vpp := int64(math.Ceil(points / float64(maxDataPoints)))
		spp := vpp * s.Step
		nudge := spp + pymod(s.Start, s.Step) - pymod(s.Start, spp)
		s.Start += nudge
		lose := int(nudge / s.Step)
		if drop := lose - 1; drop > 0 {
			s.Values = s.Values[min(drop, len(s.Values)):]
		}
		s.valuesPerPoint = int(vpp)
	}
}

// pymod is Python's %, whose result has the divisor's sign.
func pymod(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}
