package queued

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"graphmetrics/store"
)

// gated records what it is given, and waits while its gate is held, as a
// store does behind a slow disk.
type gated struct {
	gate sync.RWMutex
	mu   sync.Mutex
	got  map[store.Key][]store.Bucket
	fail error
}

func (g *gated) WriteBuckets(k store.Key, bs []store.Bucket) error {
	g.gate.RLock()
	defer g.gate.RUnlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail != nil {
		return g.fail
	}
	g.got[k] = append(g.got[k], bs...)
	return nil
}

func (g *gated) Sync(context.Context) error { return nil }

func (g *gated) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, bs := range g.got {
		n += len(bs)
	}
	return n
}

func bucket(t int64, app byte, url string) store.Bucket {
	return store.Bucket{Time: t, Requests: 1, App: []byte{app, app},
		URLs: []store.URLStat{{Pattern: url, Count: 1, App: []byte{app}}}}
}

// Writes return while the store is stuck; Sync waits for them; the
// buckets are the store's own (the caller reuses its memory); each
// instance's buckets arrive in order; Close writes what is queued.
func TestQueuedWritesOffTheCaller(t *testing.T) {
	in := &gated{got: map[store.Key][]store.Bucket{}}
	s := New(in, Options{Name: "test", Workers: 3, Depth: 64})
	in.gate.Lock() // the disk stalls
	keys := []store.Key{{Host: "h", Customer: "c", Instance: "a"}, {Host: "h", Customer: "c", Instance: "b"}}
	buf := make([]store.Bucket, 1)
	done := make(chan struct{})
	go func() {
		for sec := range int64(20) {
			for _, k := range keys {
				buf[0] = bucket(sec, byte(sec), "/x")
				if err := s.WriteBuckets(k, buf); err != nil {
					t.Error(err)
				}
				buf[0].App[0], buf[0].URLs[0].App[0], buf[0].URLs[0].Pattern = 99, 99, "/reused"
			}
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WriteBuckets waited for the stalled store")
	}
	synced := make(chan error, 1)
	go func() { synced <- s.Sync(context.Background()) }()
	select {
	case <-synced:
		t.Fatal("Sync returned before the queued writes were done")
	case <-time.After(50 * time.Millisecond):
	}
	in.gate.Unlock()
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if n := in.count(); n != 40 {
		t.Fatalf("%d buckets written after Sync, want 40", n)
	}
	for _, k := range keys {
		for i, b := range in.got[k] {
			want := bucket(int64(i), byte(i), "/x")
			if b.Time != want.Time || !slices.Equal(b.App, want.App) || b.URLs[0].Pattern != "/x" || b.URLs[0].App[0] != byte(i) {
				t.Fatalf("%v bucket %d: %+v, want %+v", k, i, b, want)
			}
		}
	}
	s.WriteBuckets(keys[0], []store.Bucket{bucket(20, 20, "/x")})
	s.Close()
	if n := in.count(); n != 41 {
		t.Errorf("%d buckets after Close, want 41", n)
	}
}

// A failed write is counted and reported by the next Sync, once.
func TestQueuedFailureReported(t *testing.T) {
	in := &gated{got: map[store.Key][]store.Bucket{}, fail: errors.New("disk full")}
	s := New(in, Options{Name: "test"})
	defer s.Close()
	k := store.Key{Host: "h", Customer: "c", Instance: "a"}
	s.WriteBuckets(k, []store.Bucket{bucket(1, 1, "/x")})
	err := s.Sync(context.Background())
	if err == nil || s.Failed() != 1 {
		t.Fatalf("Sync after a failed write: %v, %d failed", err, s.Failed())
	}
	if err := s.Sync(context.Background()); err != nil {
		t.Errorf("second Sync: %v", err)
	}
}

// Sync gives up with its context while a worker is stuck.
func TestQueuedSyncContext(t *testing.T) {
	in := &gated{got: map[store.Key][]store.Bucket{}}
	s := New(in, Options{Name: "test", Workers: 1})
	in.gate.Lock()
	s.WriteBuckets(store.Key{Instance: "a"}, []store.Bucket{bucket(1, 1, "/x")})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sync: %v", err)
	}
	in.gate.Unlock()
	s.Close()
}

func TestClone(t *testing.T) {
	bs := []store.Bucket{bucket(1, 1, "/a"), {Time: 2}, bucket(3, 3, "/c")}
	bs[1].URLs = []store.URLStat{{Pattern: "/b", Count: 2}} // no app times
	c := Clone(bs)
	for i := range bs {
		bs[i].App = append(bs[i].App[:0], 7, 7)
	}
	if got := fmt.Sprint(c[0].App, c[1].App, c[2].App, c[0].URLs, c[1].URLs, c[2].URLs); got != "[1 1] [] [3 3] [{/a 1 0 0 0 0 [1]}] [{/b 2 0 0 0 0 []}] [{/c 1 0 0 0 0 [3]}]" {
		t.Errorf("clone: %s", got)
	}
	if c[1].App != nil || c[1].URLs[0].App != nil {
		t.Error("nil histograms not kept nil")
	}
	c[0].URLs = append(c[0].URLs, store.URLStat{Pattern: "/z"})
	if c[1].URLs[0].Pattern != "/b" {
		t.Error("a clone's URLs run into the next bucket's")
	}
}

// Big jobs (an import's 4,096 seconds of one instance) are bounded by
// the buckets queued, not only by the jobs.
func TestQueuedBucketBound(t *testing.T) {
	in := &gated{got: map[store.Key][]store.Bucket{}}
	s := New(in, Options{Name: "test", Workers: 1, Depth: 100, MaxBuckets: 10})
	defer s.Close()
	in.gate.Lock()
	k := store.Key{Instance: "a"}
	big := make([]store.Bucket, 6)
	for i := range big {
		big[i] = bucket(int64(i), 1, "/x")
	}
	s.WriteBuckets(k, big) // 6 queued (stuck in the store)
	second := make(chan struct{})
	go func() {
		s.WriteBuckets(k, big) // 12 > 10: waits for the first
		close(second)
	}()
	select {
	case <-second:
		t.Fatal("a job past MaxBuckets was queued")
	case <-time.After(50 * time.Millisecond):
	}
	in.gate.Unlock()
	<-second
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := in.count(); n != 12 {
		t.Errorf("%d buckets written, want 12", n)
	}
	big = append(big, big...) // one job larger than MaxBuckets still goes
	s.WriteBuckets(k, big)
	if err := s.Sync(context.Background()); err != nil || in.count() != 24 {
		t.Errorf("a job over MaxBuckets: %v, %d written", err, in.count())
	}
}
