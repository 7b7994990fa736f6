package kinesis

import (
	"slices"
	"testing"
	"time"
)

func testDecoder(fixed []string) *decoder {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &decoder{fixed: fixed, future: time.Hour, now: func() time.Time { return now }}
}

func TestDecode(t *testing.T) {
	const ts = 1418487287 // 2014-12-13T16:14:47Z
	tests := []struct {
		in     string
		name   string
		t      int64
		v      float64
		reason string
	}{
		{`{"timestamp": "2014-12-13T16:14:47.820000", "name": "//host.example.com/disk/root#free", "value": 99, "units": "GB"}`,
			"//host.example.com/disk/root#free", ts, 99, ""},
		{`{"timestamp":"2014-12-13T16:14:47Z","name":"//a/b#c","value":-1.5e3}`, "//a/b#c", ts, -1500, ""},
		{`{"timestamp":"2014-12-13T16:14:47.5Z","name":"//a#c","value":0}`, "//a#c", ts, 0, ""},
		{`{"timestamp":"2014-12-13T17:14:47+01:00","name":"//a#c","value":1}`, "//a#c", ts, 1, ""},
		{`{"timestamp":"2014-12-13 16:14:47","name":"//a#c","value":1}`, "//a#c", ts, 1, ""},
		{`{"value":1,"name":"//a#c","timestamp":"2014-12-13T16:14:47","extra":{"x":[1]}}`, "//a#c", ts, 1, ""},

		{`not json`, "", 0, 0, BadNotJSON},
		{``, "", 0, 0, BadNotJSON},
		{`[1,2]`, "", 0, 0, BadNotJSON},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value":1`, "", 0, 0, BadNotJSON},
		{`{"name":"//a#c","value":1}`, "", 0, 0, BadMissing},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c"}`, "", 0, 0, BadMissing},
		{`{"timestamp":"2014-12-13T16:14:47","value":1}`, "", 0, 0, BadMissing},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value":null}`, "", 0, 0, BadMissing},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value":"99"}`, "", 0, 0, BadValue},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value":true}`, "", 0, 0, BadValue},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value":NaN}`, "", 0, 0, BadValue},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value": -Infinity }`, "", 0, 0, BadValue},
		{`{"timestamp":"2014-12-13T16:14:47","name":"//a#c","value":1e999}`, "", 0, 0, BadValue},
		{`{"timestamp":"yesterday","name":"//a#c","value":1}`, "", 0, 0, BadTimestamp},
		{`{"timestamp":1418487287,"name":"//a#c","value":1}`, "", 0, 0, BadTimestamp},
		{`{"timestamp":"1969-12-31T23:59:59","name":"//a#c","value":1}`, "", 0, 0, BadTimestamp},
		{`{"timestamp":"2014-13-13T16:14:47","name":"//a#c","value":1}`, "", 0, 0, BadTimestamp},
		{`{"timestamp":"2026-03-01T13:00:01Z","name":"//a#c","value":1}`, "", 0, 0, BadTimestamp}, // > 1h ahead
		{`{"timestamp":"2014-12-13T16:14:47","name":7,"value":1}`, "", 0, 0, BadName},
	}
	d := testDecoder(nil)
	for _, tc := range tests {
		name, tm, v, bad := d.decode([]byte(tc.in))
		switch {
		case tc.reason != "":
			if bad == nil || bad.Reason != tc.reason {
				t.Errorf("%s: got %v, want %s", tc.in, bad, tc.reason)
			}
		case bad != nil:
			t.Errorf("%s: %v", tc.in, bad)
		case name != tc.name || tm != tc.t || v != tc.v:
			t.Errorf("%s: got %q %d %v", tc.in, name, tm, v)
		}
	}
}

func TestDecodeFixedMetric(t *testing.T) {
	d := testDecoder([]string{"load"})
	name, tm, v, bad := d.decode([]byte(`{"timestamp":"2014-12-13T16:14:47","value":2.5}`))
	if bad != nil || name != "" || tm != 1418487287 || v != 2.5 {
		t.Fatalf("got %q %d %v %v", name, tm, v, bad)
	}
	// A name is ignored, even a bad one.
	if _, _, _, bad := d.decode([]byte(`{"timestamp":"2014-12-13T16:14:47","value":2.5,"name":"\u0000"}`)); bad != nil {
		t.Fatal(bad)
	}
	if _, _, _, bad := d.decode([]byte(`{"timestamp":"2014-12-13T16:14:47"}`)); bad == nil || bad.Reason != BadMissing {
		t.Fatalf("got %v", bad)
	}
}

func TestSplitName(t *testing.T) {
	good := map[string][]string{
		"//host.example.com/disk/root#free": {"host.example.com", "disk", "root", "free"},
		"//agent#metric":                    {"agent", "metric"},
		"agent/file#m":                      {"agent", "file", "m"},
		"//a/b/c/d#x#y":                     {"a", "b", "c", "d#x", "y"},
		"//h/net/eth0#bytes/s":              {"h", "net", "eth0", "bytes/s"},
		"//hôte/disque#libre":               {"hôte", "disque", "libre"},
	}
	for in, want := range good {
		got, bad := splitName(in)
		if bad != nil || !slices.Equal(got, want) {
			t.Errorf("%q: got %q %v, want %q", in, got, bad, want)
		}
	}
	for _, in := range []string{
		"", "//", "//host", "//host/disk", "//#m", "//h#", "//h//d#m", "//h/d/#m", "///h#m",
		"//../etc#passwd", "//h/..#m", "//h#..", "//./x#m", "//h/ #m", "//h#\x00", "//h\x00x#m",
		"//h\n#m", "//h\x7f#m", "//h\u0085#m", "//h\xff#m", "//" + string(make([]byte, 2000)) + "#m",
	} {
		if got, bad := splitName(in); bad == nil || bad.Reason != BadName {
			t.Errorf("%q: got %q %v, want bad_name", in, got, bad)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	d := testDecoder(nil)
	rec := []byte(`{"timestamp": "2014-12-13T16:14:47.820000", "name": "//host.example.com/disk/root#free", "value": 99, "units": "GB"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, bad := d.decode(rec); bad != nil {
			b.Fatal(bad)
		}
	}
}
