// Package zibrato subscribes to the ZeroMQ endpoint that Zibrato clients
// publish to (its broker's worker side) with a pure-Go ZeroMQ SUB socket
// (go-zeromq/zmq4: no cgo, no libzmq), filtered by level as Zibrato's
// workers are, and feeds its counters, timers and gauges into the statsd
// aggregation.
package zibrato

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"

	"graphmetrics/daemon/graphite"
	"graphmetrics/daemon/statsd"
	"graphmetrics/store/loglimit"
)

// Options configures an Input.
type Options struct {
	Connect string   // ZeroMQ endpoint, e.g. "tcp://127.0.0.1:5551"
	Levels  []string // levels to take; each is a subscription "level|"
	Agg     *statsd.Agg
	Logger  *slog.Logger
	Retry   time.Duration // between connection attempts; default 1s
}

// Stats are the input's counters.
type Stats struct {
	Messages  uint64            `json:"messages"` // taken into the aggregation
	Rejected  map[string]uint64 `json:"rejected"` // refused or ignored, by reason
	Connected bool              `json:"connected"`
}

// Input is a running Zibrato subscriber.
type Input struct {
	o         Options
	log       *slog.Logger
	limit     *loglimit.Limiter
	sock      zmq4.Socket
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	messages  atomic.Uint64
	connected atomic.Bool
	rejects   *graphite.Rejects
}

// New checks the options.
func New(o Options) (*Input, error) {
	if o.Agg == nil || o.Connect == "" || len(o.Levels) == 0 {
		return nil, errors.New("zibrato: Agg, Connect and Levels are required")
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Input{o: o, log: o.Logger.With("component", "zibrato"), limit: loglimit.New(loglimit.DefaultEvery, nil),
		rejects: graphite.NewRejects(Reasons[:]...)}, nil
}

// Start subscribes and connects in the background: the broker may come
// up later, and ZeroMQ reconnects when it restarts.
func (in *Input) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	in.sock = zmq4.NewSub(ctx, zmq4.WithDialerRetry(in.o.Retry), zmq4.WithDialerMaxRetries(-1),
		zmq4.WithAutomaticReconnect(true))
	for _, l := range in.o.Levels {
		if err := in.sock.SetOption(zmq4.OptionSubscribe, l+"|"); err != nil {
			cancel()
			return fmt.Errorf("zibrato: subscribe %q: %w", l, err)
		}
	}
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		if err := in.sock.Dial(in.o.Connect); err != nil {
			if ctx.Err() == nil {
				in.log.Error("zibrato: cannot connect", "connect", in.o.Connect, "err", err)
			}
			return
		}
		in.connected.Store(true)
		in.log.Info("zibrato connected", "connect", in.o.Connect, "levels", in.o.Levels)
		in.recv(ctx)
	}()
	return nil
}

func (in *Input) recv(ctx context.Context) {
	for {
		msg, err := in.sock.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			in.limit.Log(in.log, "recv", "zibrato receive failed", "err", err)
			t := time.NewTimer(in.o.Retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		for _, frame := range msg.Frames {
			in.handle(frame)
		}
	}
}

// handle takes one message.
func (in *Input) handle(b []byte) {
	level, key, s, reason := Parse(b)
	if reason == "" && !slices.Contains(in.o.Levels, string(level)) {
		reason = OtherLevel
	}
	if reason == "" {
		a := in.o.Agg
		a.Lock()
		ok := a.Add(key, s)
		a.Unlock()
		if !ok {
			reason = MaxSeries
		}
	}
	if reason != "" {
		in.rejects.Add(reason)
		if len(b) > 120 {
			b = b[:120]
		}
		in.limit.Log(in.log, reason, "rejected zibrato message", "reason", reason, "msg", string(b))
		return
	}
	in.messages.Add(1)
}

// Close stops receiving.
func (in *Input) Close() error {
	if in.cancel == nil {
		return nil
	}
	in.cancel()
	err := in.sock.Close()
	in.wg.Wait()
	return err
}

// Stats returns the counters.
func (in *Input) Stats() Stats {
	return Stats{Messages: in.messages.Load(), Rejected: in.rejects.Snapshot(), Connected: in.connected.Load()}
}
