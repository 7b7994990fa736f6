package rpn

import (
	"encoding/json"
	"math"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// pair is a smallest valid use of an operator and the same with one value
// too few on the stack.
type pair struct{ ok, short string }

// usePair builds the pair for op from its entry in the table, so a wrong
// arity in the table shows up as a disagreement with rrdtool.
func usePair(name string) pair {
	o := ops[name]
	switch o.shape {
	case fixed:
		in, rest := max(o.in, 1), max(o.in, 1)-o.in+o.out
		var pre []string
		if rest == 0 { // POP: leave something behind
			pre, rest = []string{"b"}, 1
		}
		build := func(k int) string {
			t := append([]string(nil), pre...)
			for range k {
				t = append(t, "a")
			}
			t = append(t, name)
			for range rest - 1 {
				t = append(t, "+")
			}
			return strings.Join(t, ",")
		}
		p := pair{ok: build(in)}
		if o.in > 0 {
			p.short = build(in - 1)
		}
		return p
	case reduce:
		return pair{"a,b,c,3," + name, "a,b,3," + name}
	case inPlace:
		return pair{"a,b,c,3," + name + ",+,+", "a,b,3," + name + ",+"}
	case percent:
		return pair{"a,b,c,50,3," + name, "a,b,50,3," + name}
	case copyTop:
		return pair{"a,b,2," + name + ",+,+,+", "a,2," + name + ",+,+"}
	case index:
		return pair{"a,b,2," + name + ",+,+", "a,2," + name + ",+"}
	case trend:
		return pair{"a,600," + name, "a,1,+,600," + name}
	case predict:
		return pair{"600,1200,2,300,a," + name, "600,2,300,a," + name}
	case predictPc:
		return pair{"600,1200,2,300,50,a," + name, "600,2,300,50,a," + name}
	}
	panic(name)
}

// TestArityAgreesWithRRDtool: for every operator, the validator and the
// real rrdtool both accept its smallest use and both refuse it with one
// value too few.
func TestArityAgreesWithRRDtool(t *testing.T) {
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := usePair(n)
		out, err := Compile(p.ok, bind3)
		if err != nil {
			t.Errorf("%s: Compile(%q): %v", n, p.ok, err)
			continue
		}
		if err := rrdtoolCLI(out); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if p.short == "" {
			continue
		}
		out, err = Compile(p.short, bind3)
		if err == nil {
			t.Errorf("%s: Compile(%q) accepted %q", n, p.short, out)
			continue
		}
		short := strings.NewReplacer("a", "s0", "b", "s1", "c", "s2").Replace(p.short)
		if err := rrdtoolCLI(short); err == nil {
			t.Errorf("%s: rrdtool accepts %q, which the validator refuses", n, short)
		}
	}
}

// rrdFirst is the first row of CDEF rpn, from the rrdtool command.
func rrdFirst(t *testing.T, rpn string) float64 {
	t.Helper()
	out, err := exec.Command("rrdtool", cliArgs(rpn)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool xport CDEF:x=%s: %v: %s", rpn, err, out)
	}
	var x struct{ Data [][]*float64 }
	if err := json.Unmarshal(out, &x); err != nil || len(x.Data) == 0 {
		t.Fatalf("rrdtool xport output %s: %v", out, err)
	}
	if x.Data[0][0] == nil {
		return math.NaN()
	}
	return *x.Data[0][0]
}

// TestRefusedFor1_7_2Reasons shows the rrdtool 1.7.2 behaviour behind the
// refusals, so a newer rrdtool that fixes it makes this test say so.
func TestRefusedFor1_7_2Reasons(t *testing.T) {
	// a,b,c,d,3,1,ROLL => a,d,b,c (rrdgraph_rpn); 1.7.2 leaks the
	// arguments into the rotated window instead.
	if v := rrdFirst(t, "s0,POP,10,20,30,3,1,ROLL,POP,EXC,POP"); v == 10 {
		t.Errorf("rrdtool computes ROLL correctly now (got %g); it could be allowed", v)
	}
	// PERCENT with a rank below 1 reads the value under its window.
	if v := rrdFirst(t, "7,s0,POP,1,2,3,10,3,PERCENT,EXC,POP"); v != 7 {
		t.Errorf("rrdtool's PERCENT rank 0 gives %g, not the value below the window; the guard may be unneeded", v)
	}
	for _, o := range []string{"ROUND", "AND", "OR", "XOR", "NOT"} {
		rpn := "s0,s1," + o
		if o == "ROUND" || o == "NOT" {
			rpn = "s0," + o
		}
		err := rrdtoolCLI(rpn)
		if err == nil || !strings.Contains(err.Error(), "understand") {
			t.Errorf("rrdtool 1.7 knows %s now? %v", o, err)
		}
	}
	// Numbers at the end, or expressions without a series, are refused.
	for _, rpn := range []string{"s0,POP,5", "1,2,+"} {
		if err := rrdtoolCLI(rpn); err == nil {
			t.Errorf("rrdtool accepts %s", rpn)
		}
	}
}

// TestNumbersAsRRDtoolReadsThem: canonical numbers mean the same to
// rrdtool as to Go.
func TestNumbersAsRRDtoolReadsThem(t *testing.T) {
	for _, lit := range []string{"0.5", "-2.25", "1e3", "1.5e-3", "123456789012345", "+7", ".25", "5.", "2E2"} {
		out, err := Compile("a,POP,"+lit+",a,a,-,+", bind3)
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		want, _ := strconv.ParseFloat(strings.Split(out, ",")[2], 64)
		got := rrdFirst(t, out)
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s → %s: rrdtool reads %g, want %g", lit, out, got, want)
		}
	}
}
