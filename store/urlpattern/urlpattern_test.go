package urlpattern

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestPattern(t *testing.T) {
	n, err := New([]Rule{
		{`^/users/[^/]+`, `/users/{user}`},
		{`\.(png|jpg|gif)$`, `.{img}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{"/", "/"},
		{"/index.html?x=1&y=2", "/index.html"},
		{"/a/123/b", "/a/{n}/b"},
		{"/a/123#frag", "/a/{n}"},
		{"/doc/0f3a9c11e2/edit", "/doc/{id}/edit"},
		{"/doc/deadbeef/edit", "/doc/deadbeef/edit"},
		{"/o/123e4567-e89b-12d3-a456-426614174000", "/o/{id}"},
		{"/users/alice/profile", "/users/{user}/profile"},
		{"/static/logo.png", "/static/logo.{img}"},
		{"/x\xff\x01y", "/x\uFFFD\uFFFDy"},
		{"/" + strings.Repeat("é", 1000), "/" + strings.Repeat("é", (MaxLen-1)/2)},
		{"http://host/1?", "http://host/{n}"},
	} {
		if got := n.Pattern(c.in); got != c.want {
			t.Errorf("Pattern(%.40q) = %.40q, want %.40q", c.in, got, c.want)
		}
	}
}

func TestBadRule(t *testing.T) {
	if _, err := New([]Rule{{`ok`, ``}, {`(`, ``}}); err == nil || !strings.Contains(err.Error(), "rule 2") {
		t.Errorf("err %v, want one naming rule 2", err)
	}
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"/a/1?b", "/\xff", "/o/123e4567-e89b-12d3-a456-426614174000", "", "?", "/users/x"} {
		f.Add(s)
	}
	n, err := New([]Rule{{`^/users/[^/]+`, `/users/{user}`}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := n.Pattern(s)
		if len(p) > MaxLen || !utf8.ValidString(p) || strings.ContainsAny(p, "?#") && !strings.ContainsAny(s, "?#") {
			t.Fatalf("Pattern(%q) = %q", s, p)
		}
		for _, r := range p {
			if unicode.IsControl(r) {
				t.Fatalf("Pattern(%q) = %q has a control character", s, p)
			}
		}
		if q := n.Pattern(s); q != p {
			t.Fatalf("Pattern(%q) not deterministic: %q, then %q", s, p, q)
		}
	})
}
