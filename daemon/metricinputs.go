package main

import (
	"context"
	"errors"
	"net"
	"regexp"

	"graphmetrics/daemon/graphite"
	"graphmetrics/daemon/listen"
	"graphmetrics/daemon/metlog"
	"graphmetrics/daemon/statsd"
	"graphmetrics/daemon/zibrato"
)

// metricInputs are the application metric inputs (Graphite, statsd,
// Metlog); each is nil unless configured.
type metricInputs struct {
	graphite *graphite.Input
	statsd   *statsd.Input
	metlog   *metlog.Input
	zibrato  *zibrato.Input
	agg      *statsd.Agg // shared by statsd and Metlog
	flusher  *statsd.Flusher
}

// listenOpts are the socket options of a metric input: its addresses and
// [syslog]'s limits, allow list included (one list of who may send).
func (a *app) listenOpts(udp, tcp []string) listen.Options {
	s := a.cfg.Syslog
	return listen.Options{UDP: udp, TCP: tcp, RecvBuffer: s.RecvBuffer, MaxMessage: s.MaxMessage,
		MaxConns: s.MaxConns, IdleTimeout: s.IdleTimeout.Duration, Allow: a.allow(),
		MaxConnsPerSource: s.MaxConnsPerSource}
}

func (a *app) startMetricInputs() error {
	g := a.cfg.Graphite
	schemas := make([]graphite.Schema, 0, len(g.Schemas))
	for _, s := range g.Schemas {
		schemas = append(schemas, graphite.Schema{Pattern: regexp.MustCompile(s.Pattern),
			Step: s.Step.Duration, RRAs: s.Archives})
	}
	if len(g.UDP)+len(g.TCP) > 0 {
		in, err := graphite.New(graphite.Options{Listen: a.listenOpts(g.UDP, g.TCP), Schemas: schemas,
			MaxSeries: g.MaxSeries, Sink: a.pipe.writer, Logger: a.log})
		if err != nil {
			return err
		}
		if err := in.Start(); err != nil {
			return err
		}
		a.metrics.graphite = in
	}
	s, m, z := a.cfg.Statsd, a.cfg.Metlog, a.cfg.Zibrato
	if len(s.UDP)+len(s.TCP)+len(m.UDP) == 0 && z.Connect == "" {
		return nil
	}
	mi := &a.metrics
	mi.agg = statsd.NewAgg(s.MaxSeries)
	f, err := statsd.NewFlusher(statsd.FlusherOptions{Agg: mi.agg, FlushInterval: s.FlushInterval.Duration,
		Percentiles: s.Percentiles, Sink: a.pipe.writer, Schemas: schemas, Logger: a.log})
	if err != nil {
		return err
	}
	f.Start()
	mi.flusher = f
	if len(s.UDP)+len(s.TCP) > 0 {
		in, err := statsd.New(statsd.Options{Listen: a.listenOpts(s.UDP, s.TCP), Agg: mi.agg, Logger: a.log})
		if err != nil {
			return err
		}
		if err := in.Start(); err != nil {
			return err
		}
		mi.statsd = in
	}
	if len(m.UDP) > 0 {
		in, err := metlog.New(metlog.Options{Listen: a.listenOpts(m.UDP, nil), Agg: mi.agg, Logger: a.log})
		if err != nil {
			return err
		}
		if err := in.Start(); err != nil {
			return err
		}
		mi.metlog = in
	}
	if z.Connect != "" {
		in, err := zibrato.New(zibrato.Options{Connect: z.Connect, Levels: z.Levels, Agg: mi.agg, Logger: a.log})
		if err != nil {
			return err
		}
		if err := in.Start(); err != nil {
			return err
		}
		mi.zibrato = in
	}
	return nil
}

// metricAddrs are log attributes naming each running input's addresses.
func (a *app) metricAddrs() []any {
	var out []any
	if in := a.metrics.graphite; in != nil {
		out = append(out, "graphite", netAddrs(in.Addrs()))
	}
	if in := a.metrics.statsd; in != nil {
		out = append(out, "statsd", netAddrs(in.Addrs()))
	}
	if in := a.metrics.metlog; in != nil {
		out = append(out, "metlog", netAddrs(in.Addrs()))
	}
	return out
}

func netAddrs(as []net.Addr) []string {
	out := make([]string, 0, len(as))
	for _, ad := range as {
		out = append(out, ad.Network()+"://"+ad.String())
	}
	return out
}

