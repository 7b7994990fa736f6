package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// instancesResult is the many-instances scenario: 2,000 live instances at
// a modest rate, measured over a steady window after the RRD files exist.
type instancesResult struct {
	Instances   int     `json:"instances"`
	ReqPerSec   float64 `json:"requests_per_instance_per_second"`
	Rate        float64 `json:"lines_per_second"`
	Seconds     float64 `json:"seconds"`
	Window      float64 `json:"window_seconds"`
	Sent        uint64  `json:"sent"`
	Received    uint64  `json:"received"`
	Lost        int64   `json:"lost"`             // whole run, first flush included
	WindowDrops uint64  `json:"window_drops"`     // kernel drops within the window
	CPUCores    float64 `json:"cpu_cores"`        // daemon user+system over the window
	WriteShare  float64 `json:"write_time_share"` // writer's time in librrd update calls / window
	RowsPerSec  float64 `json:"rows_per_second"`  // rows written over the window
	WantRowsSec float64 `json:"expected_rows_per_second"`
	Updates     uint64  `json:"updates"` // librrd update calls over the window
	Creates     uint64  `json:"creates"`
	MaxWriteMs  float64 `json:"max_write_ms"`
	Late        uint64  `json:"late"`
	QueuedMax   int64   `json:"queued_max"`
	RSSMax      uint64  `json:"rss_max"`
	HWM         uint64  `json:"hwm"`
	Shutdown    float64 `json:"shutdown_seconds"`
	// Timeline has one sample a second, to see when lines were lost.
	Timeline []tick `json:"timeline"`
	KeepsUp  bool   `json:"keeps_up"`
	Pass     bool   `json:"pass"`
}

const (
	manyInstances      = 2000
	manyReqPerInstance = 2
	rssLimit           = 300 << 20
)

// tick is one second of the instances run, counters cumulative.
type tick struct {
	T           float64 `json:"t"`
	CPU         float64 `json:"cpu_seconds"`
	Messages    uint64  `json:"messages"`
	KernelDrops uint64  `json:"kernel_drops"`
	Records     uint64  `json:"records"`
	Creates     uint64  `json:"creates"`
	Rows        uint64  `json:"rows"`
	Queued      int64   `json:"queued"`
	WriteMs     float64 `json:"write_ms"`
	RSS         uint64  `json:"rss"`
}

type sample struct {
	at  time.Time
	cpu float64
	h   health
}

func (e *env) instances(ctx context.Context) (*instancesResult, error) {
	res := &instancesResult{Instances: manyInstances, ReqPerSec: manyReqPerInstance,
		Rate: manyInstances * manyReqPerInstance * 5, WantRowsSec: manyInstances}
	total, warmup := 150*time.Second, 40*time.Second
	if e.quick {
		total, warmup = 70*time.Second, 30*time.Second
	}
	// The fleet is new to the daemon: without a higher admission rate it
	// would fill in at new_instances_per_minute (600) over 3–4 minutes,
	// which is not the steady state measured here.
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: filepath.Join(e.tmp, "instances"), udp: true,
		tracelog: "new_instances_per_minute = 10000\n"})
	if err != nil {
		return nil, err
	}
	defer d.kill()
	r := gmReceiver{d}
	l := load{transport: "udp", addr: d.udp, rate: res.Rate, duration: total, instances: manyInstances}
	e.log.Info("instances: steady load", "instances", manyInstances, "lines/s", res.Rate, "for", total, "window after", warmup)

	type done struct {
		s   genSummary
		err error
	}
	finished := make(chan done, 1)
	go func() {
		s, err := runLoad(ctx, e.loadgen, l)
		finished <- done{s, err}
	}()
	start := time.Now()
	take := func() (sample, error) {
		cpu, err := cpuSeconds(d.pid())
		if err != nil {
			return sample{}, err
		}
		h, err := d.health(ctx)
		return sample{at: time.Now(), cpu: cpu, h: h}, err
	}

	// The window runs from one flush to another (samples where rows were
	// just written), so it holds whole flushes of rows and their CPU.
	var first, last, prev sample
	var gen done
	every := time.NewTicker(time.Second)
	defer every.Stop()
loop:
	for {
		select {
		case gen = <-finished:
			break loop
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-every.C:
		}
		s, err := take()
		if err != nil {
			return nil, err
		}
		m, err := memoryOf(d.pid())
		if err != nil {
			return nil, err
		}
		res.RSSMax = max(res.RSSMax, m.RSS)
		lines, _, records, _, drops := s.h.syslog()
		wr := s.h.Detail.Writer
		res.Timeline = append(res.Timeline, tick{T: time.Since(start).Seconds(), CPU: s.cpu, Messages: lines,
			KernelDrops: drops, Records: records, Creates: wr.Creates, Rows: wr.Rows, Queued: wr.Queued,
			WriteMs: float64(wr.WriteTime) / 1e6, RSS: m.RSS})
		res.QueuedMax = max(res.QueuedMax, s.h.Detail.Writer.Queued)
		el := time.Since(start)
		flushed := !prev.at.IsZero() && s.h.Detail.Writer.Rows > prev.h.Detail.Writer.Rows
		prev = s
		switch {
		case !flushed:
		case el >= warmup && first.at.IsZero():
			first = s
		case !first.at.IsZero() && el <= total:
			last = s
		}
	}
	if gen.err != nil {
		return nil, gen.err
	}
	if first.at.IsZero() || !last.at.After(first.at) {
		return nil, fmt.Errorf("instances: no steady window (load ran %v)", time.Since(start))
	}
	after, err := settle(ctx, r, "udp", gen.s.Sent)
	if err != nil {
		return nil, err
	}
	res.Seconds, res.Sent, res.Received = gen.s.Seconds, gen.s.Sent, after
	res.Lost = int64(gen.s.Sent) - int64(after)

	win := last.at.Sub(first.at).Seconds()
	w0, w1 := first.h.Detail.Writer, last.h.Detail.Writer
	res.Window = win
	res.CPUCores = (last.cpu - first.cpu) / win
	res.WriteShare = (w1.WriteTime - w0.WriteTime).Seconds() / win
	res.RowsPerSec = float64(w1.Rows-w0.Rows) / win
	res.Updates = w1.Updates - w0.Updates
	res.Creates = w1.Creates
	res.MaxWriteMs = float64(w1.MaxWrite) / 1e6
	_, _, _, late, drops1 := last.h.syslog()
	_, _, _, _, drops0 := first.h.syslog()
	res.Late = late
	res.WindowDrops = drops1 - drops0
	m, err := memoryOf(d.pid())
	if err != nil {
		return nil, err
	}
	res.RSSMax, res.HWM = max(res.RSSMax, m.RSS), m.HWM
	took, err := d.stop(time.Minute)
	if err != nil {
		return nil, err
	}
	res.Shutdown = took.Seconds()
	// Rows are written per flush (every 10 s), so a window of about 100 s
	// sees its rows to within a flush.
	// Queued counts rows handed to the writer and not yet written, so a
	// sample taken during a flush sees some; a backlog would be thousands.
	wr := last.h.Detail.Writer
	res.KeepsUp = res.QueuedMax < manyInstances && wr.Dropped == 0 && wr.Errors == 0 &&
		res.Late == 0 && res.WindowDrops == 0 && res.RowsPerSec >= 0.9*res.WantRowsSec
	res.Pass = res.KeepsUp && res.WriteShare < 0.25 && res.HWM < rssLimit
	return res, nil
}
