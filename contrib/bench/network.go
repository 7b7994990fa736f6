package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// Targets of issue 2.
const (
	udpTargetRate      = 100_000
	udpTargetInstances = 500
	tcpTargetRate      = 200_000
)

// udpResult is the UDP scenario: the 30 s zero-loss run at the target,
// then the highest lossless rate of graphmetrics and of a bare Go reader
// with the same receive buffer, in the same run.
type udpResult struct {
	Target     step    `json:"target"`       // the last try
	TargetRuns []step  `json:"target_tries"` // every try, up to -tries until one is lossless
	TargetPass bool    `json:"target_pass"`
	Daemon     search  `json:"graphmetrics"`
	Bare       search  `json:"bare"`
	Ratio      float64 `json:"ratio"` // graphmetrics' best lossless rate / the bare reader's
	RecvBuffer int     `json:"recv_buffer"`
	Memory     memory  `json:"graphmetrics_memory"`
	Shutdown   float64 `json:"shutdown_seconds"`
}

func (e *env) udp(ctx context.Context) (*udpResult, error) {
	res := &udpResult{}
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: filepath.Join(e.tmp, "udp"), udp: true})
	if err != nil {
		return nil, err
	}
	defer d.kill()
	r := gmReceiver{d}
	l := load{transport: "udp", rate: udpTargetRate, duration: 30 * time.Second, instances: udpTargetInstances}
	if e.quick {
		l.duration = e.step
	}
	e.log.Info("udp: zero loss at the target", "rate", l.rate, "duration", l.duration, "instances", l.instances)
	if res.TargetRuns, err = e.tryStep(ctx, r, l); err != nil {
		return nil, err
	}
	res.Target = res.TargetRuns[len(res.TargetRuns)-1]
	res.TargetPass = res.Target.Lossless && !res.Target.SenderLimited
	h, err := d.health(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range h.Detail.Inputs["syslog"].Listeners {
		if l.Network == "udp" {
			res.RecvBuffer = l.RecvBuffer
		}
	}
	sk, err := startSinkProc(ctx, e.loadgen)
	if err != nil {
		return nil, err
	}
	defer sk.close()
	if sk.granted != res.RecvBuffer {
		return nil, fmt.Errorf("bare reader got a %d-byte receive buffer, graphmetrics %d", sk.granted, res.RecvBuffer)
	}
	l.duration = e.step
	gs := newSearcher(r, l, udpTargetRate)
	gs.b.record(res.TargetRuns...)
	bs := newSearcher(sinkReceiver{sk}, l, udpTargetRate)
	if err := e.searchTogether(ctx, l, gs, bs); err != nil {
		return nil, err
	}
	res.Daemon, res.Bare = gs.res, bs.res
	if res.Bare.BestAchieved > 0 {
		res.Ratio = res.Daemon.BestAchieved / res.Bare.BestAchieved
	}
	if res.Memory, err = memoryOf(d.pid()); err != nil {
		return nil, err
	}
	took, err := d.stop(time.Minute)
	if err != nil {
		return nil, err
	}
	res.Shutdown = took.Seconds()
	return res, nil
}

// tcpResult is the TCP scenario: repeated runs at the target over one
// connection, then the highest rate graphmetrics sustains, and for
// reference what the sender reaches into a bare reader (the sender's own
// limit, as TCP backpressure and a slow sender look alike).
type tcpResult struct {
	Runs           []step  `json:"runs"`
	MedianAchieved float64 `json:"median_achieved"`
	AllCounted     bool    `json:"all_counted"`
	Pass           bool    `json:"pass"`
	Daemon         search  `json:"graphmetrics"`
	Bare           search  `json:"bare"`
}

func (e *env) tcp(ctx context.Context) (*tcpResult, error) {
	res := &tcpResult{AllCounted: true}
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: filepath.Join(e.tmp, "tcp"), tcp: true})
	if err != nil {
		return nil, err
	}
	defer d.kill()
	r := gmReceiver{d}
	l := load{transport: "tcp", rate: tcpTargetRate, duration: e.step, instances: udpTargetInstances,
		extra: []string{"-conns", "1", "-framing", "nul"}}
	var rates []float64
	for i := range e.runs {
		e.log.Info("tcp: run at the target", "run", i+1, "of", e.runs, "rate", l.rate)
		s, err := e.runStep(ctx, r, l)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, s)
		rates = append(rates, s.Achieved)
		res.AllCounted = res.AllCounted && s.Lossless
	}
	res.MedianAchieved = median(rates)
	res.Pass = res.AllCounted && res.MedianAchieved >= 0.97*tcpTargetRate
	sk, err := startSinkProc(ctx, e.loadgen)
	if err != nil {
		return nil, err
	}
	defer sk.close()
	gs := newSearcher(r, l, tcpTargetRate, res.Runs...)
	bs := newSearcher(sinkReceiver{sk}, l, tcpTargetRate)
	if err := e.searchTogether(ctx, l, gs, bs); err != nil {
		return nil, err
	}
	res.Daemon, res.Bare = gs.res, bs.res
	if _, err := d.stop(time.Minute); err != nil {
		return nil, err
	}
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
