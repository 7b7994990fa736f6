package rrdfile

import (
	"fmt"
	"graphmetrics/store"
	"os"
	"runtime"
	"testing"
	"time"
)

// Attacks of issue 11 at the writer, with real librrd files.

// tinyRRAs keep the files of a flood small and quick to create.
var tinyRRAs = []store.Archive{{CF: "AVERAGE", Step: time.Second, Span: time.Minute}}

// Row 1: the writer's per-file map was never pruned, so every instance of
// a flood stayed in memory for good. Now files that get no rows for
// ForgetAfter are forgotten, and the heap returns to its baseline.
func TestAttackWriterForgetsIdleFiles(t *testing.T) {
	w := newTestWriter(t, WriterOptions{TracelogRRAs: tinyRRAs, ForgetAfter: 4 * time.Second,
		RetryInterval: 50 * time.Millisecond})
	t0 := time.Now().Unix() - 10
	write := func(k store.Key) {
		t.Helper()
		if err := w.WriteBuckets(k, []store.Bucket{{Time: t0, Requests: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	write(store.Key{Host: "h", Customer: "c", Instance: "warm-up"})
	syncW(t, w)
	waitUntil(t, "the warm-up file forgotten", func() bool { return w.Stats().Files == 0 })
	base := heapInUse()

	const n = 1000
	for i := range n {
		write(store.Key{Host: "10.6.6.6", Customer: "evil", Instance: fmt.Sprint("i", i)})
	}
	syncW(t, w)
	if f := w.Stats().Files; f < n/2 {
		t.Fatalf("%d files held right after the flood; the test needs them held", f)
	}
	flood := heapInUse()
	waitUntil(t, "the flood's files forgotten", func() bool { return w.Stats().Files == 0 })
	after := heapInUse()
	t.Logf("live heap: baseline %d KB, flood %d KB, after %d KB", base>>10, flood>>10, after>>10)
	if float64(after) > 1.1*float64(base) {
		t.Errorf("heap %d KB after the flood, baseline %d KB: not within 10%%", after>>10, base>>10)
	}
	// A forgotten file is picked up again when its instance comes back.
	write(store.Key{Host: "10.6.6.6", Customer: "evil", Instance: "i7"})
	if err := w.WriteBuckets(store.Key{Host: "10.6.6.6", Customer: "evil", Instance: "i7"}, []store.Bucket{{Time: t0 + 1, Requests: 2}}); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	if st := w.Stats(); st.Skipped != 1 || st.Errors != 0 {
		t.Errorf("coming back: %+v (want the replayed second skipped, no error)", st)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Row 10: instances "coll:x" and "coll_x" both landed in coll_x.rrd, and
// the second one's seconds were refused as not newer. Now each has its
// own file and keeps every second.
func TestAttackNameCollision(t *testing.T) {
	dir := t.TempDir()
	w := newTestWriter(t, WriterOptions{DataDir: dir, TracelogRRAs: tinyRRAs})
	t0 := time.Now().Unix() - 10
	a := store.Key{Host: "10.0.0.1", Customer: "coll", Instance: "coll:x"}
	b := store.Key{Host: "10.0.0.1", Customer: "coll", Instance: "coll_x"}
	for _, k := range []store.Key{a, b} {
		if err := w.WriteBuckets(k, []store.Bucket{{Time: t0, Requests: 3}, {Time: t0 + 1, Requests: 4}}); err != nil {
			t.Fatal(err)
		}
	}
	syncW(t, w)
	if st := w.Stats(); st.Skipped != 0 || st.Rows != 4 {
		t.Errorf("rows %d (want 4), skipped %d (want 0)", st.Rows, st.Skipped)
	}
	fa, fb := store.TracelogFile(dir, a), store.TracelogFile(dir, b)
	if fa == fb {
		t.Fatalf("both in %s", fa)
	}
	for _, f := range []string{fa, fb} {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
		rows := fetch(t, f, "AVERAGE", 1, t0-2, t0+2)
		if got := rows[t0+1]; len(got) == 0 || got[0] != 3 {
			t.Errorf("%s: %v at its first second, want requests 3", f, got)
		}
	}
}

// Row 2 at the writer: files it creates are its owner's alone.
func TestAttackWriterFileModes(t *testing.T) {
	dir := t.TempDir()
	w := newTestWriter(t, WriterOptions{DataDir: dir, TracelogRRAs: tinyRRAs})
	k := store.Key{Host: "h", Customer: "c", Instance: "i"}
	if err := w.WriteBuckets(k, []store.Bucket{{Time: time.Now().Unix() - 5, Requests: 1}}); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	info, err := os.Stat(store.TracelogFile(dir, k))
	if err != nil {
		t.Fatal(err)
	}
	if m := info.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
}
