package store

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// File names come from untrusted input (syslog hosts and tags, Kinesis
// metric names). Every element is reduced to a readable name that cannot
// climb out of its directory, hide as a special name, or smuggle control
// bytes or librrd argument separators (':') into graph commands.

// MaxElemLen bounds one sanitized path element, in bytes (".rrd" and the
// file system's 255 still fit).
const MaxElemLen = 100

// SafeElem maps an untrusted string to one safe path element: letters and
// digits (any script), and - _ . @ + , = ~ are kept; everything else,
// including '/', '\\', ':', spaces, control characters and invalid UTF-8,
// becomes '_'. "", "." and ".." become "_". Distinct inputs may map to the
// same element.
func SafeElem(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !keepRune(r, n) {
			r, n = '_', 1
		}
		if b.Len()+n > MaxElemLen {
			break
		}
		b.WriteRune(r)
	}
	out := b.String()
	switch out {
	case "", ".", "..":
		return "_"
	}
	return out
}

func keepRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n <= 1: // invalid byte
		return false
	case r < utf8.RuneSelf:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("-_.@+,=~", r)
	default:
		return unicode.IsLetter(r) || unicode.IsDigit(r)
	}
}

// SafePath sanitizes every element of an untrusted path.
func SafePath(elems ...string) []string {
	out := make([]string, len(elems))
	for i, e := range elems {
		out[i] = SafeElem(e)
	}
	return out
}

// The file layout under data_dir (SPEC §4): tracelog files are
// rrd/tracelog/<host>/<customer>/<instance>.rrd, metric files
// rrd/metrics/<path...>.rrd. TracelogFile and MetricFile build the names
// the writer uses; TracelogFiles reads the tracelog tree back.

// TracelogRoot is the directory of the tracelog files under dataDir.
func TracelogRoot(dataDir string) string { return filepath.Join(dataDir, "rrd", "tracelog") }

// MetricsRoot is the directory of the metric files under dataDir.
func MetricsRoot(dataDir string) string { return filepath.Join(dataDir, "rrd", "metrics") }

// TracelogFile is rrd/tracelog/<host>/<customer>/<instance>.rrd under
// dataDir.
func TracelogFile(dataDir string, k Key) string {
	return filepath.Join(TracelogRoot(dataDir), SafeElem(k.Host), SafeElem(k.Customer), SafeElem(k.Instance)+".rrd")
}

// MetricFile is rrd/metrics/<path...>.rrd under dataDir; an empty path is
// "_".
func MetricFile(dataDir string, path []string) string {
	if len(path) == 0 {
		path = []string{""}
	}
	elems := append([]string{MetricsRoot(dataDir)}, SafePath(path...)...)
	elems[len(elems)-1] += ".rrd"
	return filepath.Join(elems...)
}
