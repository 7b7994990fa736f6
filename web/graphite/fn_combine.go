package graphite

import (
	"strings"
)

// Functions that combine several series into fewer.

var seriesListsParam = []Param{{Name: "seriesLists", Type: "seriesList", Required: true, Multiple: true}}

func aggregateFn(fn string) func(c *call) ([]*Series, error) {
	return func(c *call) ([]*Series, error) {
		list, err := c.seriesFrom(0)
		if err != nil {
			return nil, err
		}
		return aggregateList(list, fn, c.ec.req.XFilesFactor)
	}
}

func init() {
	register(
		&Func{Name: "sumSeries", Group: "Combine", Params: seriesListsParam, Fn: aggregateFn("sum"),
			Description: "Adds the series point by point; None where every series is None."},
		&Func{Name: "averageSeries", Group: "Combine", Params: seriesListsParam, Fn: aggregateFn("average"),
			Description: "Average of the known values of the series at each point."},
		&Func{Name: "minSeries", Group: "Combine", Params: seriesListsParam, Fn: aggregateFn("min"),
			Description: "Smallest known value of the series at each point."},
		&Func{Name: "maxSeries", Group: "Combine", Params: seriesListsParam, Fn: aggregateFn("max"),
			Description: "Largest known value of the series at each point."},
		&Func{Name: "diffSeries", Group: "Combine", Params: seriesListsParam, Fn: aggregateFn("diff"),
			Description: "The first series minus the others, point by point (None values are skipped)."},
		&Func{Name: "multiplySeries", Group: "Combine", Params: seriesListsParam, Fn: multiplySeries,
			Description: "Product of the series at each point; None where any is None."},
		&Func{Name: "divideSeries", Group: "Combine", Fn: divideSeries,
			Description: "Divides each series of the first list by the single divisor series; None where it is 0.",
			Params: []Param{{Name: "dividendSeriesList", Type: "seriesList", Required: true},
				{Name: "divisorSeries", Type: "seriesList", Required: true}}},
		&Func{Name: "asPercent", Group: "Combine", Fn: asPercent,
			Description: "Each series as a percentage of a total: their sum, a number, one series, or a list of as many series.",
			Params: []Param{{Name: "seriesList", Type: "seriesList", Required: true}, {Name: "total", Type: "any"},
				{Name: "nodes", Type: "nodeOrTag", Multiple: true}}},
		&Func{Name: "groupByNode", Group: "Combine", Fn: groupByNode,
			Description: "Groups series by one node of their names and aggregates each group (average by default).",
			Params: []Param{{Name: "seriesList", Type: "seriesList", Required: true}, {Name: "nodeNum", Type: "nodeOrTag", Required: true},
				{Name: "callback", Type: "aggOrSeriesFunc", Default: "average"}}},
	)
}

func multiplySeries(c *call) ([]*Series, error) {
	if len(c.args) == 1 {
		list, err := c.series(0)
		if err != nil || len(list) == 1 {
			return list, err // graphite-web returns a single series as it is
		}
		return aggregateList(list, "multiply", c.ec.req.XFilesFactor)
	}
	return aggregateFn("multiply")(c)
}

func divideSeries(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	div, err := c.series(1)
	if err != nil {
		return nil, err
	}
	if len(div) == 0 {
		out := make([]*Series, len(list))
		for i, s := range list {
			name := "divideSeries(" + s.Name + ",MISSING)"
			v := make([]float64, len(s.Values))
			for j := range v {
				v[j] = nan()
			}
			out[i] = s.copyWith(name, v)
			out[i].PathExpr = name
		}
		return out, nil
	}
	if len(div) > 1 {
		return nil, inputErr("divideSeries second argument must reference exactly 1 series (got %d)", len(div))
	}
	out := make([]*Series, 0, len(list))
	for _, s := range list {
		out = append(out, binary(s, div[0], "divideSeries("+s.Name+","+div[0].Name+")", c.ec.req.XFilesFactor, safeDivNone))
	}
	return out, nil
}

