package rpn

import (
	"math"
)

// apply checks operator t at token i against the stack depth (which
// includes the literal arguments already pushed) and returns the depth
// after it. Operators whose arity comes from the stack must get it from
// literal numbers right before them, so the depth is known here and rrd
// never sees a count that would make it read outside its stack (rrdtool
// 1.7.2 crashes on -1,SORT, for one).
func (c *checker) apply(i int, t string, depth int) (int, error) {
	o := ops[t]
	switch o.shape {
	case fixed:
		if depth < o.in {
			return 0, c.fail(i, "stack underflow: %s takes %d values, the stack holds %d", t, o.in, depth)
		}
		return depth - o.in + o.out, nil

	case reduce, inPlace, copyTop, index:
		n, err := c.whole(i, 1, t, "count", 1, MaxDepth)
		if err != nil {
			return 0, err
		}
		if vals := depth - 1; n > vals {
			return 0, c.fail(i, "stack underflow: %d,%s needs %d values below the count, the stack holds %d", n, t, n, vals)
		}
		switch o.shape {
		case reduce:
			return depth - 1 - n + 1, nil
		case inPlace:
			return depth - 1, nil
		case copyTop:
			return depth - 1 + n, nil
		}
		return depth, nil // index: the count is replaced by the value

	case percent:
		n, err := c.whole(i, 1, t, "count", 1, MaxDepth)
		if err != nil {
			return 0, err
		}
		p, err := c.number(i, 2, t, "percentile", 0, 100)
		if err != nil {
			return 0, err
		}
		if vals := depth - 2; n > vals {
			return 0, c.fail(i, "stack underflow: PERCENT of %d values, the stack holds %d below its arguments", n, vals)
		}
		// rrd picks rank round(p×n/100); rank 0 reads the slot below the
		// values, outside the stack when they are all of it.
		if math.Round(p*float64(n)/100) < 1 {
			return 0, c.fail(i, "PERCENT percentile %g of %d values is below the first; use at least %g", p, n, math.Ceil(5000/float64(n))/100)
		}
		return depth - 2 - n + 1, nil

	case trend:
		if i < 2 || c.parsed[i-2].kind != kName {
			return 0, c.fail(i, "%s needs a series name and a window in seconds right before it, e.g. a,3600,%s", t, t)
		}
		if _, err := c.whole(i, 1, t, "window (seconds)", 1, maxTrend); err != nil {
			return 0, err
		}
		return depth - 1, nil

	case predict, predictPc:
		if i < 1 || c.parsed[i-1].kind != kName {
			return 0, c.fail(i, "%s needs a series name right before it, e.g. 86400,-7,1800,a,%s", t, t)
		}
		at, extra := 2, 3 // window at i-2, count at i-3; pops name, window, count
		if o.shape == predictPc {
			if _, err := c.number(i, 2, t, "percentile", -100, 100); err != nil {
				return 0, err
			}
			at, extra = 3, 4
		}
		window, err := c.whole(i, at, t, "window (seconds)", 1, maxPredictWork)
		if err != nil {
			return 0, err
		}
		n, err := c.whole(i, at+1, t, "shift count", -maxShifts, maxShifts)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, c.fail(i, "%s shift count must not be 0", t)
		}
		shifts := n // n shift values below the count, or one multiplier when n < 0
		if n < 0 {
			shifts = 1
		}
		if abs(n)*window > maxPredictWork {
			return 0, c.fail(i, "%s over %d shifts of %d s is too much work; shifts × window must be at most %d s", t, abs(n), window, maxPredictWork)
		}
		if need := shifts + extra; depth < need {
			return 0, c.fail(i, "stack underflow: %s needs %d values, the stack holds %d", t, need, depth)
		}
		return depth - shifts - extra + 1, nil
	}
	return 0, c.fail(i, "unknown operator")
}

// whole returns the literal whole number `back` tokens before operator i,
// which must be in lo..hi.
func (c *checker) whole(i, back int, op, what string, lo, hi int) (int, error) {
	j := i - back
	if j < 0 || c.parsed[j].kind != kNumber || !c.parsed[j].whole {
		return 0, c.fail(i, "%s needs a literal whole-number %s %s", op, what, position(back))
	}
	v := c.parsed[j].num
	if v < float64(lo) || v > float64(hi) {
		return 0, c.fail(i, "%s %s %s must be in %d..%d", op, what, c.parsed[j].out, lo, hi)
	}
	return int(v), nil
}

// number is whole for any literal number.
func (c *checker) number(i, back int, op, what string, lo, hi float64) (float64, error) {
	j := i - back
	if j < 0 || c.parsed[j].kind != kNumber {
		return 0, c.fail(i, "%s needs a literal %s %s", op, what, position(back))
	}
	v := c.parsed[j].num
	if v < lo || v > hi {
		return 0, c.fail(i, "%s %s %s must be in %g..%g", op, what, c.parsed[j].out, lo, hi)
	}
	return v, nil
}

func position(back int) string {
	switch back {
	case 1:
		return "right before it"
	case 2:
		return "two tokens before it"
	case 3:
		return "three tokens before it"
	}
	return "four tokens before it"
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
