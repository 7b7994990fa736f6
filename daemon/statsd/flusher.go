package statsd

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/daemon/graphite"
	"graphmetrics/store"
	"graphmetrics/store/loglimit"
)

// FlusherOptions configures a Flusher.
type FlusherOptions struct {
	Agg           *Agg
	FlushInterval time.Duration // default 10s; the RRD step of the files
	Percentiles   []float64     // default 90, 95, 99
	Sink          graphite.Sink
	// Schemas are the Graphite input's: a new file takes the archives of
	// the first schema matching its name whose step is FlushInterval (the
	// statsd files' step); else the defaults for the step.
	Schemas []graphite.Schema
	Logger  *slog.Logger
	Now     func() time.Time // default time.Now
}

// Flusher writes an Agg every FlushInterval, at wall-clock multiples of it,
// each value stamped with that boundary (so it is the RRD row ending there)
// into the Graphite tree: stats.counters.a.b.count is
// rrd/metrics/graphite/stats/counters/a/b/count.rrd.
type Flusher struct {
	o       FlusherOptions
	log     *slog.Logger
	limit   *loglimit.Limiter
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex // one flush at a time
	flushes atomic.Uint64
	written atomic.Uint64
	sinkErr atomic.Uint64
	lastTS  int64
}

// NewFlusher checks the options.
func NewFlusher(o FlusherOptions) (*Flusher, error) {
	if o.Agg == nil || o.Sink == nil {
		return nil, errors.New("statsd: Agg and Sink are required")
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 10 * time.Second
	}
	if o.FlushInterval < time.Second || o.FlushInterval%time.Second != 0 {
		return nil, errors.New("statsd: flush interval must be whole seconds")
	}
	if o.Percentiles == nil {
		o.Percentiles = []float64{90, 95, 99}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Flusher{o: o, log: o.Logger.With("component", "statsd"), limit: loglimit.New(loglimit.DefaultEvery, nil)}, nil
}

// Start flushes at every boundary until Close.
func (f *Flusher) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			now := f.o.Now()
			next := now.Truncate(f.o.FlushInterval).Add(f.o.FlushInterval)
			t := time.NewTimer(next.Sub(now))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			f.Flush(next.Unix())
		}
	}()
}

// Close stops the loop and writes what was gathered since the last flush,
// stamped with the boundary ahead (the row it belongs to).
func (f *Flusher) Close() {
	if f.cancel != nil {
		f.cancel()
		f.wg.Wait()
	}
	iv := int64(f.o.FlushInterval / time.Second)
	f.Flush((f.o.Now().Unix()/iv + 1) * iv)
}

// Flush writes one flush stamped ts.
func (f *Flusher) Flush(ts int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ts <= f.lastTS {
		return // a row already written: RRD would refuse it
	}
	f.lastTS = ts
	start := time.Now()
	interval := f.o.FlushInterval.Seconds()
	snap := f.o.Agg.take(ts, interval)
	step := f.o.FlushInterval
	emit := func(name string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return // etsy would send "NaN", which a Graphite input refuses
		}
		var rras []store.Archive
		if sc, ok := graphite.Match(f.o.Schemas, name); ok && sc.Step == step {
			rras = sc.RRAs
		}
		err := f.o.Sink.WriteMetricRRAs(graphite.Path(name), step, rras, []store.Point{{Time: ts, Value: v}})
		if err != nil {
			f.sinkErr.Add(1)
			f.limit.Log(f.log, "sink", "statsd value not written", "name", name, "err", err)
			return
		}
		f.written.Add(1)
	}
	n := snap.stats(interval, f.o.Percentiles, emit)
	calc := float64(time.Since(start).Milliseconds())
	emit("stats.statsd.numStats", float64(n))
	emit("stats.statsd.graphiteStats.calculationtime", calc)
	emit("stats.statsd.processing_time", calc)
	f.flushes.Add(1)
}

// FlusherStats are the flusher's counters.
type FlusherStats struct {
	Flushes    uint64 `json:"flushes"`
	Written    uint64 `json:"values_written"`
	SinkErrors uint64 `json:"sink_errors"`
}

// Stats returns the counters.
func (f *Flusher) Stats() FlusherStats {
	return FlusherStats{Flushes: f.flushes.Load(), Written: f.written.Load(), SinkErrors: f.sinkErr.Load()}
}
