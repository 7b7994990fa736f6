package web

import (
	"net/url"
	"strings"
)

// localPath returns p if it is safe as the target of the redirect after
// login, else "". Safe means a path on this site as a browser will read
// it: browsers strip tabs and newlines anywhere in a URL and leading and
// trailing spaces and control bytes, and read `\` as `/`, so
// "/\t/evil.example" and "/\evil.example" lead to another site just like
// "//evil.example". p must start with exactly one "/" after that
// normalisation, must hold no control byte or backslash at all, and so
// must the path part of every percent-decoding of it (in case a proxy or a
// later redirect decodes "/%2F/evil.example" or "/%252F/evil.example" once
// more).
func localPath(p string) string {
	if p == "" || len(p) > 2048 || !singleSlash(p) {
		return ""
	}
	s := p
	for range 4 {
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			return p // nothing more to decode
		}
		if !singleSlash(d) {
			return ""
		}
		s = d
	}
	return "" // still encoded after four decodings: no link of ours is
}

// singleSlash reports whether s, normalised as a browser would, starts with
// "/" not followed by another "/" (or "\"), and s has no byte a browser
// would drop or rewrite.
func singleSlash(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	return len(s) > 0 && s[0] == '/' && (len(s) == 1 || s[1] != '/')
}
