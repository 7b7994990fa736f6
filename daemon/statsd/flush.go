package statsd

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Stat is one value a flush writes, named as etsy statsd 0.9's graphite
// backend names it with legacyNamespace false: "stats.counters.<key>.rate".
type Stat struct {
	Name  string
	Value float64
}

// stats computes a flush's values from a snapshot, in etsy's order.
func (s snapshot) stats(interval float64, pcts []float64, emit func(name string, v float64)) int {
	n := 0
	for _, k := range sortedKeys(s.counters) {
		v := s.counters[k]
		emit("stats.counters."+k+".rate", v/interval)
		emit("stats.counters."+k+".count", v)
		n++
	}
	for _, k := range sortedKeys(s.timers) {
		timerStats(s.timers[k], interval, pcts, func(stat string, v float64) { emit("stats.timers."+k+"."+stat, v) })
		n++
	}
	for _, k := range sortedKeys(s.gauges) {
		emit("stats.gauges."+k, s.gauges[k])
		n++
	}
	for _, k := range sortedKeys(s.sets) {
		emit("stats.sets."+k+".count", float64(s.sets[k]))
		n++
	}
	return n
}

// timerStats is lib/process_metrics.js for one timer, operation for
// operation (the same sums in the same order give the same floats).
func timerStats(t timer, interval float64, pcts []float64, emit func(stat string, v float64)) {
	if len(t.vals) == 0 {
		emit("count", 0)
		emit("count_ps", 0)
		return
	}
	values := t.vals
	slices.Sort(values)
	count := len(values)
	min, max := values[0], values[count-1]
	cum := make([]float64, count)
	cumSq := make([]float64, count)
	cum[0], cumSq[0] = min, min*min
	for i := 1; i < count; i++ {
		cum[i] = values[i] + cum[i-1]
		cumSq[i] = values[i]*values[i] + cumSq[i-1]
	}
	sum, sumSquares, mean, boundary := min, min*min, min, max
	for _, pct := range pcts {
		numIn := count
		if count > 1 {
			numIn = int(math.Floor(math.Abs(pct)/100*float64(count) + 0.5)) // Math.round
			if numIn == 0 {
				continue
			}
			if pct > 0 {
				boundary = values[numIn-1]
				sum = cum[numIn-1]
				sumSquares = cumSq[numIn-1]
			} else {
				boundary = values[count-numIn]
				sum = cum[count-1] - prev(cum, count-numIn-1)
				sumSquares = cumSq[count-1] - prev(cumSq, count-numIn-1)
			}
			mean = sum / float64(numIn)
		}
		clean := cleanPct(pct)
		emit("count_"+clean, float64(numIn))
		emit("mean_"+clean, mean)
		if pct > 0 {
			emit("upper_"+clean, boundary)
		} else {
			emit("lower_"+clean, boundary)
		}
		emit("sum_"+clean, sum)
		emit("sum_squares_"+clean, sumSquares)
	}
	sum, sumSquares = cum[count-1], cumSq[count-1]
	mean = sum / float64(count)
	var diffs float64
	for _, v := range values {
		diffs += (v - mean) * (v - mean)
	}
	mid := count / 2
	median := values[mid]
	if count%2 == 0 {
		median = (values[mid-1] + values[mid]) / 2
	}
	emit("std", math.Sqrt(diffs/float64(count)))
	emit("upper", max)
	emit("lower", min)
	emit("count", t.count)
	emit("count_ps", t.count/interval)
	emit("sum", sum)
	emit("sum_squares", sumSquares)
	emit("mean", mean)
	emit("median", median)
}

// prev is cum[i], or JS's undefined → NaN for i = -1 (a percentile of
// -100 is refused by the config, so it does not arise).
func prev(cum []float64, i int) float64 {
	if i < 0 {
		return math.NaN()
	}
	return cum[i]
}

// cleanPct is etsy's (” + pct).replace('.', '_').replace('-', 'top').
func cleanPct(p float64) string {
	s := strconv.FormatFloat(p, 'f', -1, 64)
	s = strings.Replace(s, ".", "_", 1)
	return strings.Replace(s, "-", "top", 1)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
