// Package graphite receives Graphite plaintext ("name value [timestamp]"
// lines) over UDP and TCP with daemon/listen's sockets and writes each name
// a.b.c to rrd/metrics/graphite/a/b/c.rrd. A series' newest row is held in
// memory until it is final (its end plus holdRow), so the last value of a
// row wins as in carbon and a busy series costs one RRD update per row, not
// one per point. New files take their step and archives from ordered
// schema rules; the number of series is bounded by MaxSeries.
package graphite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/daemon/listen"
	"graphmetrics/parser"
	"graphmetrics/store"
	"graphmetrics/store/loglimit"
)

// Sink is where final points go: the RRD writer.
type Sink interface {
	WriteMetricRRAs(path []string, step time.Duration, rras []store.Archive, pts []store.Point) error
}

// Options configures an Input. Listen's UDP, TCP and limits are used as
// given; its Handle, Split and Logger are set by New.
type Options struct {
	Listen    listen.Options
	Schemas   []Schema
	MaxSeries int // default 100,000
	Sink      Sink
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
	Tick      time.Duration    // how often final rows are written; default 1s
}

// Stats are the input's counters.
type Stats struct {
	Points    uint64            `json:"points"`   // lines accepted
	Rejected  map[string]uint64 `json:"rejected"` // lines refused, by reason
	Series    int               `json:"series"`   // series known
	Dropped   uint64            `json:"dropped"`  // points of old rows beyond the per-series bound
	SinkError uint64            `json:"sink_errors"`
}

// Input is a running Graphite plaintext receiver.
type Input struct {
	opts             Options
	log              *slog.Logger
	limit            *loglimit.Limiter
	*listen.Listener // Addrs; Start and Close are the Input's own
	t                *table
	points           atomic.Uint64
	sinkErr          atomic.Uint64
	rejects          *Rejects

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks the options; nothing is bound until Start.
func New(o Options) (*Input, error) {
	if o.Sink == nil {
		return nil, errors.New("graphite: Sink is required")
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	for i, s := range o.Schemas {
		if s.Pattern == nil || s.Step < time.Second || s.Step%time.Second != 0 {
			return nil, fmt.Errorf("graphite: schema %d: pattern and a whole-second step are required", i)
		}
		if len(s.RRAs) == 0 {
			return nil, fmt.Errorf("graphite: schema %d: no archives", i)
		}
		for _, a := range s.RRAs {
			if a.Step < s.Step || a.Step%s.Step != 0 || a.Span < a.Step {
				return nil, fmt.Errorf("graphite: schema %d: archive %s does not fit step %s", i, a, s.Step)
			}
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	in := &Input{
		opts:    o,
		log:     o.Logger.With("component", "graphite"),
		limit:   loglimit.New(loglimit.DefaultEvery, nil),
		t:       newTable(o.MaxSeries, o.Schemas),
		rejects: NewRejects(Reasons[:]...),
	}
	lo := o.Listen
	lo.Handle, lo.Split, lo.Logger = in.Handle, parser.NewLineSplitterFunc, in.log
	in.Listener = listen.New(lo)
	return in, nil
}

// Start binds the sockets and starts writing final rows.
func (in *Input) Start() error {
	if err := in.Listener.Start(); err != nil {
		return fmt.Errorf("graphite: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		tk := time.NewTicker(in.opts.Tick)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				in.flush(false)
			}
		}
	}()
	return nil
}

// Close stops the listeners, then writes every held row.
func (in *Input) Close(ctx context.Context) error {
	err := in.Listener.Close(ctx)
	if in.cancel != nil {
		in.cancel()
		in.wg.Wait()
	}
	in.flush(true)
	return err
}

// Listeners are the socket counters.
func (in *Input) Listeners() []listen.ListenerStats { return in.Listener.Stats() }

// Stats returns the counters.
func (in *Input) Stats() Stats {
	in.t.mu.Lock()
	n, dropped := len(in.t.m), in.t.dropped
	in.t.mu.Unlock()
	return Stats{Points: in.points.Load(), Rejected: in.rejects.Snapshot(), Series: n,
		Dropped: dropped, SinkError: in.sinkErr.Load()}
}

// Handle takes messages as the listener frames them: a UDP datagram of
// several lines, or one TCP line.
func (in *Input) Handle(src netip.Addr, msgs [][]byte) {
	now := in.opts.Now().Unix()
	var ok uint64
	in.t.mu.Lock()
	defer func() {
		in.t.mu.Unlock()
		in.points.Add(ok)
	}()
	for _, m := range msgs {
		for len(m) > 0 {
			line := m
			if i := bytes.IndexByte(m, '\n'); i >= 0 {
				line, m = m[:i], m[i+1:]
			} else {
				m = nil
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			name, v, ts, err := ParseLine(line, now)
			if err == nil && !in.t.add(name, v, ts) {
				err = perr(MaxSeries, fmt.Sprintf("more than %d series", in.opts.MaxSeries))
			}
			if err != nil {
				in.reject(src, err, line)
				continue
			}
			ok++
		}
	}
}

func (in *Input) reject(src netip.Addr, err error, line []byte) {
	r := ReasonOf(err)
	in.rejects.Add(r)
	if len(line) > 120 {
		line = line[:120]
	}
	in.limit.Log(in.log, r, "rejected graphite line", "reason", r, "err", err, "src", src, "line", string(line))
}

func (in *Input) flush(force bool) {
	for _, w := range in.t.final(in.opts.Now().Unix(), force) {
		if err := in.opts.Sink.WriteMetricRRAs(w.path, w.step, w.rras, w.pts); err != nil {
			in.sinkErr.Add(1)
			in.limit.Log(in.log, "sink", "graphite points not written", "err", err)
		}
	}
}