// closeMetricInputs stops the inputs; each writes what it holds.
func (a *app) closeMetricInputs(ctx context.Context) error {
	var errs []error
	mi := &a.metrics
	if mi.graphite != nil {
		errs = append(errs, mi.graphite.Close(ctx))
	}
	if mi.statsd != nil {
		errs = append(errs, mi.statsd.Close(ctx))
	}
	if mi.metlog != nil {
		errs = append(errs, mi.metlog.Close(ctx))
	}
	if mi.zibrato != nil {
		errs = append(errs, mi.zibrato.Close())
	}
	if mi.flusher != nil {
		mi.flusher.Close() // the last flush, after its inputs stopped
	}
	return errors.Join(errs...)
}

// metricInputStatus is a metric input's part of /healthz.
type metricInputStatus struct {
	Running   bool                   `json:"running"`
	Stats     any                    `json:"stats"`
	Listeners []listen.ListenerStats `json:"listeners,omitempty"`
}

func (a *app) metricHealth(st *healthStatus) {
	mi, running := &a.metrics, !a.closing.Load()
	if in := mi.graphite; in != nil {
		st.Metrics["graphite"] = metricInputStatus{Running: running, Stats: in.Stats(), Listeners: in.Listeners()}
	}
	if in := mi.statsd; in != nil {
		st.Metrics["statsd"] = metricInputStatus{Running: running, Stats: in.Stats(), Listeners: in.Listeners()}
	}
	if in := mi.metlog; in != nil {
		st.Metrics["metlog"] = metricInputStatus{Running: running, Stats: in.Stats(), Listeners: in.Listeners()}
	}
	if in := mi.zibrato; in != nil {
		// Not connected is not down: the broker may start later.
		st.Metrics["zibrato"] = metricInputStatus{Running: running, Stats: in.Stats()}
	}
	if mi.flusher != nil {
		st.Metrics["statsd_flush"] = metricInputStatus{Running: running,
			Stats: statsdFlushStatus{FlusherStats: mi.flusher.Stats(), Keys: mi.agg.Keys()}}
	}
}

// statsdFlushStatus is the shared statsd aggregation in /healthz.
type statsdFlushStatus struct {
	statsd.FlusherStats
	Keys int `json:"keys"`
}

// collectMetricInputs adds the metric inputs' counters to _self.
func (a *app) collectMetricInputs(emit func(float64, ...string), rate, limit func(uint64, ...string)) {
	if in := a.metrics.graphite; in != nil {
		st := in.Stats()
		rate(st.Points, "graphite", "points")
		for r, n := range st.Rejected {
			rate(n, "graphite", "rejected", r)
		}
		rate(st.Dropped, "graphite", "dropped")
		rate(st.SinkError, "graphite", "sink_errors")
		emit(float64(st.Series), "graphite", "series")
		listenerSelf(emit, rate, limit, "graphite", in.Listeners())
	}
	if in := a.metrics.statsd; in != nil {
		st := in.Stats()
		rate(st.Lines, "statsd", "lines")
		rate(st.Samples, "statsd", "samples")
		for r, n := range st.Rejected {
			rate(n, "statsd", "rejected", r)
		}
		listenerSelf(emit, rate, limit, "statsd", in.Listeners())
	}
	if in := a.metrics.metlog; in != nil {
		st := in.Stats()
		rate(st.Messages, "metlog", "messages")
		for r, n := range st.Rejected {
			rate(n, "metlog", "rejected", r)
		}
		listenerSelf(emit, rate, limit, "metlog", in.Listeners())
	}
	if in := a.metrics.zibrato; in != nil {
		st := in.Stats()
		rate(st.Messages, "zibrato", "messages")
		for r, n := range st.Rejected {
			rate(n, "zibrato", "rejected", r)
		}
	}
	if f := a.metrics.flusher; f != nil {
		st := f.Stats()
		rate(st.Written, "statsd", "values_written")
		rate(st.SinkErrors, "statsd", "sink_errors")
		emit(float64(a.metrics.agg.Keys()), "statsd", "keys")
	}
}

// listenerSelf adds one input's socket counters to _self; limit is for
// counters that get a file only once they trip (collectSelf).
func listenerSelf(emit func(float64, ...string), rate, limit func(uint64, ...string), input string, ls []listen.ListenerStats) {
	for _, l := range ls {
		name := l.Network + "_" + l.Addr
		rate(l.Messages, input, name, "messages")
		rate(l.KernelDrops, input, name, "kernel_drops")
		rate(l.Oversize, input, name, "oversize")
		rate(l.ReadErrors, input, name, "read_errors")
		limit(l.Refused, input, name, "refused")
		if l.Network == "tcp" {
			limit(l.ConnsRejected, input, name, "conns_rejected")
			limit(l.ConnsRefusedSource, input, name, "conns_refused")
			emit(float64(l.ConnsOpen), input, name, "conns_open")
		}
	}
}
