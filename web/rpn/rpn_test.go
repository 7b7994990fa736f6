package rpn

import (
	"errors"
	"strings"
	"testing"
)

var accepted = []struct{ in, out string }{
	{"a", "s0"},
	{"a,b,+", "s0,s1,+"},
	{"a,b,+,2,/", "s0,s1,+,2,/"},
	{"a,b,c,3,AVG", "s0,s1,s2,3,AVG"},
	{"a,b,ADDNAN,c,ADDNAN", "s0,s1,ADDNAN,s2,ADDNAN"},
	{"a,+5,.5,+,+", "s0,5,0.5,+,+"},
	{"a,-0.250,*", "s0,-0.25,*"},
	{"a,1E3,+", "s0,1e3,+"},
	{"a,1.5e+02,-", "s0,1.5e2,-"},
	{"a,007,*", "s0,7,*"},
	{"a,-0,+", "s0,0,+"},
	{"a,0,GT,a,UNKN,IF", "s0,0,GT,s0,UNKN,IF"},
	{"a,UN,0,a,IF", "s0,UN,0,s0,IF"},
	{"a,0,100,LIMIT", "s0,0,100,LIMIT"},
	{"a,b,MINNAN,c,MAXNAN", "s0,s1,MINNAN,s2,MAXNAN"},
	{"a,2,POW,SQRT,ABS,LOG,EXP,FLOOR,CEIL", "s0,2,POW,SQRT,ABS,LOG,EXP,FLOOR,CEIL"},
	{"a,SIN,b,COS,ATAN2,ATAN,RAD2DEG,DEG2RAD", "s0,SIN,s1,COS,ATAN2,ATAN,RAD2DEG,DEG2RAD"},
	{"a,b,LT,a,b,LE,+,a,b,GT,+,a,b,GE,+,a,b,EQ,+,a,b,NE,+", "s0,s1,LT,s0,s1,LE,+,s0,s1,GT,+,s0,s1,GE,+,s0,s1,EQ,+,s0,s1,NE,+"},
	{"a,ISINF,INF,+,NEGINF,+", "s0,ISINF,INF,+,NEGINF,+"},
	{"a,PREV,ADDNAN", "s0,PREV,ADDNAN"},
	{"PREV(a),b,+", "PREV(s0),s1,+"},
	{"a,COUNT,TIME,LTIME,NOW,STEPWIDTH,5,SMAX,+", "s0,COUNT,TIME,LTIME,NOW,STEPWIDTH,5,SMAX,+"},
	{"a,NEWDAY,NEWWEEK,NEWMONTH,NEWYEAR,4,SMIN,+", "s0,NEWDAY,NEWWEEK,NEWMONTH,NEWYEAR,4,SMIN,+"},
	{"a,DUP,*,b,EXC,-,c,POP", "s0,DUP,*,s1,EXC,-,s2,POP"},
	{"a,b,c,DEPTH,4,MEDIAN", "s0,s1,s2,DEPTH,4,MEDIAN"},
	{"a,b,c,3,STDEV", "s0,s1,s2,3,STDEV"},
	{"a,b,c,3,SORT,POP,POP", "s0,s1,s2,3,SORT,POP,POP"},
	{"a,b,c,2,REV,-,-", "s0,s1,s2,2,REV,-,-"},
	{"a,b,c,95,3,PERCENT", "s0,s1,s2,95,3,PERCENT"},
	{"a,b,c,17,3,PERCENT", "s0,s1,s2,17,3,PERCENT"},
	{"a,b,2,COPY,+,+,+", "s0,s1,2,COPY,+,+,+"},
	{"a,b,c,3,INDEX,+,+,+,4,/", "s0,s1,s2,3,INDEX,+,+,+,4,/"},
	{"a,1800,TREND", "s0,1800,TREND"},
	{"b,600,TRENDNAN,a,-", "s1,600,TRENDNAN,s0,-"},
	{"86400,-7,1800,a,PREDICT", "86400,-7,1800,s0,PREDICT"},
	{"7200,3600,2,600,a,PREDICTSIGMA", "7200,3600,2,600,s0,PREDICTSIGMA"},
	{"3600,-3,600,95,b,PREDICTPERC", "3600,-3,600,95,s1,PREDICTPERC"},
	{"3600,-3,600,-50,b,PREDICTPERC", "3600,-3,600,-50,s1,PREDICTPERC"},
}

