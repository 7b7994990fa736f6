package graphite

import (
	"math"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	const now = 1_800_000_000
	tests := []struct {
		in     string
		name   string
		v      float64
		ts     int64
		reason string
	}{
		{in: "a.b.c 1.5 1700000000", name: "a.b.c", v: 1.5, ts: 1700000000},
		{in: "a.b.c 1.5 1700000000.9\r", name: "a.b.c", v: 1.5, ts: 1700000000},
		{in: "a\t-2e3\t-1", name: "a", v: -2000, ts: now},
		{in: "  a 7  ", name: "a", v: 7, ts: now},
		{in: "10 20 30", name: "10", v: 20, ts: 30},
		{in: "a", reason: BadLine},
		{in: "", reason: BadLine},
		{in: "a 1 2 3", reason: BadLine},
		{in: "a NaN 1", reason: BadValue},
		{in: "a inf", reason: BadValue},
		{in: "a -Inf", reason: BadValue},
		{in: "a 1e999", reason: BadValue},
		{in: "a x", reason: BadValue},
		{in: "a 1 -2", reason: BadTimestamp},
		{in: "a 1 x", reason: BadTimestamp},
		{in: "a 1 1900000000", reason: BadTimestamp},
		{in: "a..b 1", reason: BadName},
		{in: ".a 1", reason: BadName},
		{in: "a. 1", reason: BadName},
		{in: "../../etc/passwd 1", reason: BadName},
		{in: "a/b 1", reason: BadName},
		{in: "a\x01b 1", reason: BadName},
		{in: "a\xffb 1", reason: BadName},
		{in: strings.Repeat("x", 513) + " 1", reason: BadName},
		{in: strings.Repeat("x.", 15) + "x 1", reason: BadName},
		{in: strings.Repeat("x.", 14) + "x 1", name: strings.Repeat("x.", 14) + "x", v: 1, ts: now},
	}
	for _, tc := range tests {
		name, v, ts, err := ParseLine([]byte(tc.in), now)
		if tc.reason != "" {
			if err == nil || ReasonOf(err) != tc.reason {
				t.Errorf("%q: err %v, want %s", tc.in, err, tc.reason)
			}
			continue
		}
		if err != nil || string(name) != tc.name || v != tc.v || ts != tc.ts {
			t.Errorf("%q: %q %v %d %v, want %q %v %d", tc.in, name, v, ts, err, tc.name, tc.v, tc.ts)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"a.b.c 1 1700000000", "a -1 -1", "x..y 1", "a NaN", "a 1 1e300", "\x00 \x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		name, v, ts, err := ParseLine(line, 1_800_000_000)
		if err != nil {
			return
		}
		if CheckName(name) != nil || math.IsNaN(v) || math.IsInf(v, 0) || ts < 0 {
			t.Fatalf("%q accepted as %q %v %d", line, name, v, ts)
		}
	})
}
