package graphite

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	e, err := Parse(`sumSeries(a.b.{c,d}.*, scale(x.[a-z]?, -1.5e2), alias(y,"n \"q\""), true, key=none)`)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindCall || e.Str != "sumSeries" || len(e.Args) != 4 || len(e.Kwargs) != 1 {
		t.Fatalf("%+v", e)
	}
	if a := e.Args[0]; a.Kind != KindPath || a.Str != "a.b.{c,d}.*" {
		t.Errorf("glob path %+v", a)
	}
	if s := e.Args[1]; s.Str != "scale" || s.Args[0].Str != "x.[a-z]?" || s.Args[1].Num != -150 {
		t.Errorf("scale %+v %+v", s.Args[0], s.Args[1])
	}
	if s := e.Args[2].Args[1]; s.Kind != KindString || s.Str != `n \"q\"` {
		t.Errorf("string %+v", s)
	}
	if b := e.Args[3]; b.Kind != KindBool || !b.Bool {
		t.Errorf("bool %+v", b)
	}
	if k := e.Kwargs[0]; k.Name != "key" || k.Value.Kind != KindNone {
		t.Errorf("kwarg %+v", k)
	}
	if got := strings.Join(e.Paths(nil), " "); got != "a.b.{c,d}.* x.[a-z]? y" {
		t.Errorf("paths %q", got)
	}
	for _, p := range []string{"1abc.def", "app-8080.x", "a.b-1", "host%2Eexample.x"} {
		e, err := Parse(p)
		if err != nil || e.Kind != KindPath || e.Str != p {
			t.Errorf("%q: %+v %v", p, e, err)
		}
	}
	for _, bad := range []string{"", "sum(", "sum(a", "a..b", ".a", "a.", "f(a)x", "f(k=1, a)", "'open", "a}", "{a",
		"f(a,,b)", strings.Repeat("f(", 40) + "a" + strings.Repeat(")", 40), "a\x01b"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a.b.c", "sumSeries(a.*,b)", `aliasSub(a,'(\d+)','x \1')`, "f(x=1,y='z')", "a.{b,c}[0-9]?*",
		"movingAverage(a,'5min',0.5)", "constantLine(-1e3)", "g(true,false,None)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		// Every path a target holds can be matched without panicking.
		for _, p := range e.Paths(nil) {
			for el := range strings.SplitSeq(p, ".") {
				if g, err := compileGlob(el); err == nil {
					g.match("abc")
				}
			}
		}
	})
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat  string
		yes  []string
		no   []string
		fail bool
	}{
		{"app-808?", []string{"app-8080", "app-8089"}, []string{"app-808", "app-80800"}, false},
		{"*", []string{"", "x", "app-8080"}, nil, false},
		{"a*b*c", []string{"abc", "aXbYc", "abbc"}, []string{"acb", "ab"}, false},
		{"h[12]", []string{"h1", "h2"}, []string{"h3", "h12"}, false},
		{"h[!2]", []string{"h1", "h3"}, []string{"h2"}, false},
		{"[a-c]x", []string{"ax", "cx"}, []string{"dx"}, false},
		{"{web,db}[0-9]", []string{"web1", "db9"}, []string{"app1", "web"}, false},
		{"x{a,b}y{1,2}", []string{"xay1", "xby2"}, []string{"xy1"}, false},
		{"[x", []string{}, nil, true},
		{"{a{b}}", nil, nil, true},
		{strings.Repeat("{a,b,c,d}", 5), nil, nil, true},
	}
	for _, c := range cases {
		g, err := compileGlob(c.pat)
		if (err != nil) != c.fail {
			t.Errorf("%q: err %v", c.pat, err)
			continue
		}
		if err != nil {
			continue
		}
		for _, s := range c.yes {
			if !g.match(s) {
				t.Errorf("%q should match %q", c.pat, s)
			}
		}
		for _, s := range c.no {
			if g.match(s) {
				t.Errorf("%q should not match %q", c.pat, s)
			}
		}
	}
}

func TestEscapeElem(t *testing.T) {
	for in, want := range map[string]string{
		"db.example.com": "db%2Eexample%2Ecom", "app-8080": "app-8080", "100%": "100%25",
		"a b,c=d": "a%20b%2Cc%3Dd", "(x)": "%28x%29", "café": "café", "*?[]{}": "%2A%3F%5B%5D%7B%7D",
	} {
		got := EscapeElem(in)
		if got != want {
			t.Errorf("EscapeElem(%q) = %q, want %q", in, got, want)
		}
		if back := UnescapeElem(got); back != in {
			t.Errorf("UnescapeElem(%q) = %q, want %q", got, back, in)
		}
		if _, err := Parse("x." + got); err != nil || strings.Contains(got, ".") {
			t.Errorf("%q is not one path element: %v", got, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	loc := time.UTC
	now := time.Date(2023, 11, 14, 22, 13, 20, 0, loc) // 1700000000
	cases := map[string]int64{
		"now":            1700000000,
		"-15min":         1700000000 - 900,
		"-6h":            1700000000 - 6*3600,
		"-7d":            1700000000 - 7*86400,
		"-1w":            1700000000 - 7*86400,
		"now-1h30min":    1700000000 - 5400,
		"+2s":            1700000002,
		"-1mon":          1700000000 - 30*86400,
		"-1y":            1700000000 - 365*86400,
		"1699999200":     1699999200,
		"12:30_20231114": time.Date(2023, 11, 14, 12, 30, 0, 0, loc).Unix(),
		"20231114":       time.Date(2023, 11, 14, 0, 0, 0, 0, loc).Unix(),
		"midnight":       time.Date(2023, 11, 14, 0, 0, 0, 0, loc).Unix(),
		"noon yesterday": time.Date(2023, 11, 13, 12, 0, 0, 0, loc).Unix(),
		"6pm today":      time.Date(2023, 11, 14, 18, 0, 0, 0, loc).Unix(),
		"11/12/2023":     time.Date(2023, 11, 12, 0, 0, 0, 0, loc).Unix(),
		"jan1":           time.Date(2023, 1, 1, 0, 0, 0, 0, loc).Unix(),
		"monday":         time.Date(2023, 11, 13, 0, 0, 0, 0, loc).Unix(),
		"midnight-1d":    time.Date(2023, 11, 13, 0, 0, 0, 0, loc).Unix(),
	}
	for in, want := range cases {
		got, err := ParseTime(in, now, loc)
		if err != nil || got.Unix() != want {
			t.Errorf("ParseTime(%q) = %v (%d), %v; want %d", in, got, got.Unix(), err, want)
		}
	}
	for _, bad := range []string{"-5", "-5parsecs", "soon", "25:00_20231114", "20231340x", "-", "99999999999999999999", "feb30"} {
		if got, err := ParseTime(bad, now, loc); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"-15min", "now-6h", "12:30_20231114", "1700000000", "noon yesterday", "jan1", "11/12/23", "+1d2h"} {
		f.Add(s)
	}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := ParseTime(s, now, time.UTC); err == nil && got.IsZero() {
			t.Errorf("%q: zero time without an error", s)
		}
	})
}