func TestCompileAccepts(t *testing.T) {
	for _, c := range accepted {
		got, err := Compile(c.in, bind3)
		if err != nil || got != c.out {
			t.Errorf("Compile(%q) = %q, %v; want %q", c.in, got, err, c.out)
			continue
		}
		if err := Check(strings.Split(got, ","), func(v string) bool { return v == "s0" || v == "s1" || v == "s2" }); err != nil {
			t.Errorf("Check(%q) = %v", got, err)
		}
	}
}

// TestAcceptedRunInRRDtool runs every accepted expression through the
// rrdtool command: what the validator lets through, rrdtool understands.
func TestAcceptedRunInRRDtool(t *testing.T) {
	for _, c := range accepted {
		if err := rrdtoolCLI(c.out); err != nil {
			t.Errorf("%q: %v", c.in, err)
		}
	}
}

var refusedCases = []struct {
	in      string
	index   int    // 1-based token, 0 = whole expression
	contain string // in the reason
}{
	// The injections of issue 6.
	{"DEF:x=/etc/passwd:value:AVERAGE", 1, "':'"},
	{"a,b,+ LINE1:a#ff0000", 3, "whitespace"},
	{"a\nPRINT:a:AVERAGE:%s", 1, "line break"},
	{"../../x", 1, "file names"},
	// More of the same kind.
	{"a,b,+\rLINE1", 3, "line break"},
	{"a,b,+,CDEF", 4, "graph statements"},
	{"a,PRINT", 2, "graph statements"},
	{"a,LINE2", 2, "graph statements"},
	{"a,GPRINT", 2, "graph statements"},
	{"a,/etc/passwd", 2, "file names"},
	{"a,x.rrd", 2, "file names"},
	{"a,b.RRD", 2, "file names"},
	{"a,b.c", 2, "not a number"},
	{"a,b\x00", 2, "control character"},
	{"a,b\t", 2, "whitespace"},
	{" a", 1, "whitespace"},
	{"a ,b,+", 1, "whitespace"},
	{"a,b,+\u00a0", 3, "non-ASCII"},
	{"a,b,#ff0000", 3, `"#"`},
	{"a,\"b\",+", 2, `"\""`},
	{"a,b,+,'", 4, `"'"`},
	{"a,b,=", 3, `"="`},
	{"a,b\\,+", 2, `"\\"`},
	{"a,b;+", 2, `";"`},
	// Structure.
	{"", 0, "empty"},
	{"a,,b", 2, "empty token"},
	{"a,b,+,", 4, "empty token"},
	{",a", 1, "empty token"},
	{"a,b", 0, "leaves 2 values"},
	{"a,+", 2, "stack underflow"},
	{"+", 1, "stack underflow"},
	{"1,2,+", 0, "uses no series"},
	{"UNKN", 0, "uses no series"},
	{"a,POP,5", 3, "cannot end with a number"},
	{"a,b,c,d,+,+,+", 4, `name "d" is not bound to a series (have a, b, c)`},
	{"a,e,+", 2, `name "e" is not bound`},
	{"a,A,+", 2, "unknown operator or name"},
	{"a,avg", 2, "upper case: AVG"},
	{"a,FOO", 2, "unknown operator"},
	{"a,inf,+", 2, "upper case: INF"},
	{"a,NaN,+", 2, "unknown operator"},
	{"a,0x10,+", 2, "unknown operator or name"},
	{"a,1e400,*", 2, "out of range"},
	{"a,1234567890123456,*", 2, "15 digits"},
	{"a,1.2.3,*", 2, "not a number"},
	{"a,1e,*", 2, "unknown operator or name"},
	{"a,--1,*", 2, "not a number"},
	{"a,MAXIMUM", 2, "VDEF"},
	{"a,ROLL", 2, "ROLL is not allowed"},
	{"a,ROUND", 2, "not supported"},
	{"a,NOT", 2, "not supported"},
	{"PREV(z),a,+", 1, "not bound"},
	{"PREV(a,b,+", 1, "PREV(name)"},
	{"PREV(),a,+", 1, "PREV(name)"},
	// Counts must be literal, whole and in range.
	{"a,b,-1,SORT,+", 4, "SORT count -1 must be in 1..1000"},
	{"a,b,0,AVG", 4, "must be in 1..1000"},
	{"a,b,2.5,AVG", 4, "whole-number count"},
	{"a,b,1,1,+,AVG", 6, "whole-number count"},
	{"a,b,3,AVG", 4, "stack underflow"},
	{"a,b,c,4,MEDIAN", 5, "stack underflow"},
	{"a,b,c,101,3,PERCENT", 6, "0..100"},
	{"a,b,c,10,3,PERCENT", 6, "below the first"},
	{"a,b,c,3,PERCENT", 5, "literal percentile"},
	{"a,b,50,3,PERCENT", 5, "stack underflow"},
	{"a,a,1000,COPY,+", 4, "stack underflow"},
	{"a,1,COPY,2,COPY,4,COPY,8,COPY,16,COPY,32,COPY,64,COPY,128,COPY,256,COPY,512,COPY", 21, "more than 1000 values"},
	{"a,b,3,INDEX", 4, "stack underflow"},
	{"a,1,+,1800,TREND", 5, "series name and a window"},
	{"a,0,TREND", 3, "must be in 1..31622400"},
	{"a,b,TREND", 3, "whole-number window"},
	{"86400,-7,1800,a,1,+,PREDICT", 7, "series name right before"},
	{"86400,0,1800,a,PREDICT", 5, "must not be 0"},
	{"86400,-101,60,a,PREDICT", 5, "must be in -100..100"},
	{"86400,-100,86400,a,PREDICT", 5, "too much work"},
	{"86400,3,1800,a,PREDICT", 5, "stack underflow"},
	{"3600,-3,600,101,b,PREDICTPERC", 6, "-100..100"},
}

