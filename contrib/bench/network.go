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
	Target     step    `json:"target"`
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
	if res.Target, err = e.runStep(ctx, r, l); err != nil {
		return nil, err
	}
	res.TargetPass = res.Target.Lossless && !res.Target.SenderLimited
	l.duration = e.step
	if res.Daemon, err = e.search(ctx, r, l, udpTargetRate, res.Target); err != nil {
		return nil, err
	}
	if res.Memory, err = memoryOf(d.pid()); err != nil {
		return nil, err
	}
	h, err := d.health(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range h.Detail.Inputs["syslog"].Listeners {
		if l.Network == "udp" {
			res.RecvBuffer = l.RecvBuffer
		}
	}
	took, err := d.stop(time.Minute)
	if err != nil {
		return nil, err
	}
	res.Shutdown = took.Seconds()

	sk, err := startSinkProc(ctx, e.loadgen)
	if err != nil {
		return nil, err
	}
	defer sk.close()
	if sk.granted != res.RecvBuffer {
		return nil, fmt.Errorf("bare reader got a %d-byte receive buffer, graphmetrics %d", sk.granted, res.RecvBuffer)
	}
	start := max(res.Daemon.MaxLossless, udpTargetRate)
	if res.Bare, err = e.search(ctx, sinkReceiver{sk}, l, start); err != nil {
		return nil, err
	}
	if res.Bare.BestAchieved > 0 {
		res.Ratio = res.Daemon.BestAchieved / res.Bare.BestAchieved
	}
	return res, nil
}

// tcpResult is the TCP scenario: repeated runs at the target over one
// connection, then the highest rate graphmetrics sustains, and for
// reference what the sender reaches into a bare reader.
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
	if res.Daemon, err = e.search(ctx, r, l, tcpTargetRate, res.Runs...); err != nil {
		return nil, err
	}
	if _, err := d.stop(time.Minute); err != nil {
		return nil, err
	}
	sk, err := startSinkProc(ctx, e.loadgen)
	if err != nil {
		return nil, err
	}
	defer sk.close()
	if res.Bare, err = e.search(ctx, sinkReceiver{sk}, l, max(res.Daemon.MaxLossless, tcpTargetRate)); err != nil {
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
