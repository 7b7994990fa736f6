package store

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSafeElem(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"app-8080", "app-8080"},
		{"zope1.example.net", "zope1.example.net"},
		{"", "_"},
		{".", "_"},
		{"..", "_"},
		{"...", "..."},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{"/abs/path", "_abs_path"},
		{`a\b`, "a_b"},
		{"a\x00b", "a_b"},
		{"line\nbreak\r\t", "line_break__"},
		{"del\x7f", "del_"},
		{"10.0.0.1:5514", "10.0.0.1_5514"},
		{"sp ace", "sp_ace"},
		{"bad\xff\xfeutf8", "bad__utf8"},
		{"café-münchen", "café-münchen"},
		{"日本語", "日本語"},
		{"rtl\u202eevil", "rtl_evil"},
		{"user@host+x,y=z~", "user@host+x,y=z~"},
		{"$(rm -rf)", "__rm_-rf_"},
		{strings.Repeat("x", 300), strings.Repeat("x", MaxElemLen)},
		{strings.Repeat("é", 80), strings.Repeat("é", MaxElemLen/2)},
	} {
		if got := SafeElem(c.in); got != c.want {
			t.Errorf("SafeElem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// nasty are untrusted names that try to escape or confuse.
var nasty = []string{
	"", ".", "..", "...", "/", "//", "../", "..\\..", "/etc", "a/../../b", "\x00", "\x00..",
	". .", "..\x00", "\u2024\u2024", "．．", "%2e%2e", "~", "~root", "-rf", strings.Repeat("../", 100),
	"\xc0\xae\xc0\xae", "a:b", "\n..", "..\n",
}

func checkSafe(t *testing.T, e string) {
	t.Helper()
	if e == "" || e == "." || e == ".." || len(e) > MaxElemLen || !utf8.ValidString(e) {
		t.Fatalf("unsafe element %q", e)
	}
	for _, r := range e {
		if r == '/' || r == '\\' || r == ':' || unicode.IsControl(r) || unicode.IsSpace(r) {
			t.Fatalf("element %q has %q", e, r)
		}
	}
}

func TestNothingEscapesDataDir(t *testing.T) {
	dataDir := "/srv/graphmetrics/var"
	within := func(p, dir string) {
		t.Helper()
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) || filepath.Clean(p) != p {
			t.Fatalf("%q escapes %q (rel %q)", p, dir, rel)
		}
	}
	for _, a := range nasty {
		checkSafe(t, SafeElem(a))
		for _, b := range nasty {
			p := TracelogFile(dataDir, Key{a, b, a + b})
			within(p, filepath.Join(dataDir, "rrd", "tracelog"))
			if n := len(strings.Split(strings.TrimPrefix(p, dataDir+"/rrd/tracelog/"), "/")); n != 3 {
				t.Fatalf("%q: %d levels under tracelog, want 3", p, n)
			}
			m := MetricFile(dataDir, []string{a, b, "x"})
			within(m, filepath.Join(dataDir, "rrd", "metrics"))
			if n := len(strings.Split(strings.TrimPrefix(m, dataDir+"/rrd/metrics/"), "/")); n != 3 {
				t.Fatalf("%q: %d levels under metrics, want 3", m, n)
			}
		}
	}
	if got := MetricFile(dataDir, nil); got != dataDir+"/rrd/metrics/_.rrd" {
		t.Errorf("empty metric path: %s", got)
	}
}

func FuzzSafeElem(f *testing.F) {
	for _, s := range nasty {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := SafeElem(s)
		checkSafe(t, e)
		if SafeElem(e) != e {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, e, SafeElem(e))
		}
	})
}
