package overview

import (
	"math"
	"strconv"
	"strings"
)

// Spark size in SVG user units (the page scales it with CSS).
const (
	SparkW = 120
	SparkH = 24
)

// SparkPath is an SVG path of vals scaled to SparkW × SparkH from 0 to the
// largest value, with gaps where values are unknown, in whole units so a
// page of a hundred stays small; "" when nothing is known. top is the
// largest value.
func SparkPath(vals []float64) (path string, top float64) {
	vals = thin(vals, SparkW)
	for _, v := range vals {
		if !math.IsNaN(v) {
			top = max(top, v)
		}
	}
	if len(vals) == 0 {
		return "", 0
	}
	scale := 0.0
	if top > 0 {
		scale = float64(SparkH-2) / top
	}
	var b strings.Builder
	pen := false
	for i, v := range vals {
		if math.IsNaN(v) {
			pen = false
			continue
		}
		x := 0
		if len(vals) > 1 {
			x = i * SparkW / (len(vals) - 1)
		}
		y := SparkH - 1 - int(math.Round(v*scale))
		if pen {
			b.WriteByte('L')
		} else {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte('M')
		}
		b.WriteString(strconv.Itoa(x))
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(y))
		pen = true
	}
	return b.String(), top
}

// thin averages runs of vals down to at most n points (unknowns ignored).
func thin(vals []float64, n int) []float64 {
	if len(vals) <= n {
		return vals
	}
	out := make([]float64, n)
	for i := range out {
		lo, hi := i*len(vals)/n, (i+1)*len(vals)/n
		sum, k := 0.0, 0
		for _, v := range vals[lo:hi] {
			if !math.IsNaN(v) {
				sum, k = sum+v, k+1
			}
		}
		out[i] = math.NaN()
		if k > 0 {
			out[i] = sum / float64(k)
		}
	}
	return out
}
