package histstore

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/hist"
)

var key = store.Key{Host: "h", Customer: "c", Instance: "app-8080"}

// gen makes seconds [start, start+n) with random app times and returns
// them as buckets together with the histogram of every second.
func gen(r *rand.Rand, start int64, n int) ([]store.Bucket, map[int64]*hist.Hist) {
	want := map[int64]*hist.Hist{}
	var bs []store.Bucket
	for t := start; t < start+int64(n); t++ {
		b := store.Bucket{Time: t}
		if r.IntN(4) != 0 {
			h := hist.New(hist.Default)
			for range 1 + r.IntN(20) {
				h.Add(r.ExpFloat64() * 0.3)
			}
			want[t] = h
			b.App = h.AppendEncode(nil)
		}
		bs = append(bs, b)
	}
	return bs, want
}

// check compares a Read at step with the sums of want.
func check(t *testing.T, dir string, want map[int64]*hist.Hist, from, until, step int64) {
	t.Helper()
	sr, err := ReadDir(dir, from, until, step)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Step != step {
		t.Fatalf("step %d, want %d", sr.Step, step)
	}
	exp := make([]*hist.Hist, len(sr.H))
	for ts, h := range want {
		if ts < sr.Start || ts >= until {
			continue
		}
		i := (ts - sr.Start) / step
		if exp[i] == nil {
			exp[i] = hist.New(hist.Default)
		}
		exp[i].Merge(h)
	}
	for i := range exp {
		g, e := sr.H[i], exp[i]
		if (g == nil) != (e == nil) {
			t.Fatalf("step %d, row %d: got %v, want %v", step, i, g != nil, e != nil)
		}
		if g == nil {
			continue
		}
		for j := 0; j < hist.Default.Len(); j++ {
			if g.Count(j) != e.Count(j) {
				t.Fatalf("step %d, row %d (t=%d), bucket %d: %d, want %d", step, i, sr.Start+int64(i)*step, j, g.Count(j), e.Count(j))
			}
		}
	}
}

func TestConsolidationIsExact(t *testing.T) {
	dir := t.TempDir()
	s := New(Options{DataDir: dir})
	r := rand.New(rand.NewPCG(1, 1))
	start := int64(1_700_000_000 - 1_700_000_000%3600 - 1800)
	bs, want := gen(r, start, 3*3600+77)
	for i := 0; i < len(bs); i += 10 { // flushes of 10 s
		if err := s.WriteBuckets(key, bs[i:min(i+10, len(bs))]); err != nil {
			t.Fatal(err)
		}
	}
	d := Dir(dir, key)
	end := start + int64(len(bs))
	check(t, d, want, end-3600, end, 1)
	check(t, d, want, start, end, 60)
	check(t, d, want, start, end, 3600)
	check(t, d, want, start, end, 600)
	// A replay of everything is refused: nothing counts twice.
	if err := s.WriteBuckets(key, bs); err != nil {
		t.Fatal(err)
	}
	// So is it by a new process (the state is read back from the files).
	s2 := New(Options{DataDir: dir})
	if err := s2.WriteBuckets(key, bs); err != nil {
		t.Fatal(err)
	}
	if st := s2.Stats(); st.Seconds != 0 || st.Refused == 0 {
		t.Errorf("replay in a new store: %+v", st)
	}
	check(t, d, want, start, end, 60)
	check(t, d, want, start, end, 3600)
}

// A crash between the seconds and the minute row, and a torn last row:
// the next process rebuilds the open minute and hour from the files.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(2, 2))
	start := int64(1_700_000_000 - 1_700_000_000%3600)
	bs, want := gen(r, start, 2*3600+30)
	s := New(Options{DataDir: dir})
	cut := 3600 + 125
	if err := s.WriteBuckets(key, bs[:cut]); err != nil {
		t.Fatal(err)
	}
	d := Dir(dir, key)
	// Remove the newest minute rows (as if the process died after the
	// seconds were appended) and tear the seconds file's last row.
	mseg := filepath.Join(d, "m-"+strconv.FormatInt(floorTo(start, 86400), 10)+".h")
	data, err := os.ReadFile(mseg)
	if err != nil {
		t.Fatal(err)
	}
	var kept []byte
	n := 0
	decodeRows(data, levels[1], floorTo(start, 86400), func(tm int64, h *hist.Hist) {
		if tm < start+3600-120 {
			kept = appendRow(kept, levels[1], floorTo(start, 86400), tm, h)
		} else {
			n++
		}
	})
	if n < 2 {
		t.Fatalf("%d minute rows dropped", n)
	}
	if err := os.WriteFile(mseg, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	sseg := filepath.Join(d, "s-"+strconv.FormatInt(start+3600, 10)+".h")
	f, _ := os.OpenFile(sseg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{5, 3, 0x80})
	f.Close()

	s2 := New(Options{DataDir: dir})
	// The aggregator's snapshot replays from before the crash.
	if err := s2.WriteBuckets(key, bs[cut-40:]); err != nil {
		t.Fatal(err)
	}
	if st := s2.Stats(); st.Repaired != 1 {
		t.Errorf("stats %+v, want one repair", st)
	}
	end := start + int64(len(bs))
	check(t, d, want, start, end, 60)
	check(t, d, want, start, end, 3600)
	check(t, d, want, end-3000, end, 1)
}

// An idle instance leaves memory (issue 11: a flood of instances must not
// stay resident), and its next seconds, mid-minute and mid-hour, continue
// the same rows exactly: it is read back from its files.
func TestIdleInstanceForgotten(t *testing.T) {
	dir := t.TempDir()
	s := New(Options{DataDir: dir, ForgetAfter: 20 * time.Millisecond})
	r := rand.New(rand.NewPCG(2, 2))
	start := int64(1_700_000_000 - 1_700_000_000%3600)
	bs, want := gen(r, start, 200) // ends mid-minute and mid-hour
	other := store.Key{Host: "h", Customer: "c", Instance: "other"}
	if err := s.WriteBuckets(key, bs[:130]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // older than ForgetAfter, by the wall clock the store reads
	if err := s.WriteBuckets(other, nil); err != nil {
		t.Fatal(err)
	}
	if s.Held() != 1 { // other only
		t.Fatal("an instance idle for ForgetAfter is still in memory")
	}
	if err := s.WriteBuckets(key, bs[130:]); err != nil {
		t.Fatal(err)
	}
	d := Dir(dir, key)
	check(t, d, want, start, start+200, 60)
	check(t, d, want, start, start+200, 3600)
}
