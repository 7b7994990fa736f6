package graphite

import (
	"math"
	"strconv"
)

// Functions that change each series' values point by point.

func seriesParam() Param { return Param{Name: "seriesList", Type: "seriesList", Required: true} }

func init() {
	num := func(name string, req bool) Param { return Param{Name: name, Type: "float", Required: req} }
	register(
		&Func{Name: "scale", Group: "Transform", Params: []Param{seriesParam(), num("factor", true)}, Fn: scale,
			Description: "Multiplies every value by factor."},
		&Func{Name: "offset", Group: "Transform", Params: []Param{seriesParam(), num("factor", true)}, Fn: offset,
			Description: "Adds factor to every value."},
		&Func{Name: "absolute", Group: "Transform", Params: []Param{seriesParam()}, Fn: absolute,
			Description: "Absolute value of every value."},
		&Func{Name: "perSecond", Group: "Transform", Params: []Param{seriesParam(), num("maxValue", false), num("minValue", false)},
			Fn: deltaFn("perSecond", true), Description: "Per-second rate of a counter (non-negative deltas divided by the step)."},
		&Func{Name: "nonNegativeDerivative", Group: "Transform", Params: []Param{seriesParam(), num("maxValue", false), num("minValue", false)},
			Fn: deltaFn("nonNegativeDerivative", false), Description: "Difference to the previous value; a counter that wraps or resets gives None."},
		&Func{Name: "derivative", Group: "Transform", Params: []Param{seriesParam()}, Fn: derivative,
			Description: "Difference to the previous value."},
		&Func{Name: "integral", Group: "Transform", Params: []Param{seriesParam()}, Fn: integral,
			Description: "Running sum of the values (None stays None)."},
		&Func{Name: "keepLastValue", Group: "Transform", Params: []Param{seriesParam(), {Name: "limit", Type: "intOrInf", Default: "INF"}},
			Fn: keepLastValue, Description: "Fills runs of at most limit None values with the value before them."},
		&Func{Name: "transformNull", Group: "Transform", Fn: transformNull,
			Params:      []Param{seriesParam(), {Name: "default", Type: "float", Default: 0}, {Name: "referenceSeries", Type: "seriesList"}},
			Description: "Replaces None by default (only where a reference series has a value, if given)."},
		&Func{Name: "removeBelowValue", Group: "Filter Data", Params: []Param{seriesParam(), num("n", true)}, Fn: removeValue(false),
			Description: "None for values below n."},
		&Func{Name: "removeAboveValue", Group: "Filter Data", Params: []Param{seriesParam(), num("n", true)}, Fn: removeValue(true),
			Description: "None for values above n."},
	)
}

// mapValues applies fn to each value of each series, naming the result
// name(series) and, like graphite-web's in-place functions, making the
// new name the path expression.
func mapValues(list []*Series, name func(s *Series) string, fn func(v float64) float64) []*Series {
	out := make([]*Series, len(list))
	for i, s := range list {
		v := make([]float64, len(s.Values))
		for j, x := range s.Values {
			v[j] = fn(x)
		}
		n := name(s)
		out[i] = s.copyWith(n, v)
		out[i].PathExpr = n
	}
	return out
}

func scale(c *call) ([]*Series, error) {
	list, f, err := c.seriesNum()
	if err != nil {
		return nil, err
	}
	return mapValues(list, func(s *Series) string { return "scale(" + s.Name + "," + pyG(f) + ")" },
		func(v float64) float64 { return v * f }), nil
}

func offset(c *call) ([]*Series, error) {
	list, f, err := c.seriesNum()
	if err != nil {
		return nil, err
	}
	return mapValues(list, func(s *Series) string { return "offset(" + s.Name + "," + pyG(f) + ")" },
		func(v float64) float64 { return v + f }), nil
}

func absolute(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	return mapValues(list, func(s *Series) string { return "absolute(" + s.Name + ")" }, math.Abs), nil
}

func removeValue(above bool) func(c *call) ([]*Series, error) {
	return func(c *call) ([]*Series, error) {
		list, n, err := c.seriesNum()
		if err != nil {
			return nil, err
		}
		fname := "removeBelowValue("
		if above {
			fname = "removeAboveValue("
		}
		return mapValues(list, func(s *Series) string { return fname + s.Name + ", " + pyG(n) + ")" },
			func(v float64) float64 {
				if above && v > n || !above && v < n {
					return nan()
				}
				return v
			}), nil
	}
}

// derivedCopy is series.copy(name=…, values=…): the new name is also the
// path expression.
func derivedCopy(s *Series, name string, v []float64) *Series {
	n := s.copyWith(name, v)
	n.PathExpr = name
	return n
}

