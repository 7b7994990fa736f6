// Package statsd receives the etsy statsd protocol over UDP and TCP with
// daemon/listen's sockets and aggregates it exactly as etsy statsd 0.9
// does (lib/process_metrics.js), writing what its graphite backend writes
// with legacyNamespace false into the Graphite tree of rrd/metrics. The
// aggregation (Agg, Flusher) is shared with the Metlog input.
package statsd

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"sync/atomic"

	"graphmetrics/daemon/graphite"
	"graphmetrics/daemon/listen"
	"graphmetrics/parser"
	"graphmetrics/store/loglimit"
)

// Options configures an Input. Listen's UDP, TCP and limits are used as
// given; its Handle, Split and Logger are set by New.
type Options struct {
	Listen listen.Options
	Agg    *Agg
	Logger *slog.Logger
}

// Stats are an input's counters.
type Stats struct {
	Lines    uint64            `json:"lines"`    // lines accepted
	Samples  uint64            `json:"samples"`  // values in them
	Rejected map[string]uint64 `json:"rejected"` // lines refused, by reason
}

// Input is a running statsd receiver.
type Input struct {
	o                Options
	log              *slog.Logger
	limit            *loglimit.Limiter
	*listen.Listener // Start, Close, Addrs; its Stats are Listeners
	lines            atomic.Uint64
	samples          atomic.Uint64
	rejects          *graphite.Rejects
}

// New checks the options; nothing is bound until Start.
func New(o Options) (*Input, error) {
	if o.Agg == nil {
		return nil, errors.New("statsd: Agg is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	in := &Input{o: o, log: o.Logger.With("component", "statsd"), limit: loglimit.New(loglimit.DefaultEvery, nil),
		rejects: graphite.NewRejects(Reasons[:]...)}
	lo := o.Listen
	lo.Handle, lo.Split, lo.Logger = in.Handle, parser.NewLineSplitterFunc, in.log
	in.Listener = listen.New(lo)
	return in, nil
}

// Listeners are the socket counters.
func (in *Input) Listeners() []listen.ListenerStats { return in.Listener.Stats() }

// Stats returns the counters.
func (in *Input) Stats() Stats {
	return Stats{Lines: in.lines.Load(), Samples: in.samples.Load(), Rejected: in.rejects.Snapshot()}
}

// Handle takes packets: a UDP datagram of lines, or one TCP line.
func (in *Input) Handle(src netip.Addr, msgs [][]byte) {
	var buf [8]Sample
	var good, nsamples uint64
	a := in.o.Agg
	a.Lock()
	defer func() {
		a.Unlock()
		in.lines.Add(good)
		in.samples.Add(nsamples)
	}()
	for _, m := range msgs {
		lines, bad := 0, 0
		for len(m) > 0 {
			line := m
			if i := bytes.IndexByte(m, '\n'); i >= 0 {
				line, m = m[:i], m[i+1:]
			} else {
				m = nil
			}
			line = bytes.TrimRight(line, "\r")
			if len(line) == 0 {
				continue
			}
			lines++
			key, samples, reason, nbad, badReason := ParseLine(line, buf[:0])
			if reason != "" {
				bad++
				in.reject(src, reason, line)
				continue
			}
			if nbad > 0 {
				bad += nbad
				for range nbad {
					in.rejects.Add(badReason)
				}
				in.logReject(src, badReason, line)
			}
			added := 0
			for _, s := range samples {
				if !a.Add(key, s) {
					bad++
					in.reject(src, MaxSeries, line)
					break
				}
				added++
			}
			if added > 0 {
				good++
				nsamples += uint64(added)
			}
		}
		a.Packet(lines, bad)
	}
}

func (in *Input) reject(src netip.Addr, reason string, line []byte) {
	in.rejects.Add(reason)
	in.logReject(src, reason, line)
}

func (in *Input) logReject(src netip.Addr, reason string, line []byte) {
	if len(line) > 120 {
		line = line[:120]
	}
	in.limit.Log(in.log, reason, "rejected statsd line", "reason", reason, "src", src, "line", string(line))
}
