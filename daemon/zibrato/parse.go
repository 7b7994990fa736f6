package zibrato

import (
	"bytes"
	"math"
	"strconv"

	"graphmetrics/daemon/statsd"
)

// Reasons a message is refused or ignored: keys of the rejected counters.
const (
	BadMessage = "bad_message" // not level|mtype|name|value[|timestamp|source]
	BadName    = "bad_name"    // name (and source) not a statsd key
	BadValue   = "bad_value"   // value not a finite number (a timer also not negative)
	OtherType  = "other_type"  // mtype not a counter, timer or gauge: ignored
	OtherLevel = "other_level" // a level not configured (the subscription let it through)
	MaxSeries  = "max_series"  // a new key beyond [statsd] max_series
)

// Reasons lists every reason in a fixed order.
var Reasons = [...]string{BadMessage, BadName, BadValue, OtherType, OtherLevel, MaxSeries}

// noSource is what Zibrato's pack() puts in when no source is given.
const noSource = "not_specified"

// Parse reads one message as Zibrato's pack() builds it,
//
//	'%s|%s|%s|%s|%s|%s' % (level, mtype, name, str(value), str(int(time())), source)
//
// (its first release sent only level|mtype|name|value). mtype is matched
// without case to its backend's counters, timer and gauges (count_me sends
// "Counter", time_me "Timer" in seconds, gauge "Gauge"). The key is
// source.name, or name when the source is Zibrato's "not_specified"; a
// timer becomes statsd milliseconds. The timestamp is not used: like
// statsd's, the aggregation is stamped at its flush.
func Parse(msg []byte) (level, key []byte, s statsd.Sample, reason string) {
	f := bytes.Split(msg, []byte{'|'})
	if len(f) != 4 && len(f) != 6 {
		return nil, nil, s, BadMessage
	}
	level = f[0]
	switch string(bytes.ToLower(f[1])) {
	case "counter", "counters":
		s.Type = statsd.Counter
	case "timer", "timers":
		s.Type = statsd.Timer
	case "gauge", "gauges":
		s.Type = statsd.Gauge
	default:
		return level, nil, s, OtherType
	}
	name := f[2]
	if len(f) == 6 && len(f[5]) > 0 && string(f[5]) != noSource {
		name = append(append(append([]byte{}, f[5]...), '.'), f[2]...)
	}
	key, r := statsd.Key(name)
	if r != "" {
		return level, nil, s, BadName
	}
	v, err := strconv.ParseFloat(string(f[3]), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || (s.Type == statsd.Timer && v < 0) {
		return level, nil, s, BadValue
	}
	if s.Type == statsd.Timer {
		v *= 1000
	}
	s.Value, s.Rate = v, 1
	return level, key, s, ""
}
