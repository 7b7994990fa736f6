// Package metlog receives metlog-py's UDP messages (one JSON object per
// datagram, metlog/senders/udp.py) with daemon/listen's sockets and feeds
// "counter" and "timer" messages into the statsd aggregation, keyed by
// fields.name with fields.rate as the sample rate. Other types are
// counted and ignored.
package metlog

import (
	"errors"
	"log/slog"
	"net/netip"
	"sync/atomic"

	"graphmetrics/daemon/graphite"
	"graphmetrics/daemon/listen"
	"graphmetrics/daemon/statsd"
	"graphmetrics/store/loglimit"
)

// Options configures an Input; Listen's UDP and limits are used (TCP is
// not part of metlog's UDP sender).
type Options struct {
	Listen listen.Options
	Agg    *statsd.Agg
	Logger *slog.Logger
}

// Stats are the input's counters.
type Stats struct {
	Messages uint64            `json:"messages"` // counters and timers taken
	Rejected map[string]uint64 `json:"rejected"` // refused or ignored, by reason
}

// Input is a running Metlog receiver.
type Input struct {
	o                Options
	log              *slog.Logger
	limit            *loglimit.Limiter
	*listen.Listener // Start, Close, Addrs; its Stats are Listeners
	messages         atomic.Uint64
	rejects          *graphite.Rejects
}

// New checks the options; nothing is bound until Start.
func New(o Options) (*Input, error) {
	if o.Agg == nil {
		return nil, errors.New("metlog: Agg is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	in := &Input{o: o, log: o.Logger.With("component", "metlog"), limit: loglimit.New(loglimit.DefaultEvery, nil),
		rejects: graphite.NewRejects(Reasons[:]...)}
	lo := o.Listen
	lo.TCP = nil
	lo.Handle, lo.Logger = in.Handle, in.log
	in.Listener = listen.New(lo)
	return in, nil
}

// Listeners are the socket counters.
func (in *Input) Listeners() []listen.ListenerStats { return in.Listener.Stats() }

// Stats returns the counters.
func (in *Input) Stats() Stats {
	return Stats{Messages: in.messages.Load(), Rejected: in.rejects.Snapshot()}
}

// Handle takes datagrams, one message each.
func (in *Input) Handle(src netip.Addr, msgs [][]byte) {
	a := in.o.Agg
	for _, m := range msgs {
		key, s, reason := Parse(m)
		if reason == "" {
			a.Lock()
			ok := a.Add(key, s)
			a.Unlock()
			if !ok {
				reason = MaxSeries
			}
		}
		if reason != "" {
			in.rejects.Add(reason)
			if reason != OtherType {
				if len(m) > 120 {
					m = m[:120]
				}
				in.limit.Log(in.log, reason, "rejected metlog message", "reason", reason, "src", src, "msg", string(m))
			}
			continue
		}
		in.messages.Add(1)
	}
}
