package store

import (
	"context"
	"errors"
	"fmt"
	"graphmetrics/store/urlpattern"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/store/loglimit"
)

// Sink receives final buckets. rrdfile.Writer implements it.
type Sink interface {
	// WriteBuckets takes final buckets of one instance, in time order. It
	// must not keep bs after returning.
	WriteBuckets(k Key, bs []Bucket) error
	// Sync returns once everything handed over before the call is in the
	// files, or with an error if some of it is not.
	Sync(ctx context.Context) error
}

// AggOptions configures an Aggregator. Zero values take the defaults of
// SPEC §7 [tracelog].
type AggOptions struct {
	Lateness      time.Duration // default 5s
	IdleTimeout   time.Duration // default 5m
	FlushInterval time.Duration // default 10s
	// HungAfter: a request running longer is hung (the "hung" level).
	// Default 60s.
	HungAfter time.Duration
	// MaxFuture drops records stamped further ahead of the wall clock
	// (one bad timestamp would otherwise push an RRD file's last update
	// into the future and lock out every real record). Default 5m;
	// negative: no limit (import, which bounds time its own way).
	MaxFuture time.Duration
	// Replay marks a one-shot replay that ends with Close (graphmetrics
	// import): the wall clock finalizes and forgets nothing, so a replay
	// that stalls (a slow disk, a full writer queue) loses no record as
	// late; seconds become final by event time (lateness behind an
	// instance's newest record), at an event-time gap of idle_timeout,
	// and at Close.
	Replay bool
	// MaxInstances and NewInstancesPerMinute bound the instances tracked
	// and the instances created a minute (over all shards); records of a
	// new instance beyond them are counted as RefusedInstances and
	// dropped. Instances for which Known is true (their file exists) are
	// never refused. Defaults 10000 and 600.
	MaxInstances          int
	NewInstancesPerMinute int
	Known                 func(Key) bool
	// MaxRequests bounds the requests one instance holds (default 10000):
	// a new one beyond it drops the oldest. RequestTimeout (default 1h of
	// event time) drops a request that had no record for that long.
	MaxRequests    int
	RequestTimeout time.Duration
	// URLs makes the URL patterns of the per-URL statistics in
	// Bucket.URLs (issue 12); nil: no URL statistics.
	URLs   *urlpattern.Normalizer
	Shards int              // default 2
	Now    func() time.Time // wall clock; default time.Now
	Sink   Sink             // required
	Logger *slog.Logger     // default slog.Default()

	noHist bool // benchmarks: ingest without app-time histograms
}

// AggStats are cumulative counters, readable at any time.
type AggStats struct {
	Records   uint64 `json:"records"`     // records processed
	Late      uint64 `json:"late"`        // records for seconds already final: counts dropped
	Unknown   uint64 `json:"unknown"`     // records with an unknown code
	Future    uint64 `json:"future"`      // records too far ahead of the wall clock, dropped
	StaleEnds uint64 `json:"stale_ends"`  // E records of an older request, ignored
	Buckets   uint64 `json:"buckets"`     // final buckets handed to the Sink
	SinkErr   uint64 `json:"sink_errors"` // WriteBuckets calls that failed (their buckets are lost)
	Dropped   uint64 `json:"dropped"`     // records submitted after Close
	Instances int64  `json:"instances"`   // instances currently tracked
	// RefusedInstances counts records dropped because they would have
	// created an instance past MaxInstances or NewInstancesPerMinute.
	RefusedInstances uint64 `json:"refused_instances"`
	RequestsDropped  uint64 `json:"requests_dropped"`   // open requests dropped for MaxRequests
	RequestsTimedOut uint64 `json:"requests_timed_out"` // open requests dropped for RequestTimeout
}

// Aggregator turns tracelog records into per-second buckets (SPEC §3).
// Instances are sharded over goroutines by a hash of their key, so each
// instance has one owner and the hot path takes no lock.
type Aggregator struct {
	opts    AggOptions
	tm      timing
	adm     admission
	seed    maphash.Seed
	shards  []*shard
	batches sync.Pool
	parts   sync.Pool

	mu      sync.Mutex // guards started/closed transitions
	started bool
	closed  bool
	done    chan struct{} // closed by Close: Submit stops blocking
	wg      sync.WaitGroup

	buckets, sinkErr, dropped atomic.Uint64
	sinkLog                   *loglimit.Limiter // "buckets lost": one line a minute
}