func derivative(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	out := make([]*Series, len(list))
	for i, s := range list {
		v := make([]float64, len(s.Values))
		prev := nan()
		for j, x := range s.Values {
			v[j] = x - prev // NaN when either is None
			prev = x
		}
		out[i] = derivedCopy(s, "derivative("+s.Name+")", v)
	}
	return out, nil
}

func integral(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	out := make([]*Series, len(list))
	for i, s := range list {
		v := make([]float64, len(s.Values))
		cur := 0.0
		for j, x := range s.Values {
			if none(x) {
				v[j] = nan()
				continue
			}
			cur += x
			v[j] = cur
		}
		out[i] = derivedCopy(s, "integral("+s.Name+")", v)
	}
	return out, nil
}

// nonNegativeDelta is graphite-web's _nonNegativeDelta.
func nonNegativeDelta(val, prev float64, maxV, minV *float64) (delta, next float64) {
	if maxV != nil && val > *maxV || minV != nil && val < *minV {
		return nan(), nan()
	}
	if none(prev) || none(val) {
		return nan(), val
	}
	if val >= prev {
		return val - prev, val
	}
	if maxV != nil {
		m := 0.0
		if minV != nil {
			m = *minV
		}
		return *maxV + 1 + val - prev - m, val
	}
	if minV != nil {
		return val - *minV, val
	}
	return nan(), val
}

func deltaFn(name string, perSecond bool) func(c *call) ([]*Series, error) {
	return func(c *call) ([]*Series, error) {
		list, err := c.series(0)
		if err != nil {
			return nil, err
		}
		var lim [2]*float64
		for k := range lim {
			if c.has(1 + k) {
				v, err := c.number(1+k, 0)
				if err != nil {
					return nil, err
				}
				lim[k] = &v
			}
		}
		out := make([]*Series, len(list))
		for i, s := range list {
			v := make([]float64, len(s.Values))
			prev := nan()
			for j, x := range s.Values {
				var d float64
				d, prev = nonNegativeDelta(x, prev, lim[0], lim[1])
				if perSecond && !none(d) {
					d = pyRound6(d / float64(s.Step))
				}
				v[j] = d
			}
			out[i] = derivedCopy(s, name+"("+s.Name+")", v)
		}
		return out, nil
	}
}

// pyRound6 is Python's round(x, 6), correctly rounded through the
// shortest decimal representation.
func pyRound6(x float64) float64 {
	if math.IsInf(x, 0) || none(x) {
		return x
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 6, 64), 64)
	if err != nil {
		return x
	}
	return r
}

func keepLastValue(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	limit := math.Inf(1)
	if c.has(1) {
		n, err := c.integer(1, 0)
		if err != nil {
			return nil, err
		}
		limit = float64(n)
	}
	out := make([]*Series, len(list))
	for i, s := range list {
		v := append([]float64(nil), s.Values...)
		run, last := 0, nan()
		for j, x := range v {
			if none(x) {
				run++
				continue
			}
			if run > 0 && float64(run) <= limit && !none(last) {
				for k := j - run; k < j; k++ {
					v[k] = last
				}
			}
			run, last = 0, x
		}
		if run > 0 && float64(run) <= limit && !none(last) {
			for k := len(v) - run; k < len(v); k++ {
				v[k] = last
			}
		}
		name := "keepLastValue(" + s.Name + ")"
		out[i] = s.copyWith(name, v)
		out[i].PathExpr = name
	}
	return out, nil
}

func transformNull(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	def, err := c.number(1, 0)
	if err != nil {
		return nil, err
	}
	ref, err := c.series(2)
	if err != nil {
		return nil, err
	}
	var defaults []float64
	if len(ref) > 0 {
		vals := make([][]float64, len(ref))
		for i, r := range ref {
			vals[i] = r.Values
		}
		defaults = zipRows(vals, func(row []float64) float64 {
			if countNone(row) < len(row) {
				return def
			}
			return nan()
		})
	}
	out := make([]*Series, len(list))
	for i, s := range list {
		name := "transformNull(" + s.Name + "," + pyG(def) + ")"
		if len(ref) > 0 {
			name = "transformNull(" + s.Name + "," + pyG(def) + ",referenceSeries)"
		}
		var v []float64
		if defaults != nil {
			v = zipRows([][]float64{s.Values, defaults}, func(r []float64) float64 {
				if none(r[0]) {
					return r[1]
				}
				return r[0]
			})
		} else {
			v = make([]float64, len(s.Values))
			for j, x := range s.Values {
				if none(x) {
					x = def
				}
				v[j] = x
			}
		}
		out[i] = s.copyWith(name, v)
		out[i].PathExpr = name
	}
	return out, nil
}
