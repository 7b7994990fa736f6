package main

import (
	"graphmetrics/daemon/listen"
	"graphmetrics/store"
)

// inputStatus is one input's part of /healthz.
type inputStatus struct {
	Running    bool                   `json:"running"`
	Lines      uint64                 `json:"lines"`
	Rejected   map[string]uint64      `json:"rejected"`
	Aggregator store.AggStats         `json:"aggregator"`
	Listeners  []listen.ListenerStats `json:"listeners,omitempty"`
}

func (p *lineParser) status(running bool) inputStatus {
	return inputStatus{
		Running:    running,
		Lines:      p.lines.Load(),
		Rejected:   p.rejects.Snapshot(),
		Aggregator: p.agg.Stats(),
	}
}

// healthStatus is the body of /healthz.
type healthStatus struct {
	Inputs map[string]inputStatus `json:"inputs"`
	Writer store.WriterStats      `json:"writer"`
}

// health is /healthz: whether every input is running, with its counters.
func (a *app) health() (bool, any) {
	st := healthStatus{Inputs: map[string]inputStatus{}}
	ok := true
	if a.syslog != nil {
		s := a.syslog.status(a.listener != nil)
		if a.listener != nil {
			s.Listeners = a.listener.Stats()
		}
		st.Inputs["syslog"] = s
		ok = ok && s.Running
	}
	if a.pipe != nil {
		st.Writer = a.pipe.writer.Stats()
	}
	return ok, st
}