// NewAggregator returns an Aggregator; call Restore (optionally) and Start.
func NewAggregator(o AggOptions) (*Aggregator, error) {
	if o.Sink == nil {
		return nil, errors.New("aggregator: no sink")
	}
	if o.Lateness < 0 || o.IdleTimeout < 0 || o.FlushInterval < 0 || o.RequestTimeout < 0 || o.HungAfter < 0 {
		return nil, errors.New("aggregator: negative duration")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Lateness, 5*time.Second)
	def(&o.IdleTimeout, 5*time.Minute)
	def(&o.FlushInterval, 10*time.Second)
	def(&o.MaxFuture, DefaultMaxFuture)
	def(&o.RequestTimeout, DefaultRequestTimeout)
	def(&o.HungAfter, time.Minute)
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	defInt(&o.MaxInstances, DefaultMaxInstances)
	defInt(&o.NewInstancesPerMinute, DefaultNewInstancesPerMinute)
	defInt(&o.MaxRequests, DefaultMaxRequests)
	if o.Shards <= 0 {
		o.Shards = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = o.Logger.With("component", "aggregator")
	a := &Aggregator{
		opts: o,
		tm: timing{
			lateness:   o.Lateness.Microseconds(),
			hung:       o.HungAfter.Microseconds(),
			idle:       o.IdleTimeout.Microseconds(),
			idleSec:    max(int64((o.IdleTimeout+time.Second-1)/time.Second), 1),
			maxReq:     o.MaxRequests,
			reqTimeout: o.RequestTimeout.Microseconds(),
			noHist:     o.noHist,
			replay:     o.Replay,
		},
		adm: admission{
			maxLive:   int64(o.MaxInstances),
			perMinute: int64(o.NewInstancesPerMinute),
			known:     o.Known,
		},
		seed: maphash.MakeSeed(),
		done: make(chan struct{}),
	}
	a.sinkLog = loglimit.New(time.Minute, nil)
	for range o.Shards {
		s := &shard{
			a:    a,
			in:   make(chan msg, 64),
			inst: make(map[string]*instance),
		}
		if o.URLs != nil {
			s.pats = &patCache{n: o.URLs, m: map[string]string{}}
		}
		a.shards = append(a.shards, s)
	}
	return a, nil
}

// Start starts the shard goroutines.
func (a *Aggregator) Start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started || a.closed {
		return errors.New("aggregator: already started")
	}
	a.started = true
	for _, s := range a.shards {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			s.run()
		}()
	}
	return nil
}

// Submit hands a batch over; the batch must not be used afterwards. It
// blocks while the shards are busy (backpressure; before Start, once their
// queues are full), and drops the batch, counting its records, once Close
// has been called.
func (a *Aggregator) Submit(b *Batch) {
	for i, p := range b.parts {
		if p == nil {
			continue
		}
		if a.isClosed() {
			a.dropped.Add(uint64(len(p.recs)))
			a.putPart(p)
			continue
		}
		select {
		case a.shards[i].in <- msg{p: p}:
		case <-a.done:
			a.dropped.Add(uint64(len(p.recs)))
			a.putPart(p)
		}
	}
	a.putBatch(b)
}

func (a *Aggregator) isClosed() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Checkpoint hands every final bucket to the Sink, waits until the Sink has
// written them, and returns the rest of the state (pending buckets,
// in-flight RIDs, how far each instance is final) for Restore. It reflects
// every batch submitted before the call: a replayable input calls it from
// its submitting goroutine and stores the result with its read position.
func (a *Aggregator) Checkpoint(ctx context.Context) ([]byte, error) {
	if a.isClosed() {
		return nil, errors.New("aggregator: checkpoint after close")
	}
	cs, err := a.control(ctx, ctlCheckpoint)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Sink.Sync(ctx); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var snap snapshot
	for _, c := range cs {
		snap.Instances = append(snap.Instances, c.snap...)
	}
	return snap.encode()
}

