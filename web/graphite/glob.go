package graphite

import (
	"fmt"
	"strings"
)

// maxAlternatives bounds how many plain patterns one element's {a,b}
// alternatives expand to.
const maxAlternatives = 256

// glob matches one path element: '*' any run, '?' one character,
// "[a-z]" and "[!a-z]" classes, "{a,b}" alternatives (one level, as
// Graphite expands them).
type glob struct {
	literal string   // set when the element has no special character
	alts    []string // fnmatch patterns, after {…} expansion
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[{") }

func compileGlob(elem string) (*glob, error) {
	if !hasMeta(elem) {
		return &glob{literal: elem}, nil
	}
	alts, err := expandBraces(elem)
	if err != nil {
		return nil, err
	}
	for _, a := range alts {
		if err := checkClasses(a); err != nil {
			return nil, fmt.Errorf("pattern %q: %w", elem, err)
		}
	}
	return &glob{alts: alts}, nil
}

// expandBraces turns "a{b,c}d{e,f}" into abde, abdf, acde, acdf.
func expandBraces(s string) ([]string, error) {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return []string{s}, nil
	}
	j := strings.IndexByte(s[i:], '}')
	if j < 0 {
		return nil, fmt.Errorf("pattern %q: unbalanced '{'", s)
	}
	j += i
	if strings.IndexByte(s[i+1:j], '{') >= 0 {
		return nil, fmt.Errorf("pattern %q: nested '{'", s)
	}
	rest, err := expandBraces(s[j+1:])
	if err != nil {
		return nil, err
	}
	opts := strings.Split(s[i+1:j], ",")
	if len(opts)*len(rest) > maxAlternatives {
		return nil, fmt.Errorf("pattern %q: more than %d alternatives", s, maxAlternatives)
	}
	out := make([]string, 0, len(opts)*len(rest))
	for _, o := range opts {
		for _, r := range rest {
			out = append(out, s[:i]+o+r)
		}
	}
	return out, nil
}

func checkClasses(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] == '[' && strings.IndexByte(p[i+1:], ']') < 0 {
			return fmt.Errorf("unbalanced '['")
		}
	}
	return nil
}

func (g *glob) match(s string) bool {
	if g.alts == nil {
		return s == g.literal
	}
	for _, a := range g.alts {
		if fnmatch(a, s) {
			return true
		}
	}
	return false
}

// fnmatch matches s against p byte-wise with the usual star backtracking,
// so the cost is O(len(p)·len(s)) at worst.
func fnmatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				if n, ok := matchClass(p[pi:], s[si]); n > 0 {
					if ok {
						pi += n
						si++
						continue
					}
				} else if s[si] == '[' {
					pi++
					si++
					continue
				}
			default:
				if p[pi] == s[si] {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches c against the class at the start of p ("[…]");
// n is the class's length, 0 when p holds no complete class.
func matchClass(p string, c byte) (n int, ok bool) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return i + 1, ok != neg
		}
		first = false
		lo := p[i]
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			if lo <= c && c <= p[i+2] {
				ok = true
			}
			i += 3
			continue
		}
		if lo == c {
			ok = true
		}
		i++
	}
	return 0, false
}
