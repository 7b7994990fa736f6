package statsd

// Peek copies what the Agg holds now (counters, gauges, timer samples),
// for inspecting what the inputs feeding it delivered.
func (a *Agg) Peek() (counters, gauges map[string]float64, timers map[string][]float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	counters = make(map[string]float64, len(a.counters))
	for k, v := range a.counters {
		counters[k] = v
	}
	gauges = make(map[string]float64, len(a.gauges))
	for k, v := range a.gauges {
		gauges[k] = v
	}
	timers = make(map[string][]float64, len(a.timers))
	for k, v := range a.timers {
		timers[k] = append([]float64(nil), v.vals...)
	}
	return counters, gauges, timers
}
