package graphite

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is what an expression node is.
type Kind int

// Expression kinds.
const (
	KindPath Kind = iota
	KindCall
	KindString
	KindNumber
	KindBool
	KindNone
)

// Bounds on what one target may hold.
const (
	maxTargetLen = 8 << 10
	maxDepth     = 32
	maxArgs      = 200
)

// Expr is one parsed target or argument.
type Expr struct {
	Kind   Kind
	Str    string  // path text, string value, or function name
	Num    float64 // KindNumber
	Bool   bool    // KindBool
	Args   []*Expr // KindCall, positional
	Kwargs []Kwarg // KindCall, in written order
	Raw    string  // the text this node was parsed from (numbers keep their spelling)
}

// Kwarg is one name=value argument.
type Kwarg struct {
	Name  string
	Value *Expr
}

// ParseError says where a target stopped making sense.
type ParseError struct {
	Target string
	Pos    int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid target %q at character %d: %s", e.Target, e.Pos+1, e.Msg)
}

// Parse parses one target expression.
func Parse(target string) (*Expr, error) {
	if len(target) > maxTargetLen {
		return nil, &ParseError{Target: target[:64] + "…", Msg: fmt.Sprintf("longer than %d bytes", maxTargetLen)}
	}
	p := &parser{s: target}
	p.space()
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errf("unexpected %q", p.s[p.i:])
	}
	return e, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) errf(format string, args ...any) error {
	return &ParseError{Target: p.s, Pos: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) expr(depth int) (*Expr, error) {
	if depth > maxDepth {
		return nil, p.errf("nested deeper than %d", maxDepth)
	}
	start := p.i
	switch c := p.peek(); {
	case c == 0:
		return nil, p.errf("expression expected")
	case c == '\'' || c == '"':
		s, err := p.quoted(c)
		if err != nil {
			return nil, err
		}
		return &Expr{Kind: KindString, Str: s, Raw: p.s[start:p.i]}, nil
	}
	if n, ok := p.number(); ok {
		return n, nil
	}
	// An identifier followed by '(' is a call; true/false/none are literals.
	j := p.i
	for j < len(p.s) && isIdent(p.s[j], j == p.i) {
		j++
	}
	if j > p.i && j < len(p.s) && p.s[j] == '(' {
		return p.call(p.s[p.i:j], j, depth)
	}
	if j > p.i && p.delimAt(j) {
		switch word := strings.ToLower(p.s[p.i:j]); word {
		case "true", "false":
			p.i = j
			return &Expr{Kind: KindBool, Bool: word == "true", Raw: p.s[start:j]}, nil
		case "none":
			p.i = j
			return &Expr{Kind: KindNone, Raw: p.s[start:j]}, nil
		}
	}
	return p.path()
}

// delimAt reports whether a value may end at j.
func (p *parser) delimAt(j int) bool {
	if j >= len(p.s) {
		return true
	}
	switch p.s[j] {
	case ',', ')', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func isIdent(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// number reads an integer or float literal, if one ends at a delimiter
// (1abc.def is a path).
func (p *parser) number() (*Expr, bool) {
	j := p.i
	if j < len(p.s) && (p.s[j] == '-' || p.s[j] == '+') {
		j++
	}
	digits := 0
	for j < len(p.s) && ('0' <= p.s[j] && p.s[j] <= '9' || p.s[j] == '.') {
		if p.s[j] != '.' {
			digits++
		}
		j++
	}
	if digits == 0 {
		return nil, false
	}
	if j < len(p.s) && (p.s[j] == 'e' || p.s[j] == 'E') {
		k := j + 1
		if k < len(p.s) && (p.s[k] == '-' || p.s[k] == '+') {
			k++
		}
		if k < len(p.s) && '0' <= p.s[k] && p.s[k] <= '9' {
			for k < len(p.s) && '0' <= p.s[k] && p.s[k] <= '9' {
				k++
			}
			j = k
		}
	}
	if !p.delimAt(j) {
		return nil, false
	}
	v, err := strconv.ParseFloat(p.s[p.i:j], 64)
	if err != nil {
		return nil, false
	}
	e := &Expr{Kind: KindNumber, Num: v, Raw: p.s[p.i:j]}
	p.i = j
	return e, true
}

func (p *parser) quoted(q byte) (string, error) {
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			// As graphite-web's grammar: a backslash keeps the next
			// character from ending the string, and both are kept.
			b.WriteString(p.s[p.i : p.i+2])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	p.i = start
	return "", p.errf("unterminated string")
}

func (p *parser) call(name string, open, depth int) (*Expr, error) {
	start := p.i
	p.i = open + 1
	e := &Expr{Kind: KindCall, Str: name}
	p.space()
	if p.peek() == ')' {
		p.i++
		e.Raw = p.s[start:p.i]
		return e, nil
	}
	for {
		p.space()
		if len(e.Args)+len(e.Kwargs) >= maxArgs {
			return nil, p.errf("more than %d arguments", maxArgs)
		}
		// name=value
		j := p.i
		for j < len(p.s) && isIdent(p.s[j], j == p.i) {
			j++
		}
		if j > p.i && j < len(p.s) && p.s[j] == '=' {
			key := p.s[p.i:j]
			p.i = j + 1
			p.space()
			v, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			e.Kwargs = append(e.Kwargs, Kwarg{Name: key, Value: v})
		} else {
			if len(e.Kwargs) > 0 {
				return nil, p.errf("positional argument after keyword argument")
			}
			a, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			e.Args = append(e.Args, a)
		}
		p.space()
		switch p.peek() {
		case ',':
			p.i++
		case ')':
			p.i++
			e.Raw = p.s[start:p.i]
			return e, nil
		default:
			return nil, p.errf("',' or ')' expected in call of %s", name)
		}
	}
}

// path reads a metric path pattern: elements separated by dots, with
// globs, {a,b} alternatives (commas allowed inside) and [...] classes.
func (p *parser) path() (*Expr, error) {
	start := p.i
	braces, brackets := 0, 0
loop:
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '{':
			braces++
		case c == '}':
			if braces == 0 {
				return nil, p.errf("unbalanced '}'")
			}
			braces--
		case c == '[':
			brackets++
		case c == ']':
			if brackets > 0 {
				brackets--
			}
		case c == ',' && braces > 0:
		case c == ',' || c == ')' || c == '(' || c == '=' || c == '\'' || c == '"' || c == '\\' ||
			c == ' ' || c == '\t' || c == '\n' || c == '\r':
			break loop
		case c < 0x20 || c == 0x7f:
			return nil, p.errf("control character in path")
		}
		p.i++
	}
	if braces > 0 {
		return nil, p.errf("unbalanced '{'")
	}
	if p.i == start {
		return nil, p.errf("expression expected")
	}
	s := p.s[start:p.i]
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return nil, &ParseError{Target: p.s, Pos: start, Msg: fmt.Sprintf("empty element in path %q", s)}
	}
	return &Expr{Kind: KindPath, Str: s, Raw: s}, nil
}

// Paths appends every path pattern in e, depth first.
func (e *Expr) Paths(out []string) []string {
	switch e.Kind {
	case KindPath:
		out = append(out, e.Str)
	case KindCall:
		for _, a := range e.Args {
			out = a.Paths(out)
		}
		for _, k := range e.Kwargs {
			out = k.Value.Paths(out)
		}
	}
	return out
}
