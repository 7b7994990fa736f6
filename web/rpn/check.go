package rpn

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// kind is what a token turned out to be.
type kind int

const (
	kNumber kind = iota + 1
	kName
	kPrev // PREV(name)
	kOp
)

type token struct {
	kind  kind
	out   string  // as emitted
	num   float64 // kNumber
	whole bool    // kNumber: written without fraction or exponent
}

type checker struct {
	toks      []string
	offsets   []int
	lookup    func(string) (string, bool)
	bound     map[string]string // for the "not bound" message; nil in Check
	canonical bool              // numbers must already be canonical (Check)

	parsed []token
}

func (c *checker) fail(i int, format string, args ...any) *Error {
	return &Error{Index: i + 1, Offset: c.offsets[i], Token: c.toks[i], Reason: fmt.Sprintf(format, args...)}
}

func (c *checker) run() ([]string, error) {
	c.parsed = make([]token, len(c.toks))
	depth, names := 0, 0
	for i, t := range c.toks {
		tk, err := c.classify(i, t)
		if err != nil {
			return nil, err
		}
		c.parsed[i] = tk
		switch tk.kind {
		case kNumber:
			depth++
		case kName, kPrev:
			depth++
			names++
		case kOp:
			if depth, err = c.apply(i, t, depth); err != nil {
				return nil, err
			}
		}
		if depth > MaxDepth {
			return nil, c.fail(i, "the stack would hold more than %d values", MaxDepth)
		}
	}
	last := len(c.toks) - 1
	switch {
	case names == 0:
		return nil, &Error{Reason: "uses no series; name at least one (a, b, …)"}
	case depth != 1:
		return nil, &Error{Reason: fmt.Sprintf("leaves %d values on the stack; it must leave exactly 1", depth)}
	case c.parsed[last].kind == kNumber:
		return nil, c.fail(last, "an expression cannot end with a number (rrdtool refuses it)")
	}
	out := make([]string, len(c.parsed))
	for i, tk := range c.parsed {
		out[i] = tk.out
	}
	return out, nil
}

// classify checks the characters of a token and says what it is.
func (c *checker) classify(i int, t string) (token, error) {
	if t == "" {
		return token{}, c.fail(i, "empty token (two commas in a row, or a comma at the start or end)")
	}
	for j := 0; j < len(t); j++ {
		switch b := t[j]; {
		case b == '\n' || b == '\r':
			return token{}, c.fail(i, "contains a line break")
		case b == ' ' || b == '\t' || b == '\v' || b == '\f':
			return token{}, c.fail(i, "contains whitespace")
		case b < 0x20 || b == 0x7f:
			return token{}, c.fail(i, "contains a control character")
		case b >= 0x80:
			return token{}, c.fail(i, "contains a non-ASCII character")
		case b == ':':
			return token{}, c.fail(i, "contains ':', which separates rrd graph statements")
		case !isAlnum(b) && !strings.ContainsRune(safeChars, rune(b)):
			return token{}, c.fail(i, "contains %q, which has no place in an expression", string(b))
		}
	}
	if n, ok, reason := parseNumber(t); ok {
		if reason != "" {
			return token{}, c.fail(i, "%s", reason)
		}
		if c.canonical && n.out != t {
			return token{}, c.fail(i, "number not in canonical form %q", n.out)
		}
		return n, nil
	}
	if _, ok := ops[t]; ok {
		return token{kind: kOp, out: t}, nil
	}
	if r, ok := refused[t]; ok {
		return token{}, c.fail(i, "%s", r)
	}
	if inner, ok := strings.CutPrefix(t, "PREV("); ok {
		inner, ok = strings.CutSuffix(inner, ")")
		if v, bound := c.lookup(inner); ok && bound {
			return token{kind: kPrev, out: "PREV(" + v + ")"}, nil
		}
		if ok && identRE.MatchString(inner) {
			return token{}, c.fail(i, "%s", c.unbound(inner))
		}
		return token{}, c.fail(i, "PREV(name) needs a bound name, e.g. PREV(a)")
	}
	if v, ok := c.lookup(t); ok {
		return token{kind: kName, out: v}, nil
	}
	upper := strings.ToUpper(t)
	_, isOp := ops[upper]
	switch {
	case t != upper && (isOp || refused[upper] != ""):
		return token{}, c.fail(i, "operators are upper case: %s", upper)
	case identRE.MatchString(t):
		return token{}, c.fail(i, "%s", c.unbound(t))
	case commands[strings.TrimRight(upper, "0123456789")]:
		return token{}, c.fail(i, "rrd graph statements (DEF, CDEF, LINE, PRINT, …) are not allowed")
	case vdefOnly[upper]:
		return token{}, c.fail(i, "%s is a VDEF function; a chart expression works value by value", upper)
	case strings.Contains(t, "/") || strings.Contains(t, "..") || strings.Contains(strings.ToLower(t), ".rrd"):
		return token{}, c.fail(i, "file names are not allowed; use the names of chosen series (a, b, …)")
	case isWord(t):
		return token{}, c.fail(i, "unknown operator or name (operators: see rrdgraph_rpn; names: a, b, …)")
	}
	return token{}, c.fail(i, "not a number, a bound name or an RRD RPN operator")
}

