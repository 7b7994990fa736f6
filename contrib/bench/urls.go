package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// The urls scenario (issue 12, part 3): what URL statistics cost the whole
// daemon. Two daemons with the same config but for [tracelog.urls]
// max_patterns (500, and 0: statistics off) take the same stream in turn,
// a step each, so both see the same minutes of the machine.

const (
	urlInstances = 2000
	urlPatterns  = 200
	urlReqRate   = 20000 // requests/s of the whole fleet, 5 lines each
	urlCPUTarget = 1.15  // daemon CPU per request, on / off
)

// urlSide is one daemon's steps and medians.
type urlSide struct {
	Name     string  `json:"name"`
	Bin      string  `json:"bin"`
	Off      bool    `json:"urls_off"`
	Steps    []step  `json:"steps"`
	CPUPerMR float64 `json:"cpu_s_per_mrequest"` // median over Steps
	Lost     int64   `json:"lost"`               // over Steps
	RSS      uint64  `json:"rss"`
	HWM      uint64  `json:"hwm"`
}

// urlsResult: Sides are on and off of -bin, then (with -urls-base) on and
// off of that binary, measured in turn in the same minutes.
type urlsResult struct {
	Instances int       `json:"instances"`
	Patterns  int       `json:"patterns"`
	ReqRate   float64   `json:"requests_per_second"`
	StepSecs  float64   `json:"step_seconds"`
	Sides     []urlSide `json:"sides"`
	Ratio     float64   `json:"cpu_ratio"`      // on / off of -bin
	BaseRatio float64   `json:"base_cpu_ratio"` // on / off of -urls-base
	Pass      bool      `json:"pass"`
}

func (e *env) urls(ctx context.Context) (*urlsResult, error) {
	res := &urlsResult{Instances: urlInstances, Patterns: urlPatterns, ReqRate: e.urlRate}
	stepDur := 30 * time.Second // three flushes of a 10 s flush_interval
	if e.quick {
		stepDur = 10 * time.Second
	}
	res.StepSecs = stepDur.Seconds()
	bins := []string{e.bin}
	if e.urlBase != "" {
		bins = append(bins, e.urlBase)
	}
	var recv []receiver
	for _, bin := range bins {
		for _, off := range []bool{false, true} {
			name := "URL stats on"
			if off {
				name = "URL stats off"
			}
			if bin != e.bin {
				name = "base, " + name
			}
			dir := filepath.Join(e.tmp, fmt.Sprintf("urls%d", len(recv)))
			// The whole fleet is admitted at once (the default admits
			// 600 new instances a minute, the rest dropped cheaply).
			d, err := startDaemon(ctx, daemonOptions{bin: bin, dir: dir, udp: true, urlsOff: off,
				tracelog: "new_instances_per_minute = 10000\n"})
			if err != nil {
				return nil, err
			}
			defer d.kill()
			recv = append(recv, namedReceiver{gmReceiver{d}, "graphmetrics, " + name})
			res.Sides = append(res.Sides, urlSide{Name: name, Bin: bin, Off: off})
		}
	}
	l := load{transport: "udp", rate: 5 * e.urlRate, duration: stepDur, instances: urlInstances,
		extra: []string{"-patterns", fmt.Sprint(urlPatterns)}}
	// Warm-up: creates the instances' files and most of the pattern
	// dictionaries, which is not the steady per-request cost.
	for i, r := range recv {
		w := l
		w.duration = 20 * time.Second
		e.log.Info("urls: warm-up", "daemon", res.Sides[i].Name)
		if _, err := e.runStep(ctx, r, w); err != nil {
			return nil, err
		}
	}
	for run := range e.runs {
		for k := range recv {
			i := (k + run) % len(recv) // each run starts with the next daemon
			e.log.Info("urls: step", "daemon", res.Sides[i].Name, "run", run+1, "of", e.runs, "requests/s", e.urlRate)
			st, err := e.runStep(ctx, recv[i], l)
			if err != nil {
				return nil, err
			}
			res.Sides[i].Steps = append(res.Sides[i].Steps, st)
		}
	}
	for i := range res.Sides {
		s := &res.Sides[i]
		cpu := make([]float64, len(s.Steps))
		for j, st := range s.Steps {
			cpu[j] = 5 * st.CPUPerM // per million requests of 5 lines
			s.Lost += st.Lost
		}
		s.CPUPerMR = median(cpu)
		m, err := memoryOf(recv[i].pid())
		if err != nil {
			return nil, err
		}
		s.RSS, s.HWM = m.RSS, m.HWM
	}
	ratio := func(on, off urlSide) float64 {
		if off.CPUPerMR <= 0 {
			return 0
		}
		return on.CPUPerMR / off.CPUPerMR
	}
	res.Ratio = ratio(res.Sides[0], res.Sides[1])
	if len(res.Sides) == 4 {
		res.BaseRatio = ratio(res.Sides[2], res.Sides[3])
	}
	res.Pass = res.Ratio > 0 && res.Ratio <= urlCPUTarget
	for _, r := range recv {
		if _, err := r.(namedReceiver).receiver.(gmReceiver).d.stop(time.Minute); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (u *urlsResult) rows(row func(sc, m, res, target, ok string)) {
	sc := fmt.Sprintf("URL stats, %s instances × %d patterns", num(float64(u.Instances)), u.Patterns)
	for _, s := range u.Sides {
		row(sc, fmt.Sprintf("%s: daemon CPU-s per million requests at %s req/s, median of %d × %.0f s",
			s.Name, num(u.ReqRate), len(s.Steps), u.StepSecs),
			fmt.Sprintf("%.2f (lost %s lines)", s.CPUPerMR, num(float64(s.Lost))), "", "")
		row(sc, s.Name+": daemon RSS", fmt.Sprintf("%s (VmHWM %s)", mb(s.RSS), mb(s.HWM)), "", "")
	}
	on, off := u.Sides[0], u.Sides[1]
	row(sc, "CPU per request, on / off", fmt.Sprintf("%.2f×", u.Ratio), fmt.Sprintf("≤ %.2f×", urlCPUTarget), verdict(u.Pass))
	if u.BaseRatio > 0 {
		row(sc, "CPU per request, on / off, -urls-base binary", fmt.Sprintf("%.2f×", u.BaseRatio), "", "")
	}
	row(sc, "extra RSS (VmHWM on − off)", mb(on.HWM-min(on.HWM, off.HWM)), "≤ 300 MB", verdict(on.HWM < off.HWM+rssLimit))
}
