package timerange

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

var now = time.Unix(1764892800, 0) // 2025-12-05 00:00 UTC

func TestParseForms(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from, until string
		loc         *time.Location
		start, end  int64
		trailing    bool
	}{
		{"", "", time.UTC, now.Unix() - 86400, now.Unix(), true},
		{"-15min", "", time.UTC, now.Unix() - 900, now.Unix(), true},
		{"-15m", "now", time.UTC, now.Unix() - 900, now.Unix(), true},
		{"-3h", "-1h", time.UTC, now.Unix() - 3*3600, now.Unix() - 3600, true},
		{"-7d", "", time.UTC, now.Unix() - 7*86400, now.Unix(), true},
		{"-1y", "", time.UTC, now.Unix() - 365*86400, now.Unix(), true},
		{"-2mon", "", time.UTC, now.Unix() - 60*86400, now.Unix(), true},
		{"-30s", "", time.UTC, now.Unix() - 30, now.Unix(), true},
		{"1248968820", "1248969300", time.UTC, 1248968820, 1248969300, false},
		{"2009-07-30T15:47", "2009-07-30T15:55", time.UTC, 1248968820, 1248969300, false},
		{"2009-07-30T17:47", "2009-07-30 17:55", berlin, 1248968820, 1248969300, false},
		{"2025-12-01T09:00", "", time.UTC, 1764579600, now.Unix(), true},    // since Monday 09:00
		{"", "2025-12-04", time.UTC, 1764806400 - 86400, 1764806400, false}, // until yesterday
		{"NOW", "", time.UTC, 0, 0, false},                                  // from now to now: too short
		{"-1min", "2009-07-30T15:55", time.UTC, 0, 0, false},                // until before from
		{"-900d", "", time.UTC, 0, 0, false},                                // longer than 800 days
	} {
		r, err := Parse(c.from, c.until, c.loc)
		var start, end int64
		if err == nil {
			start, end, err = r.Resolve(now)
		}
		if c.start == 0 {
			if err == nil {
				t.Errorf("%q..%q: %d..%d, want an error", c.from, c.until, start, end)
			}
			continue
		}
		if err != nil || start != c.start || end != c.end || r.Trailing() != c.trailing {
			t.Errorf("%q..%q: %d..%d trailing %v, %v; want %d..%d trailing %v", c.from, c.until, start, end, r.Trailing(), err, c.start, c.end, c.trailing)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"-", "-15", "-15parsecs", "yesterday", "12", "2200-01-01", "-99999999999d", "1e9", "+3h", "2009-13-01T00:00"} {
		if _, err := ParsePoint(s, time.UTC); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v, want ErrSyntax", s, err)
		}
	}
	if _, err := Parse("2009-07-30T16:00", "2009-07-30T15:00", time.UTC); err == nil {
		t.Error("until before from accepted")
	}
}

// Encode writes what Parse reads back to the same range.
func TestEncodeRoundTrip(t *testing.T) {
	for _, c := range [][2]string{{"-15min", ""}, {"-3h", "now"}, {"-7d", "-1d"}, {"-90s", ""}, {"2009-07-30T15:47", "1248969301"}, {"", "2025-12-04T00:00"}, {"", ""}} {
		r, err := Parse(c[0], c[1], time.UTC)
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		v := url.Values{"q": {"x"}}
		r.Encode(v, time.UTC)
		back, err := FromQuery(v, time.UTC)
		if err != nil || back != r || v.Get("q") != "x" {
			t.Errorf("%q → %s → %+v, %v; want %+v", c, v.Encode(), back, err, r)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, c := range []struct{ from, until, label, preset string }{
		{"", "", "last 24 hours", "24h"},
		{"-15m", "", "last 15 minutes", "15m"},
		{"-1h", "now", "last hour", "1h"},
		{"-7d", "", "last 7 days", "7d"},
		{"-2h", "", "last 2 hours", ""},
		{"2009-07-30T15:47", "2009-07-30T15:55", "2009-07-30 15:47 to 15:55:00", ""},
		{"2009-07-30T15:47", "", "since 2009-07-30 15:47", ""},
		{"", "2009-07-30T15:47", "24 hours until 2009-07-30 15:47", ""},
	} {
		r, err := Parse(c.from, c.until, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Label(time.UTC); got != c.label {
			t.Errorf("%q..%q: label %q, want %q", c.from, c.until, got, c.label)
		}
		if got := r.Preset(); got != c.preset {
			t.Errorf("%q..%q: preset %q, want %q", c.from, c.until, got, c.preset)
		}
	}
}

func TestSettled(t *testing.T) {
	if Last(time.Hour).Settled(now, 10*time.Minute) {
		t.Error("a trailing range settled")
	}
	if !Between(now.Unix()-7200, now.Unix()-3600).Settled(now, 10*time.Minute) {
		t.Error("a range that ended an hour ago is not settled")
	}
	if Between(now.Unix()-7200, now.Unix()-60).Settled(now, 10*time.Minute) {
		t.Error("a range that ended a minute ago is settled")
	}
}

// FuzzParse: any bytes are refused or parsed into a range that resolves
// within bounds and encodes back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{{"-15min", ""}, {"-3h", "now"}, {"1248968820", "1248969300"}, {"2009-07-30T15:47", ""}, {"", "-1d"}, {"-1y", "-1mon"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, from, until string) {
		r, err := Parse(from, until, time.UTC)
		if err != nil {
			return
		}
		if start, end, err := r.Resolve(now); err == nil {
			if end-start < MinSpan || end-start > MaxSpan || start < MinTime || end > MaxTime {
				t.Fatalf("%q..%q resolved out of bounds: %d..%d", from, until, start, end)
			}
		}
		v := url.Values{}
		r.Encode(v, time.UTC)
		back, err := FromQuery(v, time.UTC)
		if err != nil || back != r {
			t.Fatalf("%q..%q: encoded %s, parsed back %+v, %v", from, until, v.Encode(), back, err)
		}
		_ = r.Label(time.UTC)
	})
}
