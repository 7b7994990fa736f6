package graphite

import (
	"strings"
	"time"
)

// Functions that change a series' time range or consolidation, or make
// one from nothing.

func init() {
	register(
		&Func{Name: "timeShift", Group: "Transform", Fn: timeShift,
			Params: []Param{seriesParam(), {Name: "timeShift", Type: "interval", Required: true},
				{Name: "resetEnd", Type: "boolean", Default: true}, {Name: "alignDst", Type: "boolean", Default: false}},
			Description: "The series as it was timeShift ago ('1d', '-7d'), drawn over the requested range."},
		&Func{Name: "consolidateBy", Group: "Special", Fn: consolidateBy,
			Params: []Param{seriesParam(), {Name: "consolidationFunc", Type: "string", Required: true,
				Options: []string{"sum", "average", "avg", "avg_zero", "min", "max", "first", "last"}}},
			Description: "How points are consolidated when maxDataPoints asks for fewer: average (default), sum, min, max, first, last."},
		&Func{Name: "constantLine", Group: "Special", Fn: constantLine,
			Params:      []Param{{Name: "value", Type: "float", Required: true}},
			Description: "A horizontal line at value over the requested range."},
	)
}

func timeShift(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	text, err := c.str(1, "")
	if err != nil {
		return nil, err
	}
	if text != "" && text[0] >= '0' && text[0] <= '9' {
		text = "-" + text
	}
	d, err := ParseOffset(strings.ToLower(text))
	if err != nil || text == "" {
		return nil, c.badType(1, "interval")
	}
	resetEnd, err := c.boolean(2, true)
	if err != nil {
		return nil, err
	}
	alignDST, err := c.boolean(3, false)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	delta := int64(d / time.Second)
	from, until := c.ec.from+delta, c.ec.until+delta
	if alignDST {
		dst := func(t int64) bool { return time.Unix(t, 0).In(c.ec.req.Loc).IsDST() }
		rs, re, ms, me := dst(c.ec.from), dst(c.ec.until), dst(from), dst(until)
		switch {
		case rs && re && !ms && !me:
			from, until = from+3600, until+3600
		case !rs && !re && ms && me:
			from, until = from-3600, until-3600
		}
	}
	shifted, err := c.ec.with(from, until).eval(c.args[0])
	if err != nil {
		return nil, err
	}
	first := list[0]
	out := make([]*Series, 0, len(shifted))
	for _, s := range shifted {
		n := *s
		n.Name = `timeShift(` + s.Name + `, "` + text + `")`
		if resetEnd {
			n.End = first.End
		} else {
			n.End = s.End - s.Start + first.Start
		}
		n.Start = first.Start
		out = append(out, &n)
	}
	return out, nil
}

func consolidateBy(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	fn, err := c.str(1, "")
	if err != nil {
		return nil, err
	}
	out := make([]*Series, len(list))
	for i, s := range list {
		n := *s
		n.Consolidate = fn
		n.Name = `consolidateBy(` + s.Name + `,"` + fn + `")`
		n.PathExpr = n.Name
		out[i] = &n
	}
	return out, nil
}

func constantLine(c *call) ([]*Series, error) {
	v, err := c.number(0, 0)
	if err != nil {
		return nil, err
	}
	start, end := c.ec.from, c.ec.until
	step := int64(float64(end-start) / 2.0)
	if step <= 0 {
		return nil, inputErr("constantLine needs a time range of at least 2 seconds")
	}
	name := pyFloat(v)
	return []*Series{{Name: name, PathExpr: "constantLine(" + name + ")", Start: start, End: end, Step: step,
		Values: []float64{v, v, v}, Consolidate: "average", XFilesFactor: c.ec.req.XFilesFactor,
		Tags: map[string]string{"name": name}}}, nil
}
