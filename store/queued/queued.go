// Package queued runs a store.Sink's writes on worker goroutines of its
// own, so the aggregator's shards (and through them the network readers)
// never wait for that sink's file work: the app-time histograms and the
// URL statistics create an instance's directory and files on its first
// flush, a new segment file of every instance at the same boundary, and
// rewrite closed segments compressed (with an fsync) at the top of each
// hour. Done in the shards, 2,000 new instances stopped ingestion for 4 s
// and the kernel dropped 61,000 datagrams (contrib/bench -scenario
// instances).
//
// Buckets are copied when handed over (the aggregator reuses their
// memory). Each instance's buckets go to one worker, in order. The queue
// is bounded: when it is full, WriteBuckets waits, which is the
// backpressure an import wants and, live, no worse than writing in place.
// A failed write is counted, logged (rate-limited) and reported by the
// next Sync.
package queued

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"

	"graphmetrics/store"
	"graphmetrics/store/loglimit"
)

// Options configures a Sink.
type Options struct {
	Name    string // in log lines
	Workers int    // default 2
	// Depth is the jobs (one instance's buckets of one flush) each worker
	// queues; default 4096: 40 s of flushes of a 2,000-instance fleet
	// over two workers.
	Depth int
	// MaxBuckets bounds the buckets queued over all workers (default
	// 262,144, some 100 MB with URL rows): an import hands over jobs of
	// up to 4,096 seconds of one instance.
	MaxBuckets int
	Logger     *slog.Logger // default slog.Default()
}

// Sink is a store.Sink whose writes happen on its workers.
type Sink struct {
	inner   store.Sink
	name    string
	seed    maphash.Seed
	workers []chan job
	wg      sync.WaitGroup
	log     *slog.Logger
	lim     *loglimit.Limiter

	failed  atomic.Uint64 // writes that failed, ever
	mu      sync.Mutex
	lastErr error // the newest failure since the last Sync
	closed  bool
	queued  int // buckets queued, at most maxB (or one job's)
	maxB    int
	room    *sync.Cond // signalled when queued goes down
}

type job struct {
	k    store.Key
	bs   []store.Bucket
	sync chan struct{} // a barrier: closed once every earlier job is done
}

// New starts the workers of a Sink writing to inner.
func New(inner store.Sink, o Options) *Sink {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Depth <= 0 {
		o.Depth = 4096
	}
	if o.MaxBuckets <= 0 {
		o.MaxBuckets = 1 << 18
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Sink{inner: inner, name: o.Name, seed: maphash.MakeSeed(), maxB: o.MaxBuckets,
		log: o.Logger.With("component", "queued", "sink", o.Name), lim: loglimit.New(0, nil)}
	s.room = sync.NewCond(&s.mu)
	for range o.Workers {
		ch := make(chan job, o.Depth)
		s.workers = append(s.workers, ch)
		s.wg.Add(1)
		go s.run(ch)
	}
	return s
}

func (s *Sink) run(ch chan job) {
	defer s.wg.Done()
	for j := range ch {
		if j.sync != nil {
			close(j.sync)
			continue
		}
		err := s.inner.WriteBuckets(j.k, j.bs)
		s.mu.Lock()
		s.queued -= len(j.bs)
		s.room.Broadcast()
		if err != nil {
			s.lastErr = fmt.Errorf("%s %s/%s/%s: %w", s.name, j.k.Host, j.k.Customer, j.k.Instance, err)
		}
		s.mu.Unlock()
		if err != nil {
			s.failed.Add(1)
			if ok, n := s.lim.Allow("write"); ok {
				s.log.Error("write failed: these seconds are not stored", "host", j.k.Host,
					"customer", j.k.Customer, "instance", j.k.Instance, "seconds", len(j.bs), "err", err, "suppressed", n)
			}
		}
	}
}

// WriteBuckets queues a copy of bs for k's worker. It waits while the
// queue holds MaxBuckets (unless it is empty) or that worker's is full.
func (s *Sink) WriteBuckets(k store.Key, bs []store.Bucket) error {
	if len(bs) == 0 {
		return nil
	}
	s.mu.Lock()
	for s.queued > 0 && s.queued+len(bs) > s.maxB {
		s.room.Wait()
	}
	s.queued += len(bs)
	s.mu.Unlock()
	h := maphash.Comparable(s.seed, k)
	ch := s.workers[h%uint64(len(s.workers))]
	ch <- job{k: k, bs: Clone(bs)}
	return nil
}

// Sync returns once everything queued before it is written, with an
// error if a write failed since the previous Sync.
func (s *Sink) Sync(ctx context.Context) error {
	var waits []chan struct{}
	for _, ch := range s.workers {
		w := make(chan struct{})
		select {
		case ch <- job{sync: w}:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", s.name, ctx.Err())
		}
		waits = append(waits, w)
	}
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", s.name, ctx.Err())
		}
	}
	s.mu.Lock()
	err := s.lastErr
	s.lastErr = nil
	s.mu.Unlock()
	return errors.Join(err, s.inner.Sync(ctx))
}

// Failed is the number of writes that failed.
func (s *Sink) Failed() uint64 { return s.failed.Load() }

// Close writes what is queued and stops the workers. Nothing may be
// written after it.
func (s *Sink) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	for _, ch := range s.workers {
		close(ch)
	}
	s.wg.Wait()
}

// Clone copies buckets and everything they point to into memory of
// their own.
func Clone(bs []store.Bucket) []store.Bucket {
	n, u := 0, 0
	for i := range bs {
		n += len(bs[i].App)
		u += len(bs[i].URLs)
		for j := range bs[i].URLs {
			n += len(bs[i].URLs[j].App)
		}
	}
	arena := make([]byte, 0, n)
	urls := make([]store.URLStat, 0, u)
	keep := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		arena = append(arena, b...)
		return arena[len(arena)-len(b) : len(arena) : len(arena)]
	}
	out := make([]store.Bucket, len(bs))
	for i, b := range bs {
		b.App = keep(b.App)
		first := len(urls)
		for _, x := range b.URLs {
			x.App = keep(x.App)
			urls = append(urls, x)
		}
		if b.URLs != nil {
			b.URLs = urls[first:len(urls):len(urls)]
		}
		out[i] = b
	}
	return out
}