func TestCompileRefuses(t *testing.T) {
	for _, c := range refusedCases {
		got, err := Compile(c.in, bind3)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Compile(%q) = %q, %v; want an *Error", c.in, got, err)
			continue
		}
		if got != "" || e.Index != c.index || !strings.Contains(err.Error(), c.contain) {
			t.Errorf("Compile(%q) = %q, %v (token %d); want token %d, %q", c.in, got, err, e.Index, c.index, c.contain)
		}
		if e.Index > 0 {
			toks := strings.Split(c.in, ",")
			if e.Token != toks[e.Index-1] || c.in[e.Offset:e.Offset+len(e.Token)] != e.Token {
				t.Errorf("Compile(%q): token %q at offset %d does not match the input", c.in, e.Token, e.Offset)
			}
		}
	}
}

func TestErrorNamesTheToken(t *testing.T) {
	_, err := Compile("a,b,+ LINE1:a#ff0000", bind3)
	if want := `token 3 "+ LINE1:a#ff0000": contains whitespace`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	_, err = Compile("a,"+strings.Repeat("x", 100), bind3)
	if want := `token 2 "` + strings.Repeat("x", 32) + `"…: name`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v, want prefix %s", err, want)
	}
}

func TestLimits(t *testing.T) {
	long := "a" + strings.Repeat(",a,+", (MaxTokens-1)/2)
	if n := strings.Count(long, ",") + 1; n > MaxTokens {
		t.Fatalf("test expression has %d tokens", n)
	}
	if _, err := Compile(long, bind3); err != nil {
		t.Fatalf("%d tokens refused: %v", strings.Count(long, ",")+1, err)
	}
	var e *Error
	_, err := Compile(long+",a,+", bind3)
	if !errors.As(err, &e) || e.Index != MaxTokens+1 {
		t.Fatalf("more than %d tokens: %v", MaxTokens, err)
	}
	_, err = Compile("a"+strings.Repeat(",1.00000000000000", 60)+strings.Repeat(",+", 60), bind3)
	if !errors.As(err, &e) || e.Index != 0 || !strings.Contains(err.Error(), "1000 bytes") {
		t.Fatalf("more than %d bytes: %v", MaxBytes, err)
	}
}

