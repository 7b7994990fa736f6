package render

import (
	"math"
	"strings"
	"testing"
)

func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ left, own, want float64 }{
		{1000, 3, 200}, {1000, 1, 1000}, {1000, 4, 200}, {1000, 2.5, 200}, {1000, 1.9, 500},
		{11, 2, 5}, {10, 10, 1}, {3, 10, 0.2}, {0.5, 100, 0.005},
		{0, 5, 1}, {100, 0, 1}, {math.Inf(-1), 3, 1}, {100, math.NaN(), 1},
	} {
		got := NiceScale(c.left, c.own)
		if got != c.want {
			t.Errorf("NiceScale(%v, %v) = %v, want %v", c.left, c.own, got, c.want)
		}
		if got != 1 && (c.own*got > c.left || c.own*got < 0.4*c.left) {
			t.Errorf("NiceScale(%v, %v) = %v puts the own line at %v of the left", c.left, c.own, got, c.own*got/c.left)
		}
	}
}

func ownGraph() Graph {
	g := okGraph()
	g.Defs = append(g.Defs, Def{Name: "wait", File: g.Defs[0].File, DS: "waiting", CF: "AVERAGE"})
	g.Draws = append(g.Draws, Draw{Type: "LINE1", Name: "wait", Color: "009e73", Legend: "waiting", Own: true})
	g.OwnLabel = "waiting"
	return g
}

func TestOwnAxisSpec(t *testing.T) {
	g := ownGraph()
	g.OwnScale = 100
	if err := g.Validate("/data"); err != nil {
		t.Fatal(err)
	}
	args := strings.Join(g.GraphArgs(), " ")
	n := len(g.Draws) - 1
	for _, want := range []string{"--right-axis 0.01:0 --right-axis-format %.4lg --right-axis-label waiting",
		"CDEF:zs1=wait,100,*", "LINE1:zs1#009e73:waiting", "VDEF:zx1=wait,MAXIMUM"} {
		if !strings.Contains(args, want) {
			t.Errorf("graph args lack %q:\n%s", want, args)
		}
	}
	if strings.Contains(args, "LINE1:wait#") || n != 1 {
		t.Errorf("own line drawn unscaled: %s", args)
	}
	// The export keeps the true values.
	if x := strings.Join(g.XportArgs(), " "); !strings.Contains(x, "XPORT:wait:waiting") {
		t.Errorf("xport args %q", x)
	}
	// A log axis, or no scale yet, draws the line as it is.
	g.Log = true
	if a := strings.Join(g.GraphArgs(), " "); strings.Contains(a, "zs1") || strings.Contains(a, "right-axis-label") {
		t.Errorf("log axis scaled: %s", a)
	}
	for _, bad := range []float64{-1, 1e-12, 1e12, math.NaN(), math.Inf(1)} {
		g := ownGraph()
		g.OwnScale = bad
		if err := g.Validate("/data"); err == nil {
			t.Errorf("own_scale %v accepted", bad)
		}
	}
}

func TestScaleFrom(t *testing.T) {
	g := ownGraph()
	g.Draws = append(g.Draws, Draw{Type: "TICK", Name: "a", Color: "e69f00"})
	nan := math.NaN()
	x := &Xport{Legends: []string{"a", "waiting", "ticks"}, Rows: 3,
		Values: []float64{400, 1, 1, nan, 3, 1, 1000, nan, 1}}
	if f, sh := g.ScaleFrom(x); f != 200 || sh != 0 {
		t.Errorf("ScaleFrom = %v, %v, want 200, 0", f, sh)
	}
	up := 600.0
	g.Upper = &up
	if f, sh := g.ScaleFrom(x); f != 200 || sh != 0 {
		t.Errorf("ScaleFrom with upper limit 600 = %v, %v, want 200, 0", f, sh)
	}
	// Below zero (headroom): the own line's zero at the left's minimum.
	g.Upper = nil
	x.Values[0] = -2000
	if f, sh := g.ScaleFrom(x); f != 1000 || sh != -2000 {
		t.Errorf("ScaleFrom from -2000 to 1000 = %v, %v, want 1000, -2000", f, sh)
	}
	x.Values[0] = -6160 // rounded down to a multiple of 1000
	if f, sh := g.ScaleFrom(x); f != 2000 || sh != -7000 {
		t.Errorf("ScaleFrom from -6160 to 1000 = %v, %v, want 2000, -7000", f, sh)
	}
	g.OwnScale, g.OwnShift = 1000, -2000
	if a := strings.Join(g.GraphArgs(), " "); !strings.Contains(a, "CDEF:zs1=wait,1000,*,-2000,+") || !strings.Contains(a, "--right-axis 0.001:2 ") {
		t.Errorf("shifted own axis: %s", a)
	}
}
