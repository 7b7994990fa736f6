package graphite

import (
	"math"
	"strconv"
	"time"
)

// Functions over windows of time.

func init() {
	register(
		&Func{Name: "movingAverage", Group: "Calculate", Fn: movingAverage,
			Params: []Param{seriesParam(), {Name: "windowSize", Type: "intOrInterval", Required: true},
				{Name: "xFilesFactor", Type: "float"}},
			Description: "Average of the preceding windowSize points (a number, or a time such as '5min')."},
		&Func{Name: "summarize", Group: "Transform", Fn: summarize,
			Params: []Param{seriesParam(), {Name: "intervalString", Type: "interval", Required: true},
				{Name: "func", Type: "aggFunc", Default: "sum", Options: aggOptions}, {Name: "alignToFrom", Type: "boolean", Default: false}},
			Description: "Aggregates the points of each interval (sum by default) into one."},
		&Func{Name: "hitcount", Group: "Transform", Fn: hitcount,
			Params: []Param{seriesParam(), {Name: "intervalString", Type: "interval", Required: true},
				{Name: "alignToInterval", Type: "boolean", Default: false}},
			Description: "Treats values as hits per second and counts the hits of each interval."},
	)
}

func movingAverage(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	xffSet := c.has(2)
	xff, err := c.number(2, 0)
	if err != nil {
		return nil, err
	}
	var preview int64
	var windowText string
	byTime := c.has(1) && c.args[1].Kind == KindString
	window := 0
	if byTime {
		d, s, err := c.interval(1, "")
		if err != nil {
			return nil, err
		}
		preview, windowText = abs64(d), `"`+s+`"`
	} else {
		if window, err = c.integer(1, 0); err != nil {
			return nil, c.badType(1, "intOrInterval")
		}
		if window < 0 || window > 1_000_000 {
			return nil, c.badType(1, "intOrInterval")
		}
		var step int64
		for _, s := range list {
			step = max(step, s.Step)
		}
		preview, windowText = step*int64(window), strconv.Itoa(window)
	}
	again, err := c.ec.with(c.ec.from-preview, c.ec.until).eval(c.args[0])
	if err != nil {
		return nil, err
	}
	avg := aggFuncs["average"]
	out := make([]*Series, 0, len(again))
	for _, s := range again {
		w := window
		if byTime {
			w = int(preview / s.Step)
		}
		eff := s.XFilesFactor
		if xffSet {
			eff = xff
		}
		var v []float64
		for i := w; i < len(s.Values); i++ {
			win := s.Values[i-w : i]
			nn := len(win) - countNone(win)
			if nn > 0 && xffOK(nn, w, eff) {
				v = append(v, avg(win))
			} else {
				v = append(v, nan())
			}
		}
		n := derivedCopy(s, "movingAverage("+s.Name+","+windowText+")", v)
		n.Start = s.Start + preview
		out = append(out, n)
	}
	return out, nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func summarize(c *call) ([]*Series, error) {
	list, interval, text, err := c.seriesInterval()
	if err != nil {
		return nil, err
	}
	fn, err := c.str(2, "sum")
	if err != nil {
		return nil, err
	}
	agg, err := getAggFunc(fn)
	if err != nil {
		return nil, err
	}
	alignToFrom, err := c.boolean(3, false)
	if err != nil {
		return nil, err
	}
	out := make([]*Series, 0, len(list))
	for _, s := range list {
		start, end := s.Start, s.End
		if !alignToFrom {
			start = s.Start - pymod(s.Start, interval)
			end = s.End - pymod(s.End, interval) + interval
		}
		if (end-start)/interval > 10_000_000 {
			return nil, inputErr("summarize interval %q makes too many points", text)
		}
		vals, alignedEnd := summarizeValues(s, agg, interval, start, end)
		if alignToFrom {
			end = alignedEnd
		}
		suffix := ""
		if alignToFrom {
			suffix = ", true"
		}
		n := derivedCopy(s, `summarize(`+s.Name+`, "`+text+`", "`+fn+`"`+suffix+`)`, vals)
		n.Start, n.End, n.Step = start, end, interval
		out = append(out, n)
	}
	return out, nil
}

// summarizeValues is graphite-web's _summarizeValues, including which
// points a bucket takes (from the last one at or before its start).
func summarizeValues(s *Series, agg func([]float64) float64, interval, start, end int64) ([]float64, int64) {
	var ts []int64
	for t := s.Start; t < s.End; t += s.Step {
		ts = append(ts, t)
	}
	n := min(len(ts), len(s.Values))
	intervalPoints := float64(interval) / float64(s.Step)
	var out []float64
	i := 0
	t := start
	for ; t < end; t += interval {
		from, nonNull := i, 0
		for i < n && ts[i] < t+interval {
			if ts[i] <= t {
				from = i
			}
			if ts[i] >= t && !none(s.Values[i]) {
				nonNull++
			}
			i++
		}
		if nonNull > 0 && intervalPoints != 0 && float64(nonNull)/intervalPoints >= s.XFilesFactor {
			out = append(out, agg(s.Values[from:i]))
		} else {
			out = append(out, nan())
		}
	}
	return out, t
}

func hitcount(c *call) ([]*Series, error) {
	list, interval, text, err := c.seriesInterval()
	if err != nil {
		return nil, err
	}
	align, err := c.boolean(2, false)
	if err != nil {
		return nil, err
	}
	if align {
		st := time.Unix(c.ec.from, 0).In(c.ec.req.Loc)
		y, m, d := st.Date()
		switch {
		case interval >= 86400:
			st = time.Date(y, m, d, 0, 0, 0, 0, st.Location())
		case interval >= 3600:
			st = time.Date(y, m, d, st.Hour(), 0, 0, 0, st.Location())
		case interval >= 60:
			st = time.Date(y, m, d, st.Hour(), st.Minute(), 0, 0, st.Location())
		}
		if list, err = c.ec.with(st.Unix(), c.ec.until).eval(c.args[0]); err != nil {
			return nil, err
		}
		for i, s := range list {
			cp := *s
			cp.End = s.Start + (s.End-s.Start)/interval*interval + interval
			list[i] = &cp
		}
	}
	out := make([]*Series, 0, len(list))
	for _, s := range list {
		buckets := int64(math.Ceil(float64(s.End-s.Start) / float64(interval)))
		if buckets > 10_000_000 || buckets < 0 {
			return nil, inputErr("hitcount interval %q makes too many points", text)
		}
		sums := make([]float64, buckets)
		has := make([]bool, buckets)
		add := func(b int64, v float64) { sums[b] += v; has[b] = true }
		newStart := s.End - buckets*interval
		for i, v := range s.Values {
			if none(v) {
				continue
			}
			st := s.Start + int64(i)*s.Step
			sb, sm := pydivmod(st-newStart, interval)
			eb, em := pydivmod(st+s.Step-newStart, interval)
			if eb >= buckets {
				eb, em = buckets-1, interval
			}
			if sb == eb {
				if sb >= 0 {
					add(sb, v*float64(em-sm))
				}
				continue
			}
			if sb >= 0 {
				add(sb, v*float64(interval-sm))
			}
			for j := max(sb+1, 0); j < eb; j++ {
				add(j, v*float64(interval))
			}
			if em > 0 {
				add(eb, v*float64(em))
			}
		}
		for b := range sums {
			if !has[b] {
				sums[b] = nan()
			}
		}
		suffix := ""
		if align {
			suffix = ", true"
		}
		n := derivedCopy(s, `hitcount(`+s.Name+`, "`+text+`"`+suffix+`)`, sums)
		n.Start, n.Step = newStart, interval
		out = append(out, n)
	}
	return out, nil
}

func pydivmod(a, b int64) (int64, int64) {
	m := pymod(a, b)
	return (a - m) / b, m
}
