package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// The relay scenario (issue 18): what syslog-ng and rsyslog relays send,
// against what Python's SysLogHandler sends, into one daemon over one TCP
// connection each, in the same minutes.

// Targets of issue 18, against the Python shape of the same run.
const (
	relayRateTarget = 0.9 // highest sustained rate, at least this share
	relayCPUTarget  = 1.1 // CPU per line, at most this multiple
)

// relayShape is one header and framing, sent by loadgen.
type relayShape struct {
	Name    string `json:"name"`
	Header  string `json:"header"`  // loadgen -header
	Framing string `json:"framing"` // loadgen -framing
	// RefRuns are the -runs steps at the reference rate, interleaved with
	// the other shapes'; CPUPerM is their median receiver CPU per line.
	RefRuns   []step  `json:"reference_runs"`
	CPUPerM   float64 `json:"cpu_s_per_mline"`
	Search    search  `json:"graphmetrics"`
	RateRatio float64 `json:"rate_ratio"` // best sustained rate / the Python shape's
	CPURatio  float64 `json:"cpu_ratio"`  // CPU per line / the Python shape's
	Pass      bool    `json:"pass"`
}

type relayResult struct {
	Reference float64      `json:"reference_rate"`
	Shapes    []relayShape `json:"shapes"` // the Python shape first
	Rejected  uint64       `json:"rejected"`
	Pass      bool         `json:"pass"`
}

// relayShapes: Python's shape, then RFC 3164 newline-framed (syslog-ng's
// network() destination, rsyslog's RSYSLOG_ForwardFormat) and RFC 5424
// octet-counted (syslog-ng's syslog() destination, rsyslog's omfwd with
// RSYSLOG_SyslogProtocol23Format, as contrib/ configures them).
func relayShapes() []relayShape {
	return []relayShape{
		{Name: "Python", Header: "none", Framing: "nul"},
		{Name: "RFC 3164", Header: "rfc3164", Framing: "newline"},
		{Name: "RFC 5424", Header: "rfc5424", Framing: "octet"},
	}
}

// namedReceiver is graphmetrics under the name of the shape sent to it,
// so the steps table tells them apart.
type namedReceiver struct {
	receiver
	n string
}

func (r namedReceiver) name() string { return r.n }

func (e *env) relay(ctx context.Context) (*relayResult, error) {
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: filepath.Join(e.tmp, "relay"), tcp: true})
	if err != nil {
		return nil, err
	}
	defer d.kill()
	res := &relayResult{Reference: tcpTargetRate, Shapes: relayShapes()}
	recv := make([]receiver, len(res.Shapes))
	loads := make([]load, len(res.Shapes))
	for i, s := range res.Shapes {
		recv[i] = namedReceiver{gmReceiver{d}, "graphmetrics " + s.Header + "/" + s.Framing}
		loads[i] = load{transport: "tcp", rate: tcpTargetRate, duration: e.step, instances: udpTargetInstances,
			extra: []string{"-conns", "1", "-header", s.Header, "-framing", s.Framing}}
	}
	// A short warm-up of each shape first: the first lines of a shape
	// create its instances' RRD files, which is not the per-line cost.
	for i := range res.Shapes {
		w := loads[i]
		w.rate, w.duration = tcpTargetRate/4, 2*time.Second
		e.log.Info("relay: warm-up (creates the RRD files)", "shape", res.Shapes[i].Name)
		if _, err := e.runStep(ctx, recv[i], w); err != nil {
			return nil, err
		}
	}
	for run := range e.runs {
		for i := range res.Shapes {
			e.log.Info("relay: reference rate", "shape", res.Shapes[i].Name, "run", run+1, "of", e.runs, "rate", tcpTargetRate)
			st, err := e.runStep(ctx, recv[i], loads[i])
			if err != nil {
				return nil, err
			}
			res.Shapes[i].RefRuns = append(res.Shapes[i].RefRuns, st)
		}
	}
	ss := make([]*searcher, len(res.Shapes))
	for i, s := range res.Shapes {
		// The reference runs are tries of one rate: it is good if one was.
		ss[i] = newSearcher(recv[i], loads[i], tcpTargetRate)
		ss[i].b.record(s.RefRuns...)
	}
	if err := e.searchTogether(ctx, loads[0], ss...); err != nil {
		return nil, err
	}
	h, err := d.health(ctx)
	if err != nil {
		return nil, err
	}
	_, res.Rejected, _, _, _ = h.syslog()
	res.Pass = res.Rejected == 0
	for i := range res.Shapes {
		s := &res.Shapes[i]
		s.Search = ss[i].res
		cpu := make([]float64, len(s.RefRuns))
		for j, st := range s.RefRuns {
			cpu[j] = st.CPUPerM
		}
		s.CPUPerM = median(cpu)
		py := res.Shapes[0]
		if py.Search.BestAchieved > 0 && py.CPUPerM > 0 {
			s.RateRatio = s.Search.BestAchieved / py.Search.BestAchieved
			s.CPURatio = s.CPUPerM / py.CPUPerM
		}
		s.Pass = s.RateRatio >= relayRateTarget && s.CPURatio <= relayCPUTarget
		res.Pass = res.Pass && s.Pass
	}
	if _, err := d.stop(time.Minute); err != nil {
		return nil, err
	}
	if res.Rejected > 0 {
		return res, fmt.Errorf("graphmetrics rejected %d relay lines (see %s)", res.Rejected, d.logPath)
	}
	return res, nil
}

func (r *relayResult) rows(row func(sc, m, res, target, ok string)) {
	for _, s := range r.Shapes {
		sc := "relay " + s.Name
		row(sc, fmt.Sprintf("highest sustained rate, 1 TCP connection (-header %s -framing %s)", s.Header, s.Framing),
			searchText(s.Search), "", "")
		row(sc, fmt.Sprintf("CPU-s per million lines at %s lines/s, median of %d", num(r.Reference), len(s.RefRuns)),
			fmt.Sprintf("%.2f", s.CPUPerM), "", "")
		if s.Header == "none" {
			continue
		}
		row(sc, "rate / Python shape's", fmt.Sprintf("%.2f×", s.RateRatio), fmt.Sprintf("≥ %.1f×", relayRateTarget), verdict(s.RateRatio >= relayRateTarget))
		row(sc, "CPU per line / Python shape's", fmt.Sprintf("%.2f×", s.CPURatio), fmt.Sprintf("≤ %.1f×", relayCPUTarget), verdict(s.CPURatio <= relayCPUTarget))
	}
}
