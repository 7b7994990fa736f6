package rpn

import (
	"errors"
	"strings"
	"testing"
)

func FuzzCompile(f *testing.F) {
	for _, c := range accepted {
		f.Add(c.in)
	}
	for _, c := range refusedCases {
		f.Add(c.in)
	}
	for _, s := range []string{"a,b,c,3,INDEX,2,COPY,4,REV,5,SORT,3,SMIN,2,SMAX,+", "a,b,-1,SORT", "a,1,COPY,1,COPY,+,+",
		"a,b,c,1,100,3,PERCENT", "PREV(a),PREV(b),PREV(c),3,MEDIAN", "a,999999999999999,TREND", "86400,1,86400,a,PREDICT"} {
		f.Add(s)
	}
	identity := map[string]string{"s0": "s0", "s1": "s1", "s2": "s2"}
	defined := func(v string) bool { return identity[v] != "" }
	f.Fuzz(func(t *testing.T, expr string) {
		out, err := Compile(expr, bind3)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) || out != "" {
				t.Fatalf("Compile(%q) = %q, %v: not a clean *Error", expr, out, err)
			}
			if e.Index > 0 && (e.Offset+len(e.Token) > len(expr) || expr[e.Offset:e.Offset+len(e.Token)] != e.Token ||
				strings.Contains(e.Token, ",")) {
				t.Fatalf("Compile(%q): error names token %d %q at %d, not in the input", expr, e.Index, e.Token, e.Offset)
			}
			return
		}
		for i := 0; i < len(out); i++ {
			if b := out[i]; !isAlnum(b) && !strings.ContainsRune(safeChars+",", rune(b)) {
				t.Fatalf("Compile(%q) = %q: unsafe byte %q", expr, out, b)
			}
		}
		toks := strings.Split(out, ",")
		for _, tok := range toks {
			inner, _ := strings.CutPrefix(tok, "PREV(")
			inner, _ = strings.CutSuffix(inner, ")")
			_, isOp := ops[tok]
			n, isNum, _ := parseNumber(tok)
			if !isOp && !(isNum && n.out == tok) && !defined(inner) {
				t.Fatalf("Compile(%q) = %q: token %q is not an operator, canonical number or bound vname", expr, out, tok)
			}
		}
		if err := Check(toks, defined); err != nil {
			t.Fatalf("Compile(%q) = %q, which Check refuses: %v", expr, out, err)
		}
		if again, err := Compile(out, identity); err != nil || again != out {
			t.Fatalf("Compile(%q) = %q, not a fixed point: %q, %v", expr, out, again, err)
		}
		if err := librrd(out); err != nil && !runtimeOnly(err) {
			t.Fatalf("Compile(%q) = %q, which librrd refuses: %v", expr, out, err)
		}
	})
}
