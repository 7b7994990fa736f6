package graphite

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// appendJSON writes series as graphite-web 1.1's json.dumps does:
//
//	[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[1.0, 1600000000], [null, 1600000060]]}]
//
// Floats are written as Python's repr writes them; NaN is null and
// infinities are 1e9999 / -1e9999.
func appendJSON(b []byte, list []*Series, noNulls bool) ([]byte, error) {
	b = append(b, '[')
	first := true
	for _, s := range list {
		pts, err := s.datapoints()
		if err != nil {
			return nil, err
		}
		if noNulls {
			kept := pts[:0]
			for _, p := range pts {
				if !none(p.V) {
					kept = append(kept, p)
				}
			}
			if len(kept) == 0 {
				continue
			}
			pts = kept
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, `{"target": `...)
		b = appendJSONString(b, s.Name)
		b = append(b, `, "tags": {`...)
		keys := make([]string, 0, len(s.Tags))
		for k := range s.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if i := slices.Index(keys, "name"); i > 0 {
			keys = append(append([]string{"name"}, keys[:i]...), keys[i+1:]...)
		}
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONString(b, k)
			b = append(b, ": "...)
			b = appendJSONString(b, s.Tags[k])
		}
		b = append(b, `}, "datapoints": [`...)
		for i, p := range pts {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, '[')
			b = appendPyFloat(b, p.V)
			b = append(b, ", "...)
			b = strconv.AppendInt(b, p.T, 10)
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	return append(b, ']'), nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendPyFloat writes v as Python's float repr (1.0, 0.25, 1e-05,
// 1.5e+16); NaN is null.
func appendPyFloat(b []byte, v float64) []byte {
	switch {
	case none(v):
		return append(b, "null"...)
	case math.IsInf(v, 1):
		return append(b, "1e9999"...)
	case math.IsInf(v, -1):
		return append(b, "-1e9999"...)
	}
	return append(b, pyFloat(v)...)
}

// appendCSV writes "name,YYYY-MM-DD HH:MM:SS,value" rows as graphite-web
// does (times in the request's zone, empty for None).
func appendCSV(b []byte, list []*Series, loc *time.Location) []byte {
	for _, s := range list {
		name := csvField(s.Name)
		for i, v := range s.Values {
			b = append(b, name...)
			b = append(b, ',')
			b = time.Unix(s.Start+int64(i)*s.Step, 0).In(loc).AppendFormat(b, "2006-01-02 15:04:05")
			b = append(b, ',')
			if !none(v) {
				b = append(b, pyFloat(v)...)
			}
			b = append(b, '\r', '\n')
		}
	}
	return b
}

// csvField quotes like Python's csv module (excel dialect), and defuses a
// leading formula character for spreadsheets.
func csvField(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		s = "'" + s
	}
	need := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			need = true
		}
	}
	if !need {
		return s
	}
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
