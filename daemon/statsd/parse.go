package statsd

import (
	"bytes"
	"math"
	"strconv"
)

// Type is a statsd metric type.
type Type uint8

const (
	Counter Type = iota + 1 // c
	Timer                   // ms, and h (a histogram is a timer's distribution)
	Gauge                   // g
	Set                     // s
)

// Reasons a statsd line is refused: keys of the rejected counters.
const (
	BadLine     = "bad_line"     // no "key:value|type"
	BadKey      = "bad_key"      // empty after sanitizing, an empty element, too long or deep
	BadValue    = "bad_value"    // not a finite number (a timer also not negative)
	BadRate     = "bad_rate"     // sample rate not "@" and a positive number
	UnknownType = "unknown_type" // a type other than c, ms, h, g, s
	Tags        = "tags"         // DogStatsD "|#tags" or graphite ";tags"
	MaxSeries   = "max_series"   // a new key beyond max_series
)

// Reasons lists every reason in a fixed order.
var Reasons = [...]string{BadLine, BadKey, BadValue, BadRate, UnknownType, Tags, MaxSeries}

// Limits on a key after sanitizing: stats.timers.<key>.upper_90 must stay
// a Graphite name (graphite.MaxNameElems elements, graphite.MaxNameLen).
const (
	MaxKeyLen   = 400
	MaxKeyElems = 12
)

// Sample is one value of a line; a line "key:1|c:2|c" has two.
type Sample struct {
	Type  Type
	Value float64 // counter increment, timer ms, gauge value or delta
	Delta bool    // gauge "+N"/"-N": added to the current value
	Rate  float64 // sample rate, 1 if absent (counters and timers)
	Raw   []byte  // the value's text: a set's member
}

// ParseLine reads one statsd line as etsy statsd 0.9 does (key sanitized:
// whitespace runs to '_', '/' to '-', bytes other than [A-Za-z0-9_.=-]
// removed), appending its samples to out. A bad key or tags refuse the
// line (reason); otherwise each bad value is refused on its own, as etsy
// does ("k:x:1|c" counts 1 and one bad line): bad is how many, badReason
// the first one's reason. key is a new slice.
func ParseLine(line []byte, out []Sample) (key []byte, samples []Sample, reason string, bad int, badReason string) {
	if bytes.Contains(line, []byte("|#")) {
		return nil, out, Tags, 0, ""
	}
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return nil, out, BadLine, 0, ""
	}
	if bytes.IndexByte(line[:i], ';') >= 0 {
		return nil, out, Tags, 0, ""
	}
	key = sanitizeKey(line[:i])
	if r := checkKey(key); r != "" {
		return nil, out, r, 0, ""
	}
	for rest := line[i+1:]; ; {
		bit := rest
		j := bytes.IndexByte(rest, ':')
		if j >= 0 {
			bit, rest = rest[:j], rest[j+1:]
		}
		if s, r := parseSample(bit); r != "" {
			if bad == 0 {
				badReason = r
			}
			bad++
		} else {
			out = append(out, s)
		}
		if j < 0 {
			return key, out, "", bad, badReason
		}
	}
}

// parseSample reads "value|type[|@rate]".
func parseSample(bit []byte) (Sample, string) {
	var f [3][]byte
	nf := 0
	for rest := bit; ; {
		if nf == len(f) {
			return Sample{}, BadLine
		}
		j := bytes.IndexByte(rest, '|')
		if j < 0 {
			f[nf] = rest
			nf++
			break
		}
		f[nf], rest = rest[:j], rest[j+1:]
		nf++
	}
	if nf < 2 {
		return Sample{}, BadLine
	}
	s := Sample{Rate: 1, Raw: f[0]}
	switch string(f[1]) {
	case "c":
		s.Type = Counter
	case "ms", "h":
		s.Type = Timer
	case "g":
		s.Type = Gauge
	case "s":
		s.Type = Set
	default:
		return Sample{}, UnknownType
	}
	if nf == 3 {
		r := f[2]
		if len(r) < 2 || r[0] != '@' || r[1] == '-' {
			return Sample{}, BadRate
		}
		v, err := strconv.ParseFloat(string(r[1:]), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return Sample{}, BadRate
		}
		s.Rate = v
	}
	if s.Type == Set {
		if len(s.Raw) == 0 {
			s.Raw = []byte("0") // etsy: fields[0] || '0'
		}
		return s, ""
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Sample{}, BadValue
	}
	if s.Type == Timer && v < 0 {
		return Sample{}, BadValue
	}
	s.Value = v
	s.Delta = s.Type == Gauge && (f[0][0] == '+' || f[0][0] == '-')
	return s, ""
}

// Key is a name from another protocol (Metlog) made a statsd key: tags
// (';') refused, then sanitized and checked as a line's key is.
func Key(name []byte) ([]byte, string) {
	if bytes.IndexByte(name, ';') >= 0 {
		return nil, Tags
	}
	k := sanitizeKey(name)
	if r := checkKey(k); r != "" {
		return nil, r
	}
	return k, ""
}

// sanitizeKey is etsy's sanitizeKeyName: runs of whitespace become '_',
// '/' becomes '-', and what is not [A-Za-z0-9_.;=-] is removed (';' was
// refused before as tags).
func sanitizeKey(k []byte) []byte {
	out := make([]byte, 0, len(k))
	space := false
	for _, c := range k {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			if !space {
				out = append(out, '_')
			}
			space = true
			continue
		case c == '/':
			out = append(out, '-')
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '-' || c == '.' || c == '=':
			out = append(out, c)
		}
		space = false
	}
	return out
}

// checkKey refuses keys that cannot become a Graphite path.
func checkKey(k []byte) string {
	if len(k) == 0 || len(k) > MaxKeyLen || k[0] == '.' || k[len(k)-1] == '.' ||
		bytes.Contains(k, []byte("..")) || bytes.Count(k, []byte{'.'}) >= MaxKeyElems {
		return BadKey
	}
	return ""
}
