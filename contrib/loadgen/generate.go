package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Summary is printed as JSON when a run ends.
type Summary struct {
	Mode          string  `json:"mode"`
	Transport     string  `json:"transport"`
	Addr          string  `json:"addr"`
	Instances     int     `json:"instances"`
	RequestedRate float64 `json:"requested_rate"` // lines/s; 0 in demo mode without -rate
	Sent          uint64  `json:"sent"`           // lines the kernel accepted
	Generated     uint64  `json:"generated"`      // lines generated (sent + send errors)
	Bytes         uint64  `json:"bytes"`
	SendErrors    uint64  `json:"send_errors"`
	Requests      uint64  `json:"requests"`
	Errors        uint64  `json:"errors"` // requests answered 5xx or "Error:"
	Restarts      uint64  `json:"restarts"`
	SlowSpells    uint64  `json:"slow_spells"`
	// Seconds runs from the first scheduled line to the send of the last
	// request start (B) scheduled within -duration, and Rate is the lines
	// of the requests started in that time (5 each) per second: the
	// achieved rate, which a lagging sender shows as a lower one. The
	// lines of requests still in flight then follow in the drain.
	Seconds      float64 `json:"seconds"`
	Rate         float64 `json:"rate"`
	TotalSeconds float64 `json:"total_seconds"` // including the drain
	MaxLagMs     float64 `json:"max_lag_ms"`
}

// generate plays the fleet of o in real time into the sender until the
// duration is over (and in-flight requests are finished) or ctx is done.
func generate(ctx context.Context, o options, log *slog.Logger) (Summary, error) {
	sum := Summary{Mode: o.mode, Instances: o.instances, RequestedRate: o.rate}
	var snd sender
	var err error
	if o.udp != "" {
		sum.Transport, sum.Addr = "udp", o.udp
		snd, err = dialUDP(o.udp)
	} else {
		sum.Transport, sum.Addr = "tcp", o.tcp
		snd, err = dialTCP(o.tcp, o.conns, o.framing)
	}
	if err != nil {
		return sum, err
	}
	defer snd.close()

	rng := rand.New(rand.NewPCG(o.seed, 0x9e3779b97f4a7c15))
	demo := o.mode == "demo"
	start := time.Now().Add(10 * time.Millisecond).UnixNano()
	fleet := newFleet(fleetOptions{instances: o.instances, customers: o.customers, hosts: o.hosts,
		hostInHeader: o.header != headerNone, demo: demo, rate: o.rate, start: start}, rng)
	if demo && o.rate > 0 {
		natural := 0.0
		for _, in := range fleet {
			natural += 5 * in.base
		}
		for _, in := range fleet {
			in.base *= o.rate / natural
		}
	}
	f := newFormatter(o.loc, o.header, o.nul && o.udp != "")
	s := newSim(fleet, f, snd, rng, start)
	if o.patterns > 0 {
		s.urls = newURLPatterns(o.patterns, rng)
	}
	if o.duration > 0 {
		s.end = start + int64(o.duration)
	}
	if demo {
		s.demo, s.day = true, o.day
		s.events = demoEvents{restartEvery: o.restart, slowEvery: o.slow}
		s.scheduleDemo(start)
		log.Info("demo fleet", "instances", len(fleet), "customers", o.customers, "hosts", o.hosts, "day", o.day, "to", sum.Addr)
	}

	var first, last, startsDone time.Time
	var maxLag int64
	status := time.Now()
	for ctx.Err() == nil && len(s.heap) > 0 {
		now := time.Now().UnixNano()
		for len(s.heap) > 0 && s.heap[0].at <= now {
			e := s.heap.pop()
			maxLag = max(maxLag, now-e.at)
			if err = s.step(e); err != nil {
				break
			}
		}
		before := snd.counts().Lines
		if err == nil {
			err = snd.flush(false)
		}
		if snd.counts().Lines > before {
			last = time.Now()
			if first.IsZero() {
				first = last
			}
		}
		if err != nil {
			break
		}
		if s.end > 0 && s.arrivals == 0 && startsDone.IsZero() {
			startsDone = time.Now()
		}
		if demo && o.status > 0 && time.Since(status) >= o.status {
			status = time.Now()
			c := snd.counts()
			log.Info("demo progress", "lines", c.Lines, "send_errors", c.Errors, "requests", s.requests,
				"errors", s.errors, "restarts", s.restarts, "slow_spells", s.slowSpells)
		}
		if len(s.heap) == 0 {
			break
		}
		if d := time.Duration(s.heap[0].at - time.Now().UnixNano()); d > 0 {
			if d > time.Millisecond {
				// Idle for a while: do not hold buffered lines back.
				if err = snd.flush(true); err != nil {
					break
				}
			}
			wait(ctx, min(d, 50*time.Millisecond))
		}
	}
	if ferr := snd.flush(true); err == nil {
		err = ferr
	}
	if !first.IsZero() && last.IsZero() {
		last = time.Now()
	}
	c := snd.counts()
	sum.Sent, sum.Bytes, sum.SendErrors = c.Lines, c.Bytes, c.Errors
	sum.Generated = s.lines
	sum.Requests, sum.Errors, sum.Restarts, sum.SlowSpells = s.requests, s.errors, s.restarts, s.slowSpells
	// Timed from the first line's schedule, not its send: the first send
	// carries the lines due in one wait.
	t0 := time.Unix(0, start)
	if !first.IsZero() {
		sum.TotalSeconds = last.Sub(t0).Seconds()
		sum.Seconds, sum.Rate = sum.TotalSeconds, float64(sum.Sent)/sum.TotalSeconds
		if !startsDone.IsZero() && !demo {
			sum.Seconds = startsDone.Sub(t0).Seconds()
			sum.Rate = float64(5*s.requests) / sum.Seconds
		}
	}
	sum.MaxLagMs = float64(maxLag) / 1e6
	if err != nil {
		return sum, fmt.Errorf("send: %w", err)
	}
	return sum, nil
}

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
