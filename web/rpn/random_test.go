package rpn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestRandomExpressionsRunInLibrrd: random expressions over the whole
// vocabulary, built to often be valid; every one the validator accepts runs
// in librrd (in this process, as in a render worker) without an error or a
// crash. The byte-level fuzzer rarely builds long valid ones; this does.
func TestRandomExpressionsRunInLibrrd(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	var opNames []string
	for n := range ops {
		opNames = append(opNames, n)
	}
	slices.Sort(opNames)
	literals := []string{"0", "1", "2", "3", "4", "-1", "-7", "0.5", "50", "95", "100", "600", "1800", "86400", "1e3"}
	names := []string{"a", "b", "c", "PREV(a)", "PREV(c)"}
	n, ok := 40000, 0
	used := map[string]bool{}
	if testing.Short() {
		n = 4000
	}
	for range n {
		var toks []string
		depth := 0
		for range 2 + r.IntN(25) {
			switch k := r.IntN(10); {
			case k < 3 || depth == 0:
				toks = append(toks, names[r.IntN(len(names))])
				depth++
			case k < 5:
				toks = append(toks, literals[r.IntN(len(literals))])
				depth++
			default:
				toks = append(toks, opNames[r.IntN(len(opNames))])
				depth = max(depth-1, 0)
			}
		}
		for ; depth > 1; depth-- {
			toks = append(toks, []string{"+", "MAXNAN", "ADDNAN", "ATAN2"}[r.IntN(4)])
		}
		expr := strings.Join(toks, ",")
		out, err := Compile(expr, bind3)
		if err != nil {
			continue
		}
		ok++
		for _, tok := range toks {
			if _, isOp := ops[tok]; isOp {
				used[tok] = true
			}
		}
		if err := librrd(out); err != nil && !runtimeOnly(err) {
			t.Errorf("Compile(%q) = %q, which librrd refuses: %v", expr, out, err)
		}
	}
	t.Logf("%d of %d random expressions accepted and run, using %d of %d operators", ok, n, len(used), len(ops))
	if ok < n/20 || !testing.Short() && len(used) < len(ops)*3/4 {
		t.Fatalf("only %d of %d accepted, %d operators used: the generator no longer tests much", ok, n, len(used))
	}
}
