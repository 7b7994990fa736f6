package rrdraw

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rrdtoolFile makes a file with rrdtool and returns its path.
func rrdtoolFile(t testing.TB, args ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.rrd")
	if out, err := exec.Command("rrdtool", append([]string{"create", p}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("rrdtool create: %v\n%s", err, out)
	}
	return p
}

// Rows read and written here are the rows rrdtool fetch shows, and a
// file edited here still takes librrd updates.
func TestRowsAgreeWithRRDtool(t *testing.T) {
	const start = 1_700_000_040
	p := rrdtoolFile(t, "--step", "60", "--start", strconv.Itoa(start),
		"DS:a:GAUGE:120:U:U", "DS:b:GAUGE:120:U:U", "RRA:AVERAGE:0.5:1:10", "RRA:MAX:0.5:5:4")
	var upd []string
	for i := 1; i <= 30; i++ {
		upd = append(upd, strconv.Itoa(start+60*i)+":"+strconv.Itoa(i)+":"+strconv.Itoa(2*i))
	}
	if out, err := exec.Command("rrdtool", append([]string{"update", p}, upd...)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, _ := os.ReadFile(p)
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Step != 60 || f.Last != start+1800 || len(f.DS) != 2 || f.DS[1].Name != "b" || f.DS[1].Type != "GAUGE" ||
		len(f.RRAs) != 2 || f.RRAs[1].CF != "MAX" || f.RRAs[1].PDPs != 5 || f.RRAs[1].Rows != 4 {
		t.Fatalf("header: %+v", f)
	}
	lo, hi := f.Span(0)
	if hi != start+1800 || lo != hi-9*60 {
		t.Fatalf("span %d..%d", lo, hi)
	}
	for tm := lo; tm <= hi; tm += 60 {
		v, ok := f.Get(0, tm, 0)
		if want := float64(tm-start) / 60; !ok || v != want {
			t.Fatalf("row %d: %v %v, want %v", tm, v, ok, want)
		}
	}
	if _, ok := f.Get(0, lo-60, 0); ok {
		t.Error("a row before the span")
	}
	if f.RowUnknown(0, hi) || f.FirstKnown() > lo-60 {
		t.Errorf("known rows: FirstKnown %d", f.FirstKnown())
	}
	f.Set(0, lo+60, 1, 12345.5) // the oldest row goes with the next update
	os.WriteFile(p, f.Buf, 0o644)
	if out, err := exec.Command("rrdtool", "update", p, strconv.Itoa(start+1860)+":1:1").CombinedOutput(); err != nil {
		t.Fatalf("update after an edit: %v\n%s", err, out)
	}
	out, err := exec.Command("rrdtool", "fetch", p, "AVERAGE", "-r", "60", "-s", strconv.Itoa(start+1860-600), "-e", strconv.Itoa(start+1860)).Output()
	if err != nil || !strings.Contains(string(out), strconv.Itoa(int(lo+60))+": 2.2000000000e+01 1.2345500000e+04") {
		t.Errorf("rrdtool fetch does not show the edit: %v\n%s", err, out)
	}
}

func TestParseRejects(t *testing.T) {
	p := rrdtoolFile(t, "--step", "60", "DS:a:GAUGE:120:U:U", "RRA:AVERAGE:0.5:1:10")
	good, _ := os.ReadFile(p)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"longer":    append(append([]byte{}, good...), 0),
		"cookie":    append([]byte("XRD\x00"), good[4:]...),
	} {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.rrd")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			return
		}
		for i := range r.RRAs {
			lo, hi := r.Span(i)
			for _, tm := range []int64{lo, hi, (lo + hi) / 2} {
				for ds := range r.DS {
					if v, ok := r.Get(i, tm, ds); ok {
						r.Set(i, tm, ds, v)
					}
				}
			}
		}
		_ = r.FirstKnown()
	})
}
