package urlstore

import (
	"math"
	"testing"
)

func TestMergeAndQuantile(t *testing.T) {
	a, b := NewRow("/a"), NewRow("/a")
	for i := 1; i <= 100; i++ {
		a.Hist.Add(float64(i) / 1000)
		a.TotalS += float64(i) / 1000
		a.Count++
	}
	b.Count, b.Errors, b.Hangs, b.MaxS = 3, 2, 1, 7
	b.Hist.Add(7)
	b.TotalS += 7
	a.MaxS = 0.1
	a.Merge(b)
	if a.Count != 103 || a.Errors != 2 || a.Hangs != 1 || a.MaxS != 7 || a.Hist.Total() != 101 {
		t.Fatalf("merged %+v", a)
	}
	if got, want := a.MeanS(), (5.050+7)/101; math.Abs(got-want) > 1e-12 {
		t.Errorf("mean %v, want %v", got, want)
	}
	if p := a.Quantile(0.5); !Scheme.Within(p, 0.051) {
		t.Errorf("p50 %v, want 0.051 within %.2f%%", p, 100*Scheme.RelErr())
	}
	if Scheme.RelErr() > 0.02 {
		t.Errorf("scheme error %v > 2%%", Scheme.RelErr())
	}
	if !math.IsNaN(NewRow("/x").MeanS()) || !math.IsNaN(NewRow("/x").Quantile(0.5)) {
		t.Error("empty row should have NaN mean and quantile")
	}
}

func TestTop(t *testing.T) {
	var rows []*Row
	for i, u := range []string{"/a", "/b", "/c", "/d", Other} {
		r := NewRow(u)
		r.Count = uint64(i + 1)
		r.TotalS = float64(10 - i)
		rows = append(rows, r)
	}
	got := Top(rows, 2)
	if len(got) != 3 || got[0].URL != "/a" || got[1].URL != "/b" || got[2].URL != Other {
		t.Fatalf("top: %v %v %v", got[0].URL, got[1].URL, got[len(got)-1].URL)
	}
	if o := got[2]; o.Count != 3+4+5 || o.TotalS != 8+7+6 {
		t.Errorf("other %+v", o)
	}
	if got := Top(rows[:2], 50); len(got) != 2 {
		t.Errorf("no other row expected, got %d rows", len(got))
	}
}
