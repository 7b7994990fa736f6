package store

import (
	"encoding/hex"
	"hash/fnv"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// File names come from untrusted input (syslog hosts and tags, Kinesis
// metric names). Every element is escaped reversibly (issue 11): letters
// and digits of any script and - _ . @ + , = ~ stay as they are, every
// other byte becomes %XX (upper-case hex), and so does a leading '.'. So
// an element cannot climb out of its directory, hide as a dot file, or
// smuggle control bytes or librrd argument separators (':') into graph
// commands, and two different names never share a file: "coll:x" is
// coll%3Ax, "coll_x" is coll_x.
//
// Files written before this scheme (issue 11), where every byte outside
// the kept set became '_', keep working: their names hold no '%', so they
// read back as themselves, and the names that never needed escaping
// (almost all of them) map to the same files as before. A name that did
// need it (one with ':' or a space, say) starts a new file; the old one
// stays listed under its old name.

// MaxElemLen bounds one escaped path element, in bytes (".rrd" and the
// file system's 255 still fit).
const MaxElemLen = 100

// Escaped elements longer than MaxElemLen are cut and end in "%+" and a
// hash of the whole name: still distinct, no longer reversible ('%' is
// otherwise always followed by two hex digits, so the mark is unambiguous).
const (
	hashMark = "%+"
	hashLen  = 16
)

// emptyElem stands for the empty name ('%' alone decodes to nothing else).
const emptyElem = "%"

// SafeElem escapes an untrusted string into one path element (see above).
func SafeElem(s string) string {
	if s == "" {
		return emptyElem
	}
	if plainElem(s) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if keepRune(r, n) && (i > 0 || r != '.') {
			b.WriteString(s[i : i+n])
		} else {
			for _, c := range []byte(s[i : i+n]) {
				b.WriteByte('%')
				b.WriteString(upperHex[c>>4 : c>>4+1])
				b.WriteString(upperHex[c&15 : c&15+1])
			}
		}
		i += n
	}
	out := b.String()
	if len(out) > MaxElemLen {
		out = cutElem(out, s)
	}
	return out
}

const upperHex = "0123456789ABCDEF"

// plainElem reports whether s needs no escape and no cut.
func plainElem(s string) bool {
	if len(s) > MaxElemLen || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false // decide rune by rune in the slow path
		}
		if !keepRune(rune(c), 1) {
			return false
		}
	}
	return true
}

// cutElem shortens an escaped element to MaxElemLen: a prefix that ends
// on a whole rune or escape, then the hash mark and a hash of the name.
func cutElem(esc, orig string) string {
	h := fnv.New64a()
	h.Write([]byte(orig))
	sum := hex.EncodeToString(h.Sum(nil))
	n := MaxElemLen - len(hashMark) - hashLen
	for n > 0 && !utf8.RuneStart(esc[n]) {
		n--
	}
	if i := strings.LastIndexByte(esc[max(n-2, 0):n], '%'); i >= 0 {
		n = max(n-2, 0) + i // do not split an escape
	}
	return esc[:n] + hashMark + sum
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

// UnescapeElem returns the name an element was made from by SafeElem. It
// fails for an element SafeElem cannot have made (a cut one, or a stray
// '%'); names of the old scheme, which hold no '%', are themselves.
func UnescapeElem(e string) (string, bool) {
	if e == emptyElem {
		return "", true
	}
	if !strings.Contains(e, "%") {
		return e, e != "" && SafeElem(e) == e
	}
	b := make([]byte, 0, len(e))
	for i := 0; i < len(e); i++ {
		if e[i] != '%' {
			b = append(b, e[i])
			continue
		}
		if i+2 >= len(e) || unhex(e[i+1]) < 0 || unhex(e[i+2]) < 0 {
			return "", false
		}
		b = append(b, byte(unhex(e[i+1])<<4|unhex(e[i+2])))
		i += 2
	}
	s := string(b)
	if SafeElem(s) != e {
		return "", false // not canonical: some other tool's name
	}
	return s, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ShownElem is the name the UI shows for a file element: the original
// name, when it reads unambiguously (printable UTF-8 without '/', '\\' or
// '%'), else the element as it is on disk. Two elements never show alike:
// a shown name with '%' is always an element that was not decoded.
func ShownElem(e string) string {
	s, ok := UnescapeElem(e)
	if !ok || s == "" || !utf8.ValidString(s) || strings.ContainsAny(s, "/\\%") {
		return e
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return e
		}
	}
	return s
}

// SafePath escapes every element of an untrusted path.
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
// one empty element.
func MetricFile(dataDir string, path []string) string {
	if len(path) == 0 {
		path = []string{""}
	}
	elems := append([]string{MetricsRoot(dataDir)}, SafePath(path...)...)
	elems[len(elems)-1] += ".rrd"
	return filepath.Join(elems...)
}

// InstanceDir is an instance's directory under root:
// <root>/<host>/<customer>/<instance>, each element escaped (SafeElem).
func InstanceDir(root string, k Key) string {
	p := SafePath(k.Host, k.Customer, k.Instance)
	return filepath.Join(root, p[0], p[1], p[2])
}