func (c *checker) unbound(name string) string {
	if c.bound == nil {
		return fmt.Sprintf("name %q is not defined", name)
	}
	have := make([]string, 0, len(c.bound))
	for k := range c.bound {
		have = append(have, k)
	}
	sort.Strings(have)
	if len(have) == 0 {
		return fmt.Sprintf("name %q is not bound to a series (no series chosen)", name)
	}
	if len(have) > 8 {
		have = append(have[:8], "…")
	}
	return fmt.Sprintf("name %q is not bound to a series (have %s)", name, strings.Join(have, ", "))
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' {
			return false
		}
	}
	return s != ""
}

// parseNumber reads a number literal. ok says whether t has the shape of
// a number at all; reason, when set, says why this one is refused.
func parseNumber(t string) (tk token, ok bool, reason string) {
	s := t
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	mant, exp, hasExp := s, "", false
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		mant, exp, hasExp = s[:k], s[k+1:], true
	}
	intp, frac, _ := strings.Cut(mant, ".")
	expNeg := false
	if exp != "" && (exp[0] == '+' || exp[0] == '-') {
		expNeg, exp = exp[0] == '-', exp[1:]
	}
	if !digits(intp) || !digits(frac) || intp == "" && frac == "" || strings.Count(mant, ".") > 1 ||
		hasExp && (exp == "" || !digits(exp)) {
		return token{}, false, ""
	}
	if len(t) > maxNumber {
		return token{}, true, fmt.Sprintf("number longer than %d characters", maxNumber)
	}
	intp = strings.TrimLeft(intp, "0")
	frac = strings.TrimRight(frac, "0")
	exp = strings.TrimLeft(exp, "0")
	if len(intp) > 15 || len(frac) > 15 || len(exp) > 3 {
		return token{}, true, "number has more than 15 digits before or after the point, or 3 in the exponent"
	}
	if intp == "" {
		intp = "0"
	}
	if intp == "0" && frac == "" {
		return token{kind: kNumber, out: "0", whole: true}, true, ""
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(intp)
	if frac != "" {
		b.WriteString("." + frac)
	}
	if exp != "" {
		b.WriteByte('e')
		if expNeg {
			b.WriteByte('-')
		}
		b.WriteString(exp)
	}
	out := b.String()
	v, err := strconv.ParseFloat(out, 64)
	if err != nil || math.IsInf(v, 0) {
		return token{}, true, "number out of range"
	}
	return token{kind: kNumber, out: out, num: v, whole: frac == "" && exp == ""}, true, ""
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
