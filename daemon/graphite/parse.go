package graphite

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// Limits on a metric name.
const (
	MaxNameLen   = 512 // bytes
	MaxNameElems = 15  // dot-separated elements (rrd/metrics/graphite/ adds one level)
)

// Reasons a line is refused: the keys of Stats.Rejected.
const (
	BadLine      = "bad_line"      // not "name value [timestamp]"
	BadName      = "bad_name"      // empty element, too long, too deep, unsafe bytes
	BadValue     = "bad_value"     // not a finite number
	BadTimestamp = "bad_timestamp" // not a number, negative (other than -1), or too far ahead
	MaxSeries    = "max_series"    // a new series beyond max_series
)

// Reasons lists every rejection reason in a fixed order.
var Reasons = [...]string{BadLine, BadName, BadValue, BadTimestamp, MaxSeries}

// ParseError is a refused line; Reason is one of the Bad* names.
type ParseError struct{ Reason, Detail string }

func (e *ParseError) Error() string { return e.Reason + ": " + e.Detail }

func perr(reason, detail string) error { return &ParseError{reason, detail} }

// maxAhead is how far past now a timestamp may be.
const maxAhead = 24 * 3600

// ParseLine reads one plaintext line "name value [timestamp]" (fields
// separated by spaces or tabs, a trailing '\r' ignored). A missing
// timestamp or -1 means now (Unix s); fractional timestamps are truncated,
// as carbon does. name aliases line.
func ParseLine(line []byte, now int64) (name []byte, v float64, ts int64, err error) {
	line = bytes.TrimRight(line, "\r")
	var f [3][]byte
	n := 0
	for rest := line; ; {
		rest = bytes.TrimLeft(rest, " \t")
		if len(rest) == 0 {
			break
		}
		if n == len(f) {
			return nil, 0, 0, perr(BadLine, "more than 3 fields")
		}
		i := bytes.IndexAny(rest, " \t")
		if i < 0 {
			i = len(rest)
		}
		f[n], rest = rest[:i], rest[i:]
		n++
	}
	if n < 2 {
		return nil, 0, 0, perr(BadLine, "want name value [timestamp]")
	}
	if err := CheckName(f[0]); err != nil {
		return nil, 0, 0, err
	}
	v, e := strconv.ParseFloat(string(f[1]), 64)
	if e != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, 0, 0, perr(BadValue, "not a finite number")
	}
	ts = now
	if n == 3 {
		t, e := strconv.ParseFloat(string(f[2]), 64)
		switch {
		case e != nil || math.IsNaN(t):
			return nil, 0, 0, perr(BadTimestamp, "not a number")
		case t == -1:
		case t < 0 || t > float64(now+maxAhead):
			return nil, 0, 0, perr(BadTimestamp, "before 1970 or more than a day ahead")
		default:
			ts = int64(t)
		}
	}
	return f[0], v, ts, nil
}

// CheckName refuses names that cannot be a file path: empty elements
// ("a..b", a leading or trailing dot), control bytes, '/', '\\', invalid
// UTF-8, longer than MaxNameLen or deeper than MaxNameElems. What passes
// still goes through store.SafeElem.
func CheckName(name []byte) error {
	if len(name) == 0 || len(name) > MaxNameLen {
		return perr(BadName, "empty or longer than 512 bytes")
	}
	if !utf8.Valid(name) {
		return perr(BadName, "invalid UTF-8")
	}
	elems, start := 1, 0
	for i, c := range name {
		switch {
		case c == '.':
			if i == start {
				return perr(BadName, "empty element")
			}
			elems++
			start = i + 1
		case c < 0x20 || c == 0x7f || c == '/' || c == '\\':
			return perr(BadName, "control byte, '/' or '\\\\'")
		}
	}
	if start == len(name) {
		return perr(BadName, "empty element")
	}
	if elems > MaxNameElems {
		return perr(BadName, "more than 15 elements")
	}
	return nil
}

// ReasonOf is the rejection reason of an error from ParseLine.
func ReasonOf(err error) string {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return BadLine
}