// binary normalizes two series and combines them point by point.
func binary(a, b *Series, name string, xff float64, fn func(x, y float64) float64) *Series {
	vals, start, end, step, _ := normalize([]*Series{a, b})
	out := zipRows(vals, func(row []float64) float64 { return fn(row[0], row[1]) })
	return &Series{Name: name, PathExpr: name, Start: start, End: end, Step: step, Values: out,
		Consolidate: "average", XFilesFactor: xff, Tags: map[string]string{"name": name}}
}

// safeDivNone is graphite's safeDiv: None for None or a zero divisor.
func safeDivNone(a, b float64) float64 {
	if none(a) || none(b) || b == 0 {
		return nan()
	}
	return a / b
}

func percent(v, total float64) float64 { return safeDivNone(v, total) * 100.0 }

func asPercent(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	if c.has(2) {
		return nil, inputErr("asPercent with nodes is not supported by graphmetrics")
	}
	xff := c.ec.req.XFilesFactor
	var totals []float64
	var totalText string
	var totalList []*Series
	switch {
	case !c.has(1):
		vals, _, _, _, _ := normalize(list)
		totals = zipRows(vals, aggFuncs["sum"])
		totalText = "sumSeries(" + pathExprs(list) + ")"
	case c.args[1].Kind == KindNumber:
		t := c.args[1].Num
		n := 0
		if len(list) > 0 {
			n = len(list[0].Values)
		}
		totals = make([]float64, n)
		for i := range totals {
			totals[i] = t
		}
		totalText = pyStrNum(c.args[1])
	default:
		if totalList, err = c.series(1); err != nil {
			return nil, err
		}
		if len(totalList) != 1 && len(totalList) != len(list) {
			return nil, inputErr("asPercent second argument must be missing, a single digit, reference exactly 1 series or reference the same number of series as the first argument")
		}
		if len(totalList) == len(list) && len(list) != 1 {
			a, b := sortedByName(list), sortedByName(totalList)
			out := make([]*Series, len(a))
			for i := range a {
				out[i] = binary(a[i], b[i], "asPercent("+a[i].Name+","+b[i].Name+")", xff, percent)
			}
			return out, nil
		}
		totals = totalList[0].Values
		totalText = totalList[0].Name
		if len(totalList) == len(list) { // one and one
			return []*Series{binary(list[0], totalList[0], "asPercent("+list[0].Name+","+totalList[0].Name+")", xff, percent)}, nil
		}
	}
	out := make([]*Series, 0, len(list))
	for _, s := range list {
		v := zipRows([][]float64{s.Values, totals}, func(r []float64) float64 { return percent(r[0], r[1]) })
		name := "asPercent(" + s.Name + "," + totalText + ")"
		n := s.copyWith(name, v)
		n.PathExpr, n.XFilesFactor = name, xff
		out = append(out, n)
	}
	return out, nil
}

func sortedByName(l []*Series) []*Series {
	c := append([]*Series(nil), l...)
	sortSeries(c, func(a, b *Series) int { return strings.Compare(a.Name, b.Name) })
	return c
}

// pyStrNum writes a number argument as Python's str() of it after
// graphite-web's validation (an int stays an int, a float gets ".0").
func pyStrNum(e *Expr) string {
	if e.Kind == KindNumber && !strings.ContainsAny(e.Raw, ".eE") {
		return strings.TrimPrefix(e.Raw, "+")
	}
	return pyFloat(e.Num)
}

func groupByNode(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	n, err := c.integer(1, 0)
	if err != nil {
		return nil, err
	}
	cb, err := c.str(2, "average")
	if err != nil {
		return nil, err
	}
	fn := strings.TrimSuffix(cb, "Series")
	if _, err := getAggFunc(fn); err != nil {
		return nil, err
	}
	var keys []string
	groups := map[string][]*Series{}
	for _, s := range list {
		k := aggKey(s, []int{n})
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	out := make([]*Series, 0, len(keys))
	for _, k := range keys {
		r, err := aggregateList(groups[k], fn, c.ec.req.XFilesFactor)
		if err != nil {
			return nil, err
		}
		r[0].Name = k
		out = append(out, r[0])
	}
	return out, nil
}
