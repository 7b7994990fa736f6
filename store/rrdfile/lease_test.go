package rrdfile

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"graphmetrics/store"
)

// A leased file is replaced by a copy renamed over it (as import-legacy
// does); the rows that came meanwhile wait, a Sync waits for them, and
// after the release they land in the new file once, next to the rows
// written before the lease.
func TestWriterLease(t *testing.T) {
	w := newTestWriter(t, WriterOptions{Workers: 1})
	m := at("2026-03-01 12:00:00")
	bs := testBuckets(m, 120)
	other := store.Key{Host: "h2", Customer: "cust", Instance: "other"}
	path := store.TracelogFile(w.opts.DataDir, testKey)
	if err := w.WriteBuckets(testKey, bs[:40]); err != nil {
		t.Fatal(err)
	}
	release, err := w.Lease(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// The rows queued before the lease are in the file.
	if got := fetch(t, path, "AVERAGE", 1, m, m+40); !sameValues(got[m+40], bucketValues(bs[39])) {
		t.Fatalf("row before the lease: %v", got[m+40])
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBuckets(testKey, bs[40:80]); err != nil {
		t.Fatal(err)
	}
	// Other files are written meanwhile.
	if err := w.WriteBuckets(other, bs[:10]); err != nil {
		t.Fatal(err)
	}
	synced := make(chan error, 1)
	go func() { synced <- w.Sync(context.Background()) }()
	// A second lease on the one worker returns after the Sync job was
	// handled: the Sync must still wait.
	otherPath := store.TracelogFile(w.opts.DataDir, other)
	release2, err := w.Lease(context.Background(), otherPath)
	if err != nil {
		t.Fatal(err)
	}
	release2()
	select {
	case err := <-synced:
		t.Fatalf("Sync returned (%v) while a leased file held rows", err)
	default:
	}
	if got := fetch(t, otherPath, "AVERAGE", 1, m, m+10); !sameValues(got[m+10], bucketValues(bs[9])) {
		t.Fatalf("other file during the lease: %v", got[m+10])
	}
	// The holder rewrites the file: a copy renamed over it.
	tmp := filepath.Join(filepath.Dir(path), ".copy")
	if err := os.WriteFile(tmp, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, path, "AVERAGE", 1, m+40, m+80); !isNaNRow(got[m+60]) {
		t.Fatalf("a row written during the lease: %v", got[m+60])
	}
	release()
	release() // more calls do nothing
	select {
	case err := <-synced:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Sync did not return after the release")
	}
	if err := w.WriteBuckets(testKey, bs[80:]); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	got := fetch(t, path, "AVERAGE", 1, m, m+120)
	for i, b := range bs {
		if !sameValues(got[b.Time+1], bucketValues(b)) {
			t.Fatalf("second %d: %v, want %v", i, got[b.Time+1], bucketValues(b))
		}
	}
	if s := w.Stats(); s.Skipped != 0 || s.Dropped != 0 || s.Errors != 0 || s.Leases != 2 || s.LeaseHeld != 40 {
		t.Errorf("stats %+v", s)
	}
}

// A lease asked for with a context that ends is given back by itself; a
// lease left at Close is ended by it, its rows written.
func TestWriterLeaseCancelAndClose(t *testing.T) {
	w := newTestWriter(t, WriterOptions{Workers: 1})
	m := at("2026-03-01 12:00:00")
	bs := testBuckets(m, 20)
	path := store.TracelogFile(w.opts.DataDir, testKey)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Lease(ctx, path); err == nil {
		t.Fatal("lease with an ended context")
	}
	// The grant that came anyway is given back: a new lease gets it.
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	release, err := w.Lease(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBuckets(testKey, bs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	release() // after Close: nothing to do
	got := fetch(t, path, "AVERAGE", 1, m, m+20)
	if !sameValues(got[m+20], bucketValues(bs[19])) {
		t.Fatalf("rows of a lease ended by Close: %v", got[m+20])
	}
}

func isNaNRow(r []float64) bool {
	for _, v := range r {
		if v == v {
			return false
		}
	}
	return len(r) > 0
}
