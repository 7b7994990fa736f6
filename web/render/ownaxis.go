package render

import (
	"math"
	"strconv"
)

// Lines marked Own (a backlog beside rates, busy % beside milliseconds)
// get an axis of their own on the right. librrd has one scale per image
// and a right axis that is a linear transform of the left, so the worker
// multiplies each own line by OwnScale, a 1-2-5 factor chosen from the
// drawn data (ScaleFrom), and labels the right axis with left ÷ OwnScale:
// the own line fills the chart and the right axis reads in its own units.
// Where the left axis goes below zero (headroom), the own line's zero is
// put at the left's minimum, OwnShift, so it fills the chart from there.
// Legends' last / mean / max stay the line's true values.

// Bounds of OwnScale.
const (
	minOwnScale = 1e-9
	maxOwnScale = 1e9
)

// ownAxis reports whether g has lines on an axis of their own that are
// drawn scaled: not on a log axis, where a factor is only a shift.
func (g *Graph) ownAxis() bool {
	if g.Log {
		return false
	}
	for _, d := range g.Draws {
		if d.Own {
			return true
		}
	}
	return false
}

// scaled reports whether own lines are drawn scaled by OwnScale.
func (g *Graph) scaled() bool { return g.OwnScale > 0 && g.ownAxis() }

// drawName is the series drawn for the i-th line: its own, or for an own
// line of a scaled graph the CDEF zs<i> (a prefix no other name uses).
func (g *Graph) drawName(i int) string {
	if g.scaled() && g.Draws[i].Own {
		return "zs" + strconv.Itoa(i)
	}
	return g.Draws[i].Name
}

// scaleElements are the CDEFs of the scaled own lines.
func (g *Graph) scaleElements() []string {
	if !g.scaled() {
		return nil
	}
	f := strconv.FormatFloat(g.OwnScale, 'g', -1, 64)
	var out []string
	for i, d := range g.Draws {
		if d.Own {
			rpn := d.Name + "," + f + ",*"
			if g.OwnShift != 0 {
				rpn += "," + strconv.FormatFloat(g.OwnShift, 'g', -1, 64) + ",+"
			}
			out = append(out, "CDEF:"+g.drawName(i)+"="+rpn)
		}
	}
	return out
}

// rightAxisOptions are the right axis: in own units when scaled, else a
// mirror of the left when asked for.
func (g *Graph) rightAxisOptions() []string {
	if g.scaled() {
		// %g: the own units' ticks are often fractions (0.5 waiting).
		o := []string{"--right-axis", strconv.FormatFloat(1/g.OwnScale, 'g', 12, 64) + ":" +
			strconv.FormatFloat(0-g.OwnShift/g.OwnScale, 'g', 12, 64),
			"--right-axis-format", "%.4lg"}
		if g.OwnLabel != "" {
			o = append(o, "--right-axis-label", g.OwnLabel)
		}
		return o
	}
	if g.RightAxis {
		return []string{"--right-axis", "1:0"}
	}
	return nil
}

// ScaleFrom chooses OwnScale and OwnShift from x, an export of g's draws
// (in order): NiceScale of the span drawn on the left (from its minimum
// or zero, to its maximum or the upper limit if rigid; ticks excluded)
// and the largest own value.
func (g *Graph) ScaleFrom(x *Xport) (scale, shift float64) {
	left, low, own := math.Inf(-1), 0.0, math.Inf(-1)
	if len(x.Legends) == len(g.Draws) {
		for r := range x.Rows {
			for j, v := range x.Row(r) {
				switch d := g.Draws[j]; {
				case math.IsNaN(v) || math.IsInf(v, 0) || d.Type == "TICK":
				case d.Own:
					own = max(own, v)
				default:
					left, low = max(left, v), min(low, v)
				}
			}
		}
	}
	if g.Upper != nil {
		left = *g.Upper
	}
	if g.Lower != nil {
		low = *g.Lower
	}
	if low < -1e15 || !(left > low) {
		low = 0
	}
	if low < 0 && g.Lower == nil {
		// Round down to a multiple of the 1, 2 or 5 × 10^k at or above a
		// tenth of the span, likely the left grid's step, so the right
		// axis' labels are round.
		t := (left - low) / 10
		p := math.Pow(10, math.Floor(math.Log10(t)))
		for _, m := range []float64{1, 2, 5, 10} {
			if m*p >= t {
				p *= m
				break
			}
		}
		low = math.Floor(low/p) * p
	}
	return NiceScale(left-low, own), low
}

// NiceScale is the largest 1, 2 or 5 × 10^k with own × factor ≤ left, so
// an own line peaks between 40 and 100 % of the left axis' largest value;
// 1 when either maximum is not positive.
func NiceScale(left, own float64) float64 {
	if !(left > 0) || !(own > 0) || math.IsInf(left, 0) || math.IsInf(own, 0) {
		return 1
	}
	r := left / own
	p := math.Pow(10, math.Floor(math.Log10(r)))
	f := p
	for _, m := range []float64{5, 2} {
		if m*p <= r*(1+1e-12) {
			f = m * p
			break
		}
	}
	// Round away the noise of Pow (0.30000000000000004 × 10).
	f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return min(max(f, minOwnScale), maxOwnScale)
}
