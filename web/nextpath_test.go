package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzLocalPath: whatever localPath accepts is a path of this site to a
// browser and to Go's URL parser, and so is each decoding of its path.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/pages", "//x", "/\\x", "/\t/x", "/%09/x", "/%2F/x", "/%252f/x", "https:x",
		"\\\\x", "/u/a/b?q=a%2Fb#c", "/%zz", "/%", "/x%2", " /x", "/%E2%80%AE/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p)
		if got == "" {
			return
		}
		if got != p {
			t.Fatalf("localPath(%q) = %q: it must return its input or nothing", p, got)
		}
		s := p
		for range 5 {
			// As a browser reads it: tabs and newlines dropped, \ as /.
			b := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(strings.Trim(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
			if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") {
				t.Fatalf("localPath accepted %q, which reads as %q", p, b)
			}
			u, err := url.Parse(s)
			if err == nil && (u.Scheme != "" || u.Host != "") {
				t.Fatalf("localPath accepted %q: scheme %q host %q", p, u.Scheme, u.Host)
			}
			if i := strings.IndexAny(s, "?#"); i >= 0 {
				s = s[:i]
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				return
			}
			s = d
		}
	})
}
