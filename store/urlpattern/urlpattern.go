// Package urlpattern reduces request URLs to patterns for the URL
// statistics of issue 12: the query string (and fragment) is dropped, path
// segments that are numbers become {n}, hex ids and UUIDs become {id},
// then ordered regex → replacement rules ([tracelog.urls] rewrite) apply
// to what is left. Input is untrusted bytes: the result is valid UTF-8,
// without control characters, and at most MaxLen bytes.
package urlpattern

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds a pattern (bytes); a longer one is cut at a rune boundary.
const MaxLen = 512

// Rule is one rewrite rule: every match of Regex becomes Replacement
// (regexp.ReplaceAllString: $1 and ${name} refer to groups).
type Rule struct {
	Regex, Replacement string
}

// Normalizer turns URLs into patterns. It is safe for concurrent use.
type Normalizer struct {
	rules []compiled
}

type compiled struct {
	re   *regexp.Regexp
	repl string
}

// New compiles the rules, in order; the error names the bad rule.
func New(rules []Rule) (*Normalizer, error) {
	n := &Normalizer{}
	for i, r := range rules {
		re, err := regexp.Compile(r.Regex)
		if err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
		n.rules = append(n.rules, compiled{re, r.Replacement})
	}
	return n, nil
}

// Pattern returns the pattern of url (the path of a B record's data, as
// sent: "/a/123?x=1").
func (n *Normalizer) Pattern(url string) string {
	return n.Rewrite(string(AppendSegments(nil, []byte(url))))
}

// AppendSegments appends to dst the first step of Pattern: url without its
// query and fragment, its number segments replaced by {n}, hex ids and
// UUIDs by {id}. It does not allocate beyond dst, so a hot path can look
// its result up in a cache of Rewrite's (it has far fewer distinct values
// than URLs have).
func AppendSegments(dst, url []byte) []byte {
	for i, c := range url {
		if c == '?' || c == '#' {
			url = url[:i]
			break
		}
	}
	start := 0
	for i := 0; i <= len(url); i++ {
		if i < len(url) && url[i] != '/' {
			continue
		}
		seg := url[start:i]
		switch {
		case isNumber(seg):
			dst = append(dst, "{n}"...)
		case isUUID(seg) || isHexID(seg):
			dst = append(dst, "{id}"...)
		default:
			dst = append(dst, seg...)
		}
		if i < len(url) {
			dst = append(dst, '/')
		}
		start = i + 1
	}
	return dst
}

// Rewrite is the second step of Pattern: it makes AppendSegments' result
// safe (valid UTF-8, no control characters), applies the rules in order
// and cuts the result to MaxLen bytes.
func (n *Normalizer) Rewrite(p string) string {
	p = clean(p)
	for _, r := range n.rules {
		p = r.re.ReplaceAllString(p, r.repl)
	}
	return cut(clean(p), MaxLen)
}

// clean makes text safe to show and store: invalid UTF-8 and control
// characters become U+FFFD.
func clean(s string) string {
	ok := utf8.ValidString(s)
	for _, r := range s {
		if unicode.IsControl(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isNumber[S ~string | ~[]byte](s S) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isHexID: at least 8 hex digits, one of them a decimal digit (so words
// like "deadbeef" or "facade" stay).
func isHexID[S ~string | ~[]byte](s S) bool {
	if len(s) < 8 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
		digit = digit || s[i] <= '9'
	}
	return digit
}

// isUUID: 8-4-4-4-12 hex digits.
func isUUID[S ~string | ~[]byte](s S) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// Clean makes a stored pattern safe again (valid UTF-8, no control
// characters, at most MaxLen bytes), for patterns read back from a file.
func Clean(p string) string { return cut(clean(p), MaxLen) }
