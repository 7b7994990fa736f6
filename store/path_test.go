package store

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSafeElem(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, c := range []struct{ in, want string }{
		{"app-8080", "app-8080"},
		{"zope1.example.net", "zope1.example.net"},
		{"", "%"},
		{".", "%2E"},
		{"..", "%2E."},
		{"...", "%2E.."},
		{".hidden", "%2Ehidden"},
		{"../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd"},
		{"/abs/path", "%2Fabs%2Fpath"},
		{`a\b`, "a%5Cb"},
		{"a\x00b", "a%00b"},
		{"line\nbreak\r\t", "line%0Abreak%0D%09"},
		{"del\x7f", "del%7F"},
		{"10.0.0.1:5514", "10.0.0.1%3A5514"},
		{"coll:x", "coll%3Ax"},
		{"coll_x", "coll_x"},
		{"50%", "50%25"},
		{"sp ace", "sp%20ace"},
		{"bad\xff\xfeutf8", "bad%FF%FEutf8"},
		{"café-münchen", "café-münchen"},
		{"日本語", "日本語"},
		{"rtl\u202eevil", "rtl%E2%80%AEevil"},
		{"user@host+x,y=z~", "user@host+x,y=z~"},
		{"$(rm -rf)", "%24%28rm%20-rf%29"},
		{strings.Repeat("x", 100), strings.Repeat("x", 100)},
	} {
		got := SafeElem(c.in)
		if got != c.want {
			t.Errorf("SafeElem(%q) = %q, want %q", c.in, got, c.want)
		}
		if back, ok := UnescapeElem(got); !ok || back != c.in {
			t.Errorf("UnescapeElem(%q) = %q, %v; want %q", got, back, ok, c.in)
		}
	}
	// Too long to keep whole: cut, marked and hashed, so still distinct.
	a, b := SafeElem(long), SafeElem(long+"y")
	if a == b || len(a) > MaxElemLen || !strings.HasPrefix(a, strings.Repeat("x", 50)) || !strings.Contains(a, hashMark) {
		t.Errorf("long names: %q, %q", a, b)
	}
	if _, ok := UnescapeElem(a); ok {
		t.Errorf("a cut element unescaped")
	}
	if e := SafeElem(strings.Repeat("é:", 60)); len(e) > MaxElemLen || !utf8.ValidString(e) {
		t.Errorf("cut in the middle of a rune or escape: %q", e)
	}
}

// TestOldSchemeNames: file names written before the reversible escape
// (issue 11), where unsafe bytes became '_', read back as themselves.
func TestOldSchemeNames(t *testing.T) {
	for _, old := range []string{"coll_x", "10.0.0.1_5514", "app-8080", "_", "a_b_c"} {
		if got := ShownElem(old); got != old {
			t.Errorf("ShownElem(%q) = %q", old, got)
		}
		if SafeElem(old) != old {
			t.Errorf("SafeElem(%q) = %q: the old file would no longer be written", old, SafeElem(old))
		}
	}
}

func TestShownElem(t *testing.T) {
	for _, c := range []struct{ elem, want string }{
		{"coll%3Ax", "coll:x"},
		{"%2Ehidden", ".hidden"},
		{"a%2Fb", "a%2Fb"},     // a slash would split a series name
		{"50%25", "50%25"},     // decoded, it could read like another element
		{"a%00b", "a%00b"},     // not printable
		{"a%3a", "a%3a"},       // not SafeElem's (lower-case hex)
		{"%", "%"},             // the empty name
		{"x%+0123", "x%+0123"}, // cut
	} {
		if got := ShownElem(c.elem); got != c.want {
			t.Errorf("ShownElem(%q) = %q, want %q", c.elem, got, c.want)
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
	if got := MetricFile(dataDir, nil); got != dataDir+"/rrd/metrics/%.rrd" {
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
		back, ok := UnescapeElem(e)
		if ok && back != s || !ok && !strings.Contains(e, hashMark) {
			t.Fatalf("not reversible: %q -> %q -> %q, %v", s, e, back, ok)
		}
		// Shown names never collide with the shown name of another element.
		if sh := ShownElem(e); sh != e && (SafeElem(sh) != e || strings.Contains(sh, "%")) {
			t.Fatalf("shown %q for %q", sh, e)
		}
	})
}

// FuzzUnescapeElem: file names on disk are read back by the UI; whatever
// they are, a name that unescapes escapes to itself again.
func FuzzUnescapeElem(f *testing.F) {
	for _, s := range []string{"coll%3Ax", "%", "%2E.", "a%2", "a%zz", "x%+0123456789abcdef", "%25%25", "coll_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, e string) {
		if s, ok := UnescapeElem(e); ok && SafeElem(s) != e {
			t.Fatalf("%q unescaped to %q, which escapes to %q", e, s, SafeElem(s))
		}
		ShownElem(e)
	})
}
