package graphite

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Derived tracelog series (SPEC §3): computed from the stored data
// sources of the same file and row, never stored.
const (
	derivedNone = iota
	derivedRPM
	derivedEPM
	derivedMaxRPM
	derivedAppMean
	derivedP50 // app-time percentiles from the histogram store (issue 13)
	derivedP95
	derivedP99
)

var derivedNames = []struct {
	name string
	kind int
}{{"rpm", derivedRPM}, {"epm", derivedEPM}, {"maxrpm", derivedMaxRPM}, {"app_mean", derivedAppMean},
	{"p50", derivedP50}, {"p95", derivedP95}, {"p99", derivedP99}}

// EscapeElem writes one path element so that it is a single element of a
// Graphite name: letters and digits of any script and "-_@+~:#$!&;<>|^`"
// stay, every other byte becomes %XX ("." is %2E, "%" is %25). The escape
// is reversible, so two files never share a name.
func EscapeElem(s string) string {
	clean := true
	for _, r := range s {
		if !keepName(r) {
			clean = false
			break
		}
	}
	if clean && s != "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if keepName(r) && !(r == utf8.RuneError && n <= 1) {
			b.WriteString(s[i : i+n])
		} else {
			for k := i; k < i+n; k++ {
				b.WriteByte('%')
				b.WriteByte("0123456789ABCDEF"[s[k]>>4])
				b.WriteByte("0123456789ABCDEF"[s[k]&15])
			}
		}
		i += n
	}
	return b.String()
}

// UnescapeElem reverses EscapeElem.
func UnescapeElem(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b.WriteByte(h<<4 | l)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func keepName(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("-_@+~:#$!&;<>|^`", r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// graphiteName turns a series index name ("a/b.c/d") into a Graphite name
// ("a.b%2Ec.d").
func graphiteName(slashed string) string {
	elems := strings.Split(slashed, "/")
	for i, e := range elems {
		elems[i] = EscapeElem(e)
	}
	return strings.Join(elems, ".")
}