func TestBadBinding(t *testing.T) {
	for _, b := range []map[string]string{
		{"A": "s0"}, {"a": "S0"}, {"a": "s0:x"}, {"a": "0s"}, {"a,b": "s0"}, {"a": ""},
	} {
		if _, err := Compile("a", b); err == nil || errors.Is(err, ErrInvalid) {
			t.Errorf("binding %v: %v; want a non-expression error", b, err)
		}
	}
}

func TestCheck(t *testing.T) {
	def := func(v string) bool { return v == "s0" || v == "s1" }
	for _, ok := range [][]string{{"s0"}, {"s0", "s1", "+"}, Average([]string{"s0", "s1"}), Total([]string{"s0", "s1", "s0"})} {
		if err := Check(ok, def); err != nil {
			t.Errorf("Check(%q) = %v", ok, err)
		}
	}
	for _, bad := range [][]string{
		nil, {"s2"}, {"s0", "1E3", "+"}, {"s0", "+5", "+"}, {"s0", "s1"}, {"s0", "DEF:x=/etc/passwd:value:AVERAGE"},
		{"s0,s1,+"}, {"S0"}, {"s0", "1", "COPY"},
	} {
		if err := Check(bad, def); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v; want refused", bad, err)
		}
	}
	big := make([]string, 0, 300)
	names := make([]string, 150)
	for i := range names {
		names[i] = "s0"
	}
	big = append(big, Total(names)...)
	if err := Check(big, def); err != nil || len(big) != 299 {
		t.Errorf("Check of a total of 150 series (%d tokens): %v", len(big), err)
	}
}

func TestNames(t *testing.T) {
	want := map[int]string{0: "a", 1: "b", 25: "z", 26: "a1", 27: "b1", 51: "z1", 52: "a2", 99: "v3"}
	for i, w := range want {
		if got := Name(i); got != w {
			t.Errorf("Name(%d) = %q, want %q", i, got, w)
		}
	}
	bind := map[string]string{}
	vs := make([]string, 100)
	for i := range vs {
		vs[i] = "v" + Name(i)
		bind[Name(i)] = vs[i]
	}
	if len(bind) != 100 {
		t.Fatalf("names not distinct: %d", len(bind))
	}
	expr := strings.Join(append(append([]string{}, "a", "b1", "v3"), "3", "AVG"), ",")
	if got, err := Compile(expr, bind); err != nil || got != "va,vb1,vv3,3,AVG" {
		t.Fatalf("Compile(%q) = %q, %v", expr, got, err)
	}
}

func TestAggregates(t *testing.T) {
	if got := strings.Join(Average([]string{"s0", "s1", "s2"}), ","); got != "s0,s1,s2,3,AVG" {
		t.Errorf("Average = %s", got)
	}
	if got := strings.Join(Total([]string{"s0", "s1", "s2"}), ","); got != "s0,s1,ADDNAN,s2,ADDNAN" {
		t.Errorf("Total = %s", got)
	}
	if Average(nil) != nil || Total(nil) != nil {
		t.Error("aggregate of no series")
	}
	if got := strings.Join(Average([]string{"s0"}), ","); got != "s0" {
		t.Errorf("Average of one = %s", got)
	}
	for _, rpn := range []string{"s0,s1,s2,3,AVG", "s0,s1,ADDNAN,s2,ADDNAN"} {
		if err := rrdtoolCLI(rpn); err != nil {
			t.Error(err)
		}
	}
}
