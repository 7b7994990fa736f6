package render

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func okGraph() Graph {
	return Graph{
		Start: 1248966000, End: 1248969600, Width: 600, Height: 200, Title: "t",
		Defs:  []Def{{Name: "req", File: "/data/rrd/h/c/i.rrd", DS: "requests", CF: "AVERAGE"}},
		CDefs: []CDef{{Name: "rpm", RPN: []string{"req", "60", "*"}}},
		Draws: []Draw{{Type: "LINE1", Name: "rpm", Color: "0000ff", Legend: "rpm"}},
	}
}

func TestValidate(t *testing.T) {
	f := func(n float64) *float64 { return &n }
	cases := []struct {
		name string
		edit func(g *Graph)
		want string // substring of the error; "" = valid
	}{
		{"ok", func(g *Graph) {}, ""},
		{"wide", func(g *Graph) { g.Width = 2001 }, "width"},
		{"tall", func(g *Graph) { g.Height = 100000 }, "height"},
		{"narrow", func(g *Graph) { g.Width = 0 }, "width"},
		{"long range", func(g *Graph) { g.Start = g.End - MaxSpan - 1 }, "longer"},
		{"reversed", func(g *Graph) { g.Start, g.End = g.End, g.Start }, "time range"},
		{"step", func(g *Graph) { g.Step = -1 }, "step"},
		{"traversal", func(g *Graph) { g.Defs[0].File = "/data/rrd/../../etc/passwd.rrd" }, "clean"},
		{"outside", func(g *Graph) { g.Defs[0].File = "/etc/x.rrd" }, "outside"},
		{"prefix sibling", func(g *Graph) { g.Defs[0].File = "/data/rrdx/a.rrd" }, "outside"},
		{"relative", func(g *Graph) { g.Defs[0].File = "h/c/i.rrd" }, "clean"},
		{"not rrd", func(g *Graph) { g.Defs[0].File = "/data/rrd/h/passwd" }, "clean"},
		{"newline file", func(g *Graph) { g.Defs[0].File = "/data/rrd/h\n/i.rrd" }, "control"},
		{"ds colon", func(g *Graph) { g.Defs[0].DS = "requests:AVERAGE" }, "data source"},
		{"cf", func(g *Graph) { g.Defs[0].CF = "AVERAGE:step=1" }, "consolidation"},
		{"name", func(g *Graph) { g.Defs[0].Name = "Req=x" }, "name"},
		{"rpn injection", func(g *Graph) { g.CDefs[0].RPN = []string{"req,60,* LINE1:req#ff0000"} }, "has no place"},
		{"rpn def", func(g *Graph) { g.CDefs[0].RPN = []string{"DEF:x=/etc/passwd:value:AVERAGE"} }, "contains ':'"},
		{"rpn underflow", func(g *Graph) { g.CDefs[0].RPN = []string{"req", "+"} }, "underflow"},
		{"rpn leftover", func(g *Graph) { g.CDefs[0].RPN = []string{"req", "req"} }, "leaves 2"},
		{"rpn forward ref", func(g *Graph) { g.CDefs[0].RPN = []string{"rpm"} }, `name "rpm" is not defined`},
		{"rpn avg", func(g *Graph) { g.CDefs[0].RPN = []string{"req", "req", "2", "AVG"} }, ""},
		{"rpn avg count", func(g *Graph) { g.CDefs[0].RPN = []string{"req", "req", "3", "AVG"} }, "underflow"},
		{"color", func(g *Graph) { g.Draws[0].Color = "f00:legend" }, "colour"},
		{"draw type", func(g *Graph) { g.Draws[0].Type = "PRINT" }, "drawing"},
		{"legend ctl", func(g *Graph) { g.Draws[0].Legend = "a\nPRINT:x" }, "control"},
		{"limits", func(g *Graph) { g.Lower, g.Upper = f(5), f(1) }, "lower limit"},
		{"log limit", func(g *Graph) { g.Log, g.Lower = true, f(0) }, "positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := okGraph()
			c.edit(&g)
			err := g.Validate("/data/rrd")
			if c.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestElementsEscape(t *testing.T) {
	g := okGraph()
	g.Defs[0].File = "/data/rrd/h:1/c/i.rrd"
	g.Draws[0].Legend = `a:b\n`
	g.Draws = append(g.Draws, Draw{Type: "TICK", Name: "req", Color: "ff8800", Legend: "restarts"},
		Draw{Type: "LINE2", Name: "req", Color: "00ff00", Dashed: true})
	got := g.Elements()
	want := []string{
		`DEF:req=/data/rrd/h\:1/c/i.rrd:requests:AVERAGE`,
		`CDEF:rpm=req,60,*`,
		`LINE1:rpm#0000ff:a\:b/n`,
		`TICK:req#ff8800:1:  restarts`,
		`LINE2:req#00ff00::dashes`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Elements:\n got %q\nwant %q", got, want)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("open /a/very/long/path/name.rrd: no such file\x00", 10, 4)
	want := []string{"open", "/a/very/lo", "ng/path/na", "me.rrd: no"}
	if !slices.Equal(got, want) {
		t.Fatalf("wrap: got %q want %q", got, want)
	}
}

func TestOptions(t *testing.T) {
	g := okGraph()
	one := 1.0
	g.Step, g.Log, g.Lower, g.RightAxis = 60, true, &one, true
	got := strings.Join(g.Options(), " ")
	for _, want := range []string{"--step 60", "--logarithmic", "--lower-limit 1 --rigid", "--right-axis 1:0"} {
		if !strings.Contains(got, want) {
			t.Errorf("options %q lack %q", got, want)
		}
	}
	g.RightAxis = false
	if strings.Contains(strings.Join(g.Options(), " "), "right-axis") {
		t.Error("right axis without RightAxis")
	}
}
