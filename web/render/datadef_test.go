package render

import (
	"context"
	"errors"
	"math"
	"os"
	"testing"
)

// A graph's Data series are DEFs like a file's: combined in CDEFs,
// exported at their step, a nil value a gap that leaves its neighbours
// known; the worker's files are gone after the request.
func TestGraphData(t *testing.T) {
	root, file := sampleRRD(t)
	tmp := t.TempDir()
	p := newPool(t, PoolOptions{Root: root, Workers: 1, Env: []string{"TMPDIR=" + tmp}})
	start := int64(sampleStart + 45*60)
	f := func(v float64) *float64 { return &v }
	g := rpmGraph(file)
	g.Data = []DataSeries{{Name: "q", Start: start, Step: 60,
		Values: []*float64{f(1), f(2), nil, f(4), nil, nil, f(7), f(8), f(9), f(10), f(11), f(12)}}}
	g.CDefs = append(g.CDefs, CDef{Name: "x", RPN: []string{"q", "rpm", "*"}})
	g.Draws = append(g.Draws, Draw{Type: "LINE1", Name: "q", Color: "ff0000", Legend: "q"},
		Draw{Type: "LINE1", Name: "x", Color: "00ff00", Legend: "q×rpm"})
	x := xportOf(t, p, g)
	if x.Step != 60 {
		t.Fatalf("step %d", x.Step)
	}
	for i, v := range g.Data[0].Values {
		end := start + int64(i+1)*60
		r := (end - x.Start) / 60
		if r < 0 || int(r) >= x.Rows {
			t.Fatalf("no row ending at %d (start %d, %d rows)", end, x.Start, x.Rows)
		}
		row := x.Row(int(r))
		want := math.NaN()
		if v != nil {
			want = *v
		}
		if !(row[1] == want || math.IsNaN(row[1]) && math.IsNaN(want)) {
			t.Errorf("row ending at %d: %v, want %v", end, row[1], want)
		}
		if end == sampleStart+54*60 && row[2] != want*11 { // rpm 11 at 15:53
			t.Errorf("q×rpm at 15:53: %v, want %v", row[2], want*11)
		}
	}
	if _, err := p.Do(context.Background(), &Request{Op: OpGraph, Graph: g}); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Fatalf("the worker left %v (%v) in its temporary directory", ents, err)
	}

	// Bounds, on both sides of the pipe.
	g.Data[0].Values = make([]*float64, MaxDataPoints+1)
	if err := g.Validate(root); !errors.Is(err, ErrInvalid) {
		t.Errorf("too many points: %v", err)
	}
	g.Data[0].Values, g.Data[0].Step = nil, 0
	if err := g.Validate(root); !errors.Is(err, ErrInvalid) {
		t.Errorf("step 0: %v", err)
	}
	g.Data[0].Step, g.Data[0].Name = 60, "req"
	if err := g.Validate(root); !errors.Is(err, ErrInvalid) {
		t.Errorf("a name defined twice: %v", err)
	}
}
