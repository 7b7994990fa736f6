package main

import (
	"context"
	"path/filepath"
	"time"
)

// hopResult compares graphmetrics (parse, aggregate, write RRD) with the
// first hop of the old pipeline (syslog-ng writing files) on one
// transport, in the same run with the same generated stream.
type hopResult struct {
	Transport    string  `json:"transport"`
	Reference    float64 `json:"reference_rate"` // both measured at this rate first
	SyslogNG     search  `json:"syslog_ng"`
	Graphmetrics search  `json:"graphmetrics"`
	RateRatio    float64 `json:"rate_ratio"` // best lossless rate, graphmetrics / syslog-ng
	SNGCPUPerM   float64 `json:"syslog_ng_cpu_s_per_mline"`
	GMCPUPerM    float64 `json:"graphmetrics_cpu_s_per_mline"`
	CPURatio     float64 `json:"cpu_ratio"` // syslog-ng's CPU per line / graphmetrics' (above 1: graphmetrics is cheaper)
	Pass         bool    `json:"pass"`      // graphmetrics ≥ 1.0× syslog-ng's lossless rate
}

type filehopResult struct {
	UDP  hopResult `json:"udp"`
	TCP  hopResult `json:"tcp"`
	Pass bool      `json:"pass"`
}

const hopReference = 50_000

func (e *env) filehop(ctx context.Context) (*filehopResult, error) {
	sng, err := startSyslogNG(ctx, e.syslogNG, filepath.Join(e.tmp, "filehop", "syslog-ng"))
	if err != nil {
		return nil, err
	}
	defer sng.stop()
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: filepath.Join(e.tmp, "filehop", "graphmetrics"), udp: true, tcp: true})
	if err != nil {
		return nil, err
	}
	defer d.kill()
	res := &filehopResult{}
	for _, tr := range []string{"udp", "tcp"} {
		h, err := e.hop(ctx, tr, sng, gmReceiver{d})
		if err != nil {
			return nil, err
		}
		if tr == "udp" {
			res.UDP = h
		} else {
			res.TCP = h
		}
	}
	res.Pass = res.UDP.Pass && res.TCP.Pass
	if _, err := d.stop(time.Minute); err != nil {
		return nil, err
	}
	return res, sng.stop()
}

func (e *env) hop(ctx context.Context, transport string, sng *syslogNG, gm gmReceiver) (hopResult, error) {
	h := hopResult{Transport: transport, Reference: hopReference}
	l := load{transport: transport, rate: hopReference, duration: e.step, instances: udpTargetInstances}
	if transport == "tcp" {
		l.extra = []string{"-conns", "1", "-framing", "nul"}
	}
	e.log.Info("filehop: reference rate", "transport", transport, "rate", l.rate)
	refS, err := e.runStep(ctx, sng, l)
	if err != nil {
		return h, err
	}
	refG, err := e.runStep(ctx, gm, l)
	if err != nil {
		return h, err
	}
	h.SNGCPUPerM, h.GMCPUPerM = refS.CPUPerM, refG.CPUPerM
	if h.GMCPUPerM > 0 {
		h.CPURatio = h.SNGCPUPerM / h.GMCPUPerM
	}
	ss, gs := newSearcher(sng, l, 2*hopReference, refS), newSearcher(gm, l, 2*hopReference, refG)
	if err := e.searchTogether(ctx, l, ss, gs); err != nil {
		return h, err
	}
	h.SyslogNG, h.Graphmetrics = ss.res, gs.res
	if h.SyslogNG.BestAchieved > 0 {
		h.RateRatio = h.Graphmetrics.BestAchieved / h.SyslogNG.BestAchieved
	}
	h.Pass = h.RateRatio >= 1
	return h, nil
}
