package graphite

import (
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"graphmetrics/web/internal/testrrd"
)

// Each function against the behaviour Graphite's documentation gives, on
// tiny series: a = 1 2 _ 4 5, b = 10 _ _ 40 -50, c = 1 3 6 2 5 (a counter
// that resets), at a 60 s step; "_" is None.
var (
	docA = []float64{1, 2, math.NaN(), 4, 5}
	docB = []float64{10, math.NaN(), math.NaN(), 40, -50}
	docC = []float64{1, 3, 6, 2, 5}
)

const n = -1e300 // None in expectations

func docDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string][]float64{"doc/a": docA, "doc/b": docB, "doc/c": docC} {
		if err := testrrd.MakeMetric(filepath.Join(dir, "rrd", "metrics", filepath.FromSlash(name)+".rrd"), 60, t0, v); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type docCase struct {
	target string
	want   map[string][]float64 // name → values, in answer order by name key listed in names
	names  []string
}

func vals(v ...float64) []float64 { return v }

func TestFunctionsAsDocumented(t *testing.T) {
	dir := docDir(t)
	_, srv := newAPI(t, dir, Options{})
	cases := []docCase{
		{"doc.a", nil, nil},
		{"sumSeries(doc.a,doc.b)", map[string][]float64{"sumSeries(doc.a,doc.b)": vals(11, 2, n, 44, -45)}, nil},
		{"averageSeries(doc.{a,b})", map[string][]float64{"averageSeries(doc.{a,b})": vals(5.5, 2, n, 22, -22.5)}, nil},
		{"minSeries(doc.a,doc.b)", map[string][]float64{"minSeries(doc.a,doc.b)": vals(1, 2, n, 4, -50)}, nil},
		{"maxSeries(doc.a,doc.b)", map[string][]float64{"maxSeries(doc.a,doc.b)": vals(10, 2, n, 40, 5)}, nil},
		{"diffSeries(doc.b,doc.a)", map[string][]float64{"diffSeries(doc.b,doc.a)": vals(9, 2, n, 36, -55)}, nil},
		{"multiplySeries(doc.a,doc.b)", map[string][]float64{"multiplySeries(doc.a,doc.b)": vals(10, n, n, 160, -250)}, nil},
		{"divideSeries(doc.b,doc.a)", map[string][]float64{"divideSeries(doc.b,doc.a)": vals(10, n, n, 10, -10)}, nil},
		{"asPercent(doc.a,doc.b)", map[string][]float64{"asPercent(doc.a,doc.b)": vals(10, n, n, 10, -10)}, nil},
		{"asPercent(doc.a,10)", map[string][]float64{"asPercent(doc.a,10)": vals(10, 20, n, 40, 50)}, nil},
		{"scale(doc.a,2)", map[string][]float64{"scale(doc.a,2)": vals(2, 4, n, 8, 10)}, nil},
		{"offset(doc.a,-1)", map[string][]float64{"offset(doc.a,-1)": vals(0, 1, n, 3, 4)}, nil},
		{"absolute(doc.b)", map[string][]float64{"absolute(doc.b)": vals(10, n, n, 40, 50)}, nil},
		{"alias(doc.a,'x')", map[string][]float64{"x": docA}, nil},
		{"aliasByNode(doc.a,1)", map[string][]float64{"a": docA}, nil},
		{"aliasByNode(scale(doc.a,2),-1,0)", map[string][]float64{"a.doc": vals(2, 4, n, 8, 10)}, nil},
		{`aliasSub(doc.a,'^doc\.(\w)$','letter \1')`, map[string][]float64{"letter a": docA}, nil},
		{"groupByNode(doc.*,0,'sum')", map[string][]float64{"doc": vals(12, 5, 6, 46, -40)}, nil},
		{"sortByMaxima(doc.*)", nil, []string{"doc.b", "doc.c", "doc.a"}},
		{"highestMax(doc.*,1)", nil, []string{"doc.b"}},
		{"highestCurrent(doc.*,2)", nil, []string{"doc.a", "doc.c"}},
		{"highestAverage(doc.*,1)", nil, []string{"doc.c"}},
		{"lowestAverage(doc.*,1)", nil, []string{"doc.b"}},
		{"limit(doc.*,2)", nil, []string{"doc.a", "doc.b"}},
		{"exclude(doc.*,'[ab]$')", nil, []string{"doc.c"}},
		{"grep(doc.*,'[ab]$')", nil, []string{"doc.a", "doc.b"}},
		{"perSecond(doc.c)", map[string][]float64{"perSecond(doc.c)": vals(n, 2.0/60, 3.0/60, n, 3.0/60)}, nil},
		{"perSecond(doc.c,10)", map[string][]float64{"perSecond(doc.c)": vals(n, 2.0/60, 3.0/60, 7.0/60, 3.0/60)}, nil},
		{"nonNegativeDerivative(doc.c)", map[string][]float64{"nonNegativeDerivative(doc.c)": vals(n, 2, 3, n, 3)}, nil},
		{"nonNegativeDerivative(doc.c,7)", map[string][]float64{"nonNegativeDerivative(doc.c)": vals(n, 2, 3, 4, 3)}, nil},
		{"derivative(doc.c)", map[string][]float64{"derivative(doc.c)": vals(n, 2, 3, -4, 3)}, nil},
		{"integral(doc.a)", map[string][]float64{"integral(doc.a)": vals(1, 3, n, 7, 12)}, nil},
		{"keepLastValue(doc.b)", map[string][]float64{"keepLastValue(doc.b)": vals(10, 10, 10, 40, -50)}, nil},
		{"keepLastValue(doc.b,1)", map[string][]float64{"keepLastValue(doc.b)": vals(10, n, n, 40, -50)}, nil},
		{"transformNull(doc.b,-1)", map[string][]float64{"transformNull(doc.b,-1)": vals(10, -1, -1, 40, -50)}, nil},
		{"removeBelowValue(doc.c,3)", map[string][]float64{"removeBelowValue(doc.c, 3)": vals(n, 3, 6, n, 5)}, nil},
		{"removeAboveValue(doc.c,3)", map[string][]float64{"removeAboveValue(doc.c, 3)": vals(1, 3, n, 2, n)}, nil},
		{"consolidateBy(doc.c,'max')", map[string][]float64{`consolidateBy(doc.c,"max")`: docC}, nil},
		{"summarize(doc.c,'2min')", map[string][]float64{`summarize(doc.c, "2min", "sum")`: vals(4, 8, 5)}, nil},
		{"summarize(doc.c,'2min','max')", map[string][]float64{`summarize(doc.c, "2min", "max")`: vals(3, 6, 5)}, nil},
		// librrd ends the fetch one step after until (t0+420), so the
		// buckets end there: [t0-60, t0+60) holds 1×60, and so on.
		{"hitcount(doc.c,'2min')", map[string][]float64{`hitcount(doc.c, "2min")`: vals(60, 540, 420)}, nil},
		{"movingAverage(doc.c,2)", map[string][]float64{"movingAverage(doc.c,2)": vals(n, 1, 2, 4.5, 4)}, nil},
	}
	q := url.Values{"from": {strconv.Itoa(t0)}, "until": {strconv.Itoa(t0 + 360)}}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			got := render(t, srv, c.target, q)
			if c.want == nil && c.names == nil {
				c.want = map[string][]float64{"doc.a": docA}
			}
			if c.names != nil {
				var names []string
				for _, s := range got {
					names = append(names, s.Target)
				}
				if strings.Join(names, " ") != strings.Join(c.names, " ") {
					t.Fatalf("got %q, want %q", names, c.names)
				}
				return
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d series, want %d: %+v", len(got), len(c.want), got)
			}
			for _, s := range got {
				want, ok := c.want[s.Target]
				if !ok {
					t.Fatalf("series %q, want names %v", s.Target, c.want)
				}
				if len(s.Datapoints) < len(want) {
					t.Fatalf("%s: %d points, want %d", s.Target, len(s.Datapoints), len(want))
				}
				for i, w := range want {
					g := s.Datapoints[i][0]
					if none(w) || w == n {
						if g != nil {
							t.Errorf("%s point %d = %s, want null", s.Target, i, g)
						}
						continue
					}
					if g == nil {
						t.Errorf("%s point %d = null, want %v", s.Target, i, w)
						continue
					}
					v, _ := strconv.ParseFloat(g.String(), 64)
					if math.Abs(v-w) > 1e-6*math.Max(1, math.Abs(w)) {
						t.Errorf("%s point %d = %v, want %v", s.Target, i, v, w)
					}
				}
			}
		})
	}
	// timeShift draws the earlier data over the requested range.
	got := render(t, srv, "timeShift(doc.a,'2min')", url.Values{"from": {strconv.Itoa(t0 + 120)}, "until": {strconv.Itoa(t0 + 360)}})
	if len(got) != 1 || got[0].Target != `timeShift(doc.a, "-2min")` || got[0].Datapoints[0][1].String() != strconv.Itoa(t0+120) ||
		got[0].Datapoints[0][0].String() != "1.0" {
		t.Errorf("timeShift: %+v", got)
	}
	// constantLine: three points over the range.
	got = render(t, srv, "constantLine(7)", q)
	if len(got) != 1 || got[0].Target != "7.0" || len(got[0].Datapoints) != 3 {
		t.Errorf("constantLine: %+v", got)
	}
}

func TestFunctionTableMatchesIssue(t *testing.T) {
	issue := strings.Fields(`sumSeries averageSeries minSeries maxSeries diffSeries divideSeries multiplySeries asPercent
		scale offset absolute alias aliasByNode aliasSub groupByNode sortByMaxima highestMax highestCurrent
		highestAverage lowestAverage limit exclude grep perSecond nonNegativeDerivative derivative integral
		movingAverage summarize hitcount keepLastValue transformNull timeShift consolidateBy constantLine
		removeBelowValue removeAboveValue`)
	for _, name := range issue {
		if functions[name] == nil {
			t.Errorf("%s is not supported", name)
		}
	}
	if len(functions) != len(issue) {
		t.Errorf("%d functions, the issue lists %d", len(functions), len(issue))
	}
	// Every function is reached by the differential test.
	all := strings.Join(diffTargets, " ")
	for _, name := range issue {
		if !strings.Contains(all, name+"(") {
			t.Errorf("%s is not in the differential test", name)
		}
	}
}
