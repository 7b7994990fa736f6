package rrdfile

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/sampletest"
)

// pipeline is an aggregator feeding a real RRD writer in dir.
func pipeline(t *testing.T, dir string) (*store.Aggregator, *Writer) {
	t.Helper()
	w := newTestWriter(t, WriterOptions{DataDir: dir})
	a, err := store.NewAggregator(store.AggOptions{Sink: w, Now: func() time.Time { return t0 }, FlushInterval: time.Hour, Shards: 2,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return a, w
}

// The sample log through the aggregator into a real RRD file: the
// 1-minute AVERAGE row at M+60 times 60 is minute M's count (full minutes
// only: 15:47 starts at :18 and 15:54 ends at :56).
func TestSampleThroughRRD(t *testing.T) {
	dir := t.TempDir()
	a, _ := pipeline(t, dir)
	a.Start()
	feed(t, a, 50, sampletest.Lines(t)...)
	closeAgg(t, a)
	path := store.TracelogFile(dir, testKey)
	rows := fetch(t, path, "AVERAGE", 60, at("2009-07-30 15:47:00"), at("2009-07-30 15:55:00"))
	for _, w := range sampletest.Minutes[1:7] {
		m := at("2009-07-30 " + w.At + ":00")
		got := rows[m+60]
		if len(got) != len(store.DataSources) {
			t.Fatalf("%s: row %v", w.At, got)
		}
		want := []float64{float64(w.Requests), float64(w.Errors), w.AppSum, float64(w.AppN)}
		for i, v := range want {
			if math.Abs(got[i]*60-v) > 1e-6 {
				t.Errorf("%s %s: %.9f/s × 60 = %.6f, want %v", w.At, store.DataSources[i], got[i], got[i]*60, v)
			}
		}
	}
	// The last second's levels, at 1 s resolution.
	last := fetch(t, path, "AVERAGE", 1, at("2009-07-30 15:54:50"), at("2009-07-30 15:55:00"))
	if got := last[at("2009-07-30 15:54:57")]; got[4] != 1 || got[5] != 1 {
		t.Errorf("15:54:56 waiting/busy = %v/%v, want 1/1", got[4], got[5])
	}
}

// SPEC §10's exactly-once design with a crash: checkpoint, more buckets
// reach the file, the process dies, a new aggregator restores the
// checkpoint and re-reads from its position. The file ends up exactly as
// after an uninterrupted run.
func TestCrashReplayExactlyOnce(t *testing.T) {
	lines := sampletest.Lines(t)
	ctx := context.Background()

	clean := t.TempDir()
	a, _ := pipeline(t, clean)
	a.Start()
	feed(t, a, 10, lines...)
	closeAgg(t, a)
	want := fetch(t, store.TracelogFile(clean, testKey), "AVERAGE", 1, at("2009-07-30 15:47:00"), at("2009-07-30 15:55:00"))

	for _, pos := range []int{0, 40, 101, 170} {
		dir := t.TempDir()
		a1, _ := pipeline(t, dir)
		a1.Start()
		feed(t, a1, 10, lines[:pos]...)
		snap, err := a1.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// After the checkpoint more seconds become final and are written.
		feed(t, a1, 10, lines[pos:pos+30]...)
		if _, err := a1.Checkpoint(ctx); err != nil { // hands them to w1 and syncs it
			t.Fatal(err)
		}
		// Crash: a1 is abandoned, its pending state lost.
		a2, w2 := pipeline(t, dir)
		if err := a2.Restore(snap); err != nil {
			t.Fatal(err)
		}
		a2.Start()
		feed(t, a2, 10, lines[pos:]...)
		closeAgg(t, a2)
		got := fetch(t, store.TracelogFile(dir, testKey), "AVERAGE", 1, at("2009-07-30 15:47:00"), at("2009-07-30 15:55:00"))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("checkpoint at line %d: file differs from the uninterrupted run", pos)
		}
		if pos > 0 && w2.Stats().Skipped == 0 {
			t.Errorf("checkpoint at line %d: nothing replayed; the test did not test", pos)
		}
	}
}