// Close finalizes every pending bucket, hands everything to the Sink, waits
// until it is written and stops the goroutines.
func (a *Aggregator) Close(ctx context.Context) error {
	_, err := a.CloseCheckpoint(ctx)
	return err
}

// CloseCheckpoint is Close for a replayable input's last checkpoint: it
// also returns the state that is left (in-flight RIDs, how far each
// instance is final) for Restore, so the input can resume at its read
// position after a restart; records for seconds written here then count
// as late. After the first call it returns nil, nil.
func (a *Aggregator) CloseCheckpoint(ctx context.Context) ([]byte, error) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, nil
	}
	a.closed = true
	close(a.done)
	a.mu.Unlock()
	cs, err := a.control(ctx, ctlClose)
	if err != nil {
		return nil, err
	}
	a.wg.Wait()
	if err := a.opts.Sink.Sync(ctx); err != nil {
		return nil, fmt.Errorf("close aggregator: %w", err)
	}
	var snap snapshot
	for _, c := range cs {
		snap.Instances = append(snap.Instances, c.snap...)
	}
	return snap.encode()
}

func (a *Aggregator) tickNow(ctx context.Context) error {
	_, err := a.control(ctx, ctlTick)
	return err
}

// control runs a control step on every shard, in order after every batch
// already submitted; before Start (or for Close without Start) it runs
// inline.
func (a *Aggregator) control(ctx context.Context, kind ctlKind, fn ...func(i int, s *shard)) ([]*ctl, error) {
	a.mu.Lock()
	inline := !a.started
	a.mu.Unlock()
	cs := make([]*ctl, len(a.shards))
	for i, s := range a.shards {
		cs[i] = &ctl{kind: kind, done: make(chan struct{})}
		if len(fn) > 0 {
			cs[i].fn = func(s *shard) { fn[0](i, s) }
		}
		if inline {
			s.handle(cs[i])
			continue
		}
		select {
		case s.in <- msg{c: cs[i]}:
		case <-ctx.Done():
			return nil, fmt.Errorf("aggregator %s: %w", kind, ctx.Err())
		}
	}
	for _, c := range cs {
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("aggregator %s: %w", kind, ctx.Err())
		}
	}
	return cs, nil
}

// Restore loads a Checkpoint result; call it before Start.
func (a *Aggregator) Restore(data []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("aggregator: restore after start")
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return err
	}
	wall := a.opts.Now().UnixMicro()
	for i := range snap.Instances {
		si := &snap.Instances[i]
		enc := encodeKey(si.Key)
		s := a.shards[maphash.Bytes(a.seed, enc)%uint64(len(a.shards))]
		in, err := si.instance(wall)
		if err != nil {
			return err
		}
		in.pats = s.pats
		s.inst[string(enc)] = in
	}
	for _, s := range a.shards {
		s.live.Store(int64(len(s.inst)))
	}
	a.adm.live.Store(int64(len(snap.Instances)))
	return nil
}

// Stats returns the counters summed over the shards.
func (a *Aggregator) Stats() AggStats {
	st := AggStats{
		Buckets: a.buckets.Load(),
		SinkErr: a.sinkErr.Load(),
		Dropped: a.dropped.Load(),
	}
	for _, s := range a.shards {
		st.Records += s.records.Load()
		st.Late += s.late.Load()
		st.Unknown += s.unknown.Load()
		st.Future += s.future.Load()
		st.StaleEnds += s.staleE.Load()
		st.Instances += s.live.Load()
		st.RefusedInstances += s.refused.Load()
		st.RequestsDropped += s.reqDropped.Load()
		st.RequestsTimedOut += s.timedOut.Load()
	}
	return st
}

// sinkError counts a failed hand-over and logs at most one a minute.
func (a *Aggregator) sinkError(k Key, n int, err error) {
	a.sinkErr.Add(1)
	a.sinkLog.LogLevel(a.opts.Logger, slog.LevelError, "sink", "buckets lost", "host", k.Host, "customer", k.Customer,
		"instance", k.Instance, "buckets", n, "err", err)
}
