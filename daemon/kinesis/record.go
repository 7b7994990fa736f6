package kinesis

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Reasons a record is refused. They are the keys of Stats.Bad, so they are
// stable names (self-metrics are written under them).
const (
	BadNotJSON    = "not_json"      // not a JSON object
	BadMissing    = "missing_field" // timestamp, value, or name (without a fixed metric) absent or null
	BadValue      = "bad_value"     // value not a JSON number, or NaN/±Inf/out of range
	BadTimestamp  = "bad_timestamp" // unparsable, before 1970, or too far in the future
	BadName       = "bad_name"      // not //agent/file/section#metric, or unsafe bytes
	maxNameLen    = 1024
	maxPathLength = 32 // elements of a name, including the metric
)

// BadReasons lists every reason, in a fixed order.
var BadReasons = [...]string{BadNotJSON, BadMissing, BadValue, BadTimestamp, BadName}

// badRecord is a refused record: Reason is one of the Bad* names, Detail a
// short human explanation for the log.
type badRecord struct {
	Reason string
	Detail string
}

func (b *badRecord) Error() string { return b.Reason + ": " + b.Detail }

func bad(reason, detail string) *badRecord { return &badRecord{Reason: reason, Detail: detail} }

// rawRecord is the CIMAA record. Fields stay raw so each can be judged on
// its own and a wrong type is reported as that field's fault, not as
// "not JSON". "units" is accepted and ignored: RRD files carry no units.
type rawRecord struct {
	Timestamp json.RawMessage `json:"timestamp"`
	Name      json.RawMessage `json:"name"`
	Value     json.RawMessage `json:"value"`
}

// Python's json module (the CIMAA agent is Python) writes NaN and Infinity
// as bare words, which are not JSON; they are a bad value, not garbage.
var pyNonFinite = regexp.MustCompile(`"value"\s*:\s*-?(NaN|Infinity)\s*[,}]`)

// decoder turns record bytes into a series name and a point.
type decoder struct {
	fixed  []string // fixed metric path elements, or nil
	future time.Duration
	now    func() time.Time
}

// decode parses one record. name is the record's name ("" with a fixed
// metric); the caller maps it to a path with splitName (cached per batch).
func (d *decoder) decode(data []byte) (name string, t int64, v float64, err *badRecord) {
	var r rawRecord
	if e := json.Unmarshal(data, &r); e != nil {
		if pyNonFinite.Match(data) {
			return "", 0, 0, bad(BadValue, "NaN or Infinity")
		}
		return "", 0, 0, bad(BadNotJSON, truncate(e.Error()))
	}
	if isNull(r.Timestamp) || isNull(r.Value) || (d.fixed == nil && isNull(r.Name)) {
		return "", 0, 0, bad(BadMissing, missing(r, d.fixed == nil))
	}
	v, err = parseValue(r.Value)
	if err != nil {
		return "", 0, 0, err
	}
	t, err = d.parseTime(r.Timestamp)
	if err != nil {
		return "", 0, 0, err
	}
	if d.fixed == nil {
		if e := json.Unmarshal(r.Name, &name); e != nil {
			return "", 0, 0, bad(BadName, "name is not a string")
		}
	}
	return name, t, v, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func missing(r rawRecord, needName bool) string {
	var m []string
	if isNull(r.Timestamp) {
		m = append(m, "timestamp")
	}
	if isNull(r.Value) {
		m = append(m, "value")
	}
	if needName && isNull(r.Name) {
		m = append(m, "name")
	}
	return "no " + strings.Join(m, ", ")
}

// parseValue accepts a JSON number only: a quoted "99" is refused, because
// a producer that quotes numbers may as well send "n/a".
func parseValue(raw json.RawMessage) (float64, *badRecord) {
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, bad(BadValue, "value is not a number: "+truncate(string(raw)))
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, bad(BadValue, "value out of range: "+truncate(string(raw)))
	}
	return v, nil
}

// Timestamp layouts: ISO 8601 in UTC, with or without a fraction (Go's
// parser takes a fraction after the seconds even when the layout has none)
// and with or without "Z" or an offset.
var timeLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
}

func (d *decoder) parseTime(raw json.RawMessage) (int64, *badRecord) {
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return 0, bad(BadTimestamp, "timestamp is not a string: "+truncate(string(raw)))
	}
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if t.Unix() <= 0 {
			return 0, bad(BadTimestamp, "timestamp before 1970: "+truncate(s))
		}
		// One point far in the future would move the file's last update
		// there, and RRD would then refuse every real point until that time.
		if d.future > 0 && t.After(d.now().Add(d.future)) {
			return 0, bad(BadTimestamp, "timestamp in the future: "+truncate(s))
		}
		return t.Unix(), nil
	}
	return 0, bad(BadTimestamp, "unparsable timestamp: "+truncate(s))
}

// splitName maps "//agent/file/section#metric" to [agent file section
// metric]. The leading "//" may be left out. The metric (after the last
// '#') is one element even if it holds a '/' (the store replaces it). Empty
// elements, "." and "..", control characters and invalid UTF-8 are refused
// here rather than silently rewritten, so two different bad names cannot
// land in one file.
func splitName(name string) ([]string, *badRecord) {
	if name == "" {
		return nil, bad(BadName, "empty name")
	}
	if len(name) > maxNameLen {
		return nil, bad(BadName, "name longer than "+strconv.Itoa(maxNameLen)+" bytes")
	}
	if !utf8.ValidString(name) {
		return nil, bad(BadName, "name is not UTF-8")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return nil, bad(BadName, "control character in name "+strconv.Quote(truncate(name)))
		}
	}
	rest := strings.TrimPrefix(name, "//")
	hash := strings.LastIndexByte(rest, '#')
	if hash < 0 {
		return nil, bad(BadName, "no #metric in name "+strconv.Quote(truncate(name)))
	}
	metric := rest[hash+1:]
	elems, ok := splitElems(rest[:hash])
	if !ok || !okElem(metric) || len(elems) >= maxPathLength {
		return nil, bad(BadName, "bad name "+strconv.Quote(truncate(name)))
	}
	return append(elems, metric), nil
}

// splitElems splits a '/'-separated path whose every element is okElem.
func splitElems(s string) ([]string, bool) {
	elems := strings.Split(s, "/")
	for _, e := range elems {
		if !okElem(e) {
			return nil, false
		}
	}
	return elems, true
}

func okElem(e string) bool {
	return e != "" && e != "." && e != ".." && strings.TrimSpace(e) != ""
}

func truncate(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}
