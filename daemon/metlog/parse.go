package metlog

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"graphmetrics/daemon/statsd"
)

// Reasons a message is refused or ignored: keys of the rejected counters.
const (
	BadJSON   = "bad_json"   // not a JSON object
	BadName   = "bad_name"   // fields.name missing or not a statsd key
	BadValue  = "bad_value"  // payload not a finite number (a timer also not negative)
	BadRate   = "bad_rate"   // fields.rate present but not a positive number
	OtherType = "other_type" // a type other than counter and timer: ignored
	MaxSeries = "max_series" // a new key beyond [statsd] max_series
)

// Reasons lists every reason in a fixed order.
var Reasons = [...]string{BadJSON, BadName, BadValue, BadRate, OtherType, MaxSeries}

// message is what metlog-py's MetlogClient.metlog builds and its
// UdpSender json.dumps into one datagram:
//
//	{"type": "counter", "timestamp": "2012-...", "logger": "...",
//	 "severity": 6, "payload": "1", "fields": {"name": "k", "rate": 1.0},
//	 "env_version": "0.8", ...}
//
// incr sends payload str(count); timer and timer_send str(elapsed ms).
type message struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	Fields  struct {
		Name json.RawMessage `json:"name"`
		Rate json.RawMessage `json:"rate"`
	} `json:"fields"`
}

// Parse reads one datagram into a statsd key and sample (a counter or a
// timer with its sample rate), or a reason. The client already sampled:
// like a statsd "@rate", the rate scales counts up.
func Parse(b []byte) (key []byte, s statsd.Sample, reason string) {
	var m message
	if err := json.Unmarshal(bytes.TrimRight(b, "\x00\n"), &m); err != nil {
		return nil, s, BadJSON
	}
	switch m.Type {
	case "counter":
		s.Type = statsd.Counter
	case "timer":
		s.Type = statsd.Timer
	default:
		return nil, s, OtherType
	}
	var name string
	if json.Unmarshal(m.Fields.Name, &name) != nil {
		return nil, s, BadName
	}
	// The same key rules as a statsd line: sanitized, then checked.
	key, r := statsd.Key([]byte(name))
	if r != "" {
		return nil, s, BadName
	}
	v, ok := number(m.Payload)
	if !ok || (s.Type == statsd.Timer && v < 0) {
		return nil, s, BadValue
	}
	s.Value, s.Rate = v, 1
	if len(m.Fields.Rate) > 0 && string(m.Fields.Rate) != "null" {
		r, ok := number(m.Fields.Rate)
		if !ok || r <= 0 {
			return nil, s, BadRate
		}
		s.Rate = r
	}
	return key, s, ""
}

// number reads a JSON number or a string holding one (payload is a
// string; other senders may send a number), finite only.
func number(raw json.RawMessage) (float64, bool) {
	var str string
	if json.Unmarshal(raw, &str) != nil {
		str = string(raw)
	}
	v, err := strconv.ParseFloat(str, 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}
