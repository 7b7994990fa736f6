package graphite

import (
	"math"
	"slices"
	"strconv"
)

// none is Graphite's None: every NaN is a missing value.
func none(v float64) bool { return math.IsNaN(v) }

func known(row []float64) []float64 {
	out := make([]float64, 0, len(row))
	for _, v := range row {
		if !none(v) {
			out = append(out, v)
		}
	}
	return out
}

// aggFuncs are graphite-web's aggregation functions (aggfuncs.py) over a
// row that may hold None.
var aggFuncs = map[string]func(row []float64) float64{
	"average": func(r []float64) float64 {
		t, n := 0.0, 0
		for _, v := range r {
			if !none(v) {
				t += v
				n++
			}
		}
		if n == 0 {
			return nan()
		}
		return t / float64(n)
	},
	"avg_zero": func(r []float64) float64 {
		if len(r) == 0 {
			return nan()
		}
		t := 0.0
		for _, v := range r {
			if !none(v) {
				t += v
			}
		}
		return t / float64(len(r))
	},
	"median": func(r []float64) float64 {
		k := known(r)
		if len(k) == 0 {
			return nan()
		}
		slices.Sort(k)
		m := len(k) / 2
		if len(k)%2 == 0 {
			return (k[m-1] + k[m]) / 2
		}
		return k[m]
	},
	"sum": func(r []float64) float64 {
		t, n := 0.0, 0
		for _, v := range r {
			if !none(v) {
				t += v
				n++
			}
		}
		if n == 0 {
			return nan()
		}
		return t
	},
	"min": extreme(func(a, b float64) bool { return a < b }),
	"max": extreme(func(a, b float64) bool { return a > b }),
	"diff": func(r []float64) float64 {
		k := known(r)
		if len(k) == 0 {
			return nan()
		}
		t := k[0]
		for _, v := range k[1:] {
			t += -v
		}
		return t
	},
	"stddev": func(r []float64) float64 {
		k := known(r)
		if len(k) == 0 {
			return nan()
		}
		avg := sum(k) / float64(len(k))
		t := 0.0
		for _, v := range k {
			t += (v - avg) * (v - avg)
		}
		return math.Sqrt(t / float64(len(k)))
	},
	"count": func(r []float64) float64 { return float64(len(known(r))) },
	"range": func(r []float64) float64 {
		k := known(r)
		if len(k) == 0 {
			return nan()
		}
		return slices.Max(k) - slices.Min(k)
	},
	"multiply": func(r []float64) float64 {
		if len(r) == 0 {
			return nan()
		}
		p := r[0]
		for _, v := range r[1:] {
			p *= v
		}
		return p // NaN when any is None
	},
	"last": func(r []float64) float64 {
		for i := len(r) - 1; i >= 0; i-- {
			if !none(r[i]) {
				return r[i]
			}
		}
		return nan()
	},
}

// extreme is min or max of the known values (the first of equals, as
// Python's min and max).
func extreme(better func(a, b float64) bool) func(r []float64) float64 {
	return func(r []float64) float64 {
		best := nan()
		for _, v := range r {
			if !none(v) && (none(best) || better(v, best)) {
				best = v
			}
		}
		return best
	}
}

var aggAliases = map[string]string{"rangeOf": "range", "avg": "average", "total": "sum", "current": "last"}

var aggOptions = []string{"average", "avg", "avg_zero", "median", "sum", "total", "min", "max", "diff",
	"stddev", "count", "range", "rangeOf", "multiply", "last", "current"}

func getAggFunc(name string) (func([]float64) float64, error) {
	if a, ok := aggAliases[name]; ok {
		name = a
	}
	if f, ok := aggFuncs[name]; ok {
		return f, nil
	}
	return nil, inputErr("Unsupported aggregation function: %s", name)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 {
	if a == b {
		return a
	}
	return a / gcd(a, b) * b
}

// normalize brings series to a common step (the lcm), consolidating each
// with its own function, as graphite-web's normalize does; it returns the
// values, start, end and step. ok is false for an empty list.
func normalize(list []*Series) (vals [][]float64, start, end, step int64, ok bool) {
	if len(list) == 0 {
		return nil, 0, 0, 0, false
	}
	step = list[0].Step
	start, end = list[0].Start, list[0].End
	for _, s := range list {
		step = lcm(step, s.Step)
		start, end = min(start, s.Start), max(end, s.End)
	}
	end -= (end - start) % step
	vals = make([][]float64, len(list))
	for i, s := range list {
		c := *s
		c.valuesPerPoint = int(step / s.Step)
		v, err := c.consolidated()
		if err != nil {
			v = s.Values
		}
		vals[i] = v
	}
	return vals, start, end, step, true
}

// zipRows calls fn with each row of izip_longest(*vals): missing values
// are None.
func zipRows(vals [][]float64, fn func(row []float64) float64) []float64 {
	n := 0
	for _, v := range vals {
		n = max(n, len(v))
	}
	out := make([]float64, n)
	row := make([]float64, len(vals))
	for i := range out {
		for j, v := range vals {
			if i < len(v) {
				row[j] = v[i]
			} else {
				row[j] = nan()
			}
		}
		out[i] = fn(row)
	}
	return out
}

// xffOK is graphite-web's xff: some value known, and enough of them.
func xffOK(nonNull, total int, xFilesFactor float64) bool {
	if nonNull == 0 || total == 0 {
		return false
	}
	return float64(nonNull)/float64(total) >= xFilesFactor
}

// aggregateList is graphite-web's aggregate(): one series named
// "<func>Series(<path expressions>)".
func aggregateList(list []*Series, fn string, xFilesFactor float64) ([]*Series, error) {
	agg, err := getAggFunc(fn)
	if err != nil {
		return nil, err
	}
	vals, start, end, step, ok := normalize(list)
	if !ok {
		return nil, nil
	}
	name := fn + "Series(" + pathExprs(list) + ")"
	out := zipRows(vals, func(row []float64) float64 {
		if !xffOK(len(row)-countNone(row), len(row), xFilesFactor) {
			return nan()
		}
		return agg(row)
	})
	tags := map[string]string{}
	for k, v := range list[0].Tags {
		same := true
		for _, s := range list[1:] {
			if s.Tags[k] != v {
				same = false
			}
		}
		if same {
			tags[k] = v
		}
	}
	if _, ok := tags["name"]; !ok {
		tags["name"] = name
	}
	tags["aggregatedBy"] = fn
	return []*Series{{Name: name, PathExpr: name, Start: start, End: end, Step: step, Values: out,
		Consolidate: "average", XFilesFactor: xFilesFactor, Tags: tags}}, nil
}

func countNone(row []float64) int {
	n := 0
	for _, v := range row {
		if none(v) {
			n++
		}
	}
	return n
}

// pyG formats like Python's "%g".
func pyG(v float64) string {
	if s, ok := pySpecial(v); ok {
		return s
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// pySpecial is how Python writes NaN and the infinities.
func pySpecial(v float64) (string, bool) {
	switch {
	case math.IsNaN(v):
		return "nan", true
	case math.IsInf(v, 1):
		return "inf", true
	case math.IsInf(v, -1):
		return "-inf", true
	}
	return "", false
}
