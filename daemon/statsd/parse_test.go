package statsd

import (
	"math"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in      string
		key     string
		samples []Sample
		reason  string
	}{
		{in: "a.b:1|c", key: "a.b", samples: []Sample{{Type: Counter, Value: 1, Rate: 1}}},
		{in: "a:2|c|@0.1", key: "a", samples: []Sample{{Type: Counter, Value: 2, Rate: 0.1}}},
		{in: "a:-2|c", key: "a", samples: []Sample{{Type: Counter, Value: -2, Rate: 1}}},
		{in: "t:320|ms|@0.5", key: "t", samples: []Sample{{Type: Timer, Value: 320, Rate: 0.5}}},
		{in: "h:1.5|h", key: "h", samples: []Sample{{Type: Timer, Value: 1.5, Rate: 1}}},
		{in: "g:+4|g", key: "g", samples: []Sample{{Type: Gauge, Value: 4, Delta: true, Rate: 1}}},
		{in: "g:-4|g", key: "g", samples: []Sample{{Type: Gauge, Value: -4, Delta: true, Rate: 1}}},
		{in: "g:4|g", key: "g", samples: []Sample{{Type: Gauge, Value: 4, Rate: 1}}},
		{in: "u:joe|s", key: "u", samples: []Sample{{Type: Set, Rate: 1, Raw: []byte("joe")}}},
		{in: "multi:1|c:2|ms", key: "multi", samples: []Sample{{Type: Counter, Value: 1, Rate: 1}, {Type: Timer, Value: 2, Rate: 1}}},
		{in: "my key/x!:1|c", key: "my_key-x", samples: []Sample{{Type: Counter, Value: 1, Rate: 1}}},
		{in: "a  \tb:1|c", key: "a_b", samples: []Sample{{Type: Counter, Value: 1, Rate: 1}}},
		{in: "a:1|c|#env:prod", reason: Tags},
		{in: "a;env=prod:1|c", reason: Tags},
		{in: "a:1|x", reason: UnknownType},
		{in: "a:1|d", reason: UnknownType},
		{in: "a", reason: BadLine},
		{in: "a:1", reason: BadLine},
		{in: "a:1|c|@0.1|x", reason: BadLine},
		{in: "a:1|c|@0", reason: BadRate},
		{in: "a:1|c|@-1", reason: BadRate},
		{in: "a:1|c|0.1", reason: BadRate},
		{in: "a:NaN|c", reason: BadValue},
		{in: "a:Inf|g", reason: BadValue},
		{in: "a:-1|ms", reason: BadValue},
		{in: "a:|c", reason: BadValue},
		{in: "a:1|c:x|c", key: "a", samples: []Sample{{Type: Counter, Value: 1, Rate: 1}}}, // and one bad
		{in: "!!!:1|c", reason: BadKey},
		{in: "../../etc:1|c", reason: BadKey},
		{in: "a..b:1|c", reason: BadKey},
		{in: strings.Repeat("k", 401) + ":1|c", reason: BadKey},
		{in: strings.Repeat("k.", 12) + "k:1|c", reason: BadKey},
	}
	for _, tc := range tests {
		key, s, reason, nbad, badReason := ParseLine([]byte(tc.in), nil)
		if reason == "" && nbad > 0 && len(s) == 0 {
			reason = badReason
		}
		if reason != tc.reason {
			t.Errorf("%q: reason %q, want %q", tc.in, reason, tc.reason)
			continue
		}
		if reason != "" {
			continue
		}
		if string(key) != tc.key || len(s) != len(tc.samples) {
			t.Errorf("%q: key %q samples %+v", tc.in, key, s)
			continue
		}
		for i := range s {
			w := tc.samples[i]
			if s[i].Type != w.Type || s[i].Value != w.Value || s[i].Rate != w.Rate || s[i].Delta != w.Delta ||
				(w.Raw != nil && string(s[i].Raw) != string(w.Raw)) {
				t.Errorf("%q sample %d: %+v, want %+v", tc.in, i, s[i], w)
			}
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"a.b:1|c|@0.5", "t:1|ms:2|ms", "g:-1|g", "s:x|s", "a:1|c|#t", "..:1|c", "a:1e400|c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		key, samples, reason, nbad, _ := ParseLine(line, nil)
		if reason != "" {
			return
		}
		if checkKey(key) != "" || len(samples)+nbad == 0 {
			t.Fatalf("%q accepted: key %q, %d samples", line, key, len(samples))
		}
		for _, s := range samples {
			if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) || !(s.Rate > 0) {
				t.Fatalf("%q: bad sample %+v", line, s)
			}
		}
	})
}

// Timer statistics of a known sample, by hand: values 1..10.
func TestTimerStats(t *testing.T) {
	got := map[string]float64{}
	vals := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	timerStats(timer{vals: vals, count: 20}, 10, []float64{90, 50, -10, 99.9}, func(s string, v float64) { got[s] = v })
	want := map[string]float64{
		"count": 20, "count_ps": 2, "lower": 1, "upper": 10, "sum": 55, "sum_squares": 385, "mean": 5.5, "median": 5.5,
		"std":      math.Sqrt(82.5 / 10),
		"count_90": 9, "mean_90": 5, "upper_90": 9, "sum_90": 45, "sum_squares_90": 285,
		"count_50": 5, "upper_50": 5, "sum_50": 15, "mean_50": 3,
		"count_top10": 1, "lower_top10": 10, "sum_top10": 10, "mean_top10": 10, "sum_squares_top10": 100,
		"count_99_9": 10, "upper_99_9": 10, "sum_99_9": 55,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	empty := map[string]float64{}
	timerStats(timer{}, 10, []float64{90}, func(s string, v float64) { empty[s] = v })
	if len(empty) != 2 || empty["count"] != 0 || empty["count_ps"] != 0 {
		t.Errorf("empty timer: %v", empty)
	}
}
