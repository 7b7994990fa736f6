package main

import (
	"strings"

	"graphmetrics/daemon/kinesis"
	"graphmetrics/daemon/listen"
	"graphmetrics/daemon/tail"
	"graphmetrics/store"
	"graphmetrics/store/rrdfile"
	"graphmetrics/store/urlstore"
	"graphmetrics/web"
)

// inputStatus is one input's part of /healthz.
type inputStatus struct {
	Running  bool              `json:"running"`
	Lines    uint64            `json:"lines"`
	Rejected map[string]uint64 `json:"rejected"`
	// NonexistentTimes: records whose wall time the clocks skipped.
	NonexistentTimes uint64                 `json:"nonexistent_times"`
	Aggregator       store.AggStats         `json:"aggregator"`
	Listeners        []listen.ListenerStats `json:"listeners,omitempty"`
}

func (p *lineParser) status(running bool) inputStatus {
	return inputStatus{
		Running:          running,
		Lines:            p.lines.Load(),
		Rejected:         p.rejects.Snapshot(),
		Aggregator:       p.agg.Stats(),
		NonexistentTimes: p.nonexistent.Load(),
	}
}

// kinesisStatus is the Kinesis input's part of /healthz.
type kinesisStatus struct {
	Running bool          `json:"running"`
	Stats   kinesis.Stats `json:"stats"`
}

// healthStatus is the body of /healthz.
type healthStatus struct {
	Inputs          map[string]inputStatus       `json:"inputs"`
	Metrics         map[string]metricInputStatus `json:"metric_inputs,omitempty"`
	Kinesis         *kinesisStatus               `json:"kinesis,omitempty"`
	Tail            *tail.Stats                  `json:"tail,omitempty"`
	Writer          rrdfile.WriterStats          `json:"writer"`
	URLs            *urlstore.Stats              `json:"urls,omitempty"`
	FlushAgeSeconds float64                      `json:"flush_age_seconds"`
	FlushStuck      bool                         `json:"flush_stuck"`
}

// health is /healthz: whether every input is running, in a word each for
// anyone, with the counters for logged-in users.
func (a *app) health() web.Health {
	st := healthStatus{Inputs: map[string]inputStatus{}, Metrics: map[string]metricInputStatus{}}
	words := map[string]string{}
	ok := true
	if a.syslog != nil {
		s := a.syslog.status(a.listener != nil)
		if a.listener != nil {
			s.Listeners = a.listener.Stats()
		}
		st.Inputs["syslog"] = s
		words["syslog"] = runWord(s.Running, "stopped")
		ok = ok && s.Running
	}
	if a.tail != nil {
		s := a.tailIn.status(!a.closing.Load())
		st.Tail = ptr(a.tail.Stats())
		st.Inputs["tail"] = s
		words["tail"] = runWord(s.Running, "stopped")
		ok = ok && s.Running
	}
	if a.kinesis != nil {
		st.Kinesis = &kinesisStatus{Running: a.kinesis.Healthy(), Stats: a.kinesis.Stats()}
		words["kinesis"] = runWord(st.Kinesis.Running, "failing")
		ok = ok && st.Kinesis.Running
	}
	a.metricHealth(&st)
	for name, m := range st.Metrics {
		words[name] = runWord(m.Running, "stopped")
		ok = ok && m.Running
	}
	if a.pipe != nil {
		st.Writer = a.pipe.writer.Stats()
		st.URLs = ptr(a.pipe.urls.Stats())
	}
	if a.self != nil {
		// Stuck: nothing fully written for three checks and three flushes.
		age := a.self.FlushAge()
		st.FlushAgeSeconds = age.Seconds()
		st.FlushStuck = age > 3*(a.cfg.Self.Interval.Duration+a.cfg.Tracelog.FlushInterval.Duration)
		words["flush"] = map[bool]string{false: "ok", true: "stuck"}[st.FlushStuck]
		ok = ok && !st.FlushStuck
	}
	return web.Health{OK: ok, Status: words, Detail: st}
}

func runWord(running bool, otherwise string) string {
	if running {
		return "running"
	}
	return otherwise
}

// collectSelf hands every counter to the self-metrics writer: rate for
// cumulative counters (written per second), emit for levels.
func (a *app) collectSelf(emit func(float64, ...string), rate func(uint64, ...string)) {
	// Limit counters (issue 11) get a file once a limit first trips: most
	// daemons never see one, and each file is a few MB. The first write
	// counts from zero, which is where every counter starts.
	limit := func(total uint64, path ...string) {
		key := strings.Join(path, "/")
		if total == 0 && !a.selfLimits[key] {
			return
		}
		if !a.selfLimits[key] {
			a.selfLimits[key] = true
			rate(0, path...)
		}
		rate(total, path...)
	}
	for _, in := range a.pipe.inputs {
		st := in.status(true)
		rate(st.Lines, "input", in.name, "lines")
		for reason, n := range st.Rejected {
			rate(n, "input", in.name, "rejected", reason)
		}
		rate(in.oversize.Load(), "input", in.name, "rejected", "oversize_line")
		rate(st.NonexistentTimes, "input", in.name, "nonexistent_time")
		rate(st.Aggregator.Late, "input", in.name, "late")
		rate(st.Aggregator.Future, "input", in.name, "future")
		rate(st.Aggregator.Unknown, "input", in.name, "unknown_code")
		rate(st.Aggregator.Records, "input", in.name, "records")
		limit(st.Aggregator.RefusedInstances, "input", in.name, "refused", "instances")
		limit(st.Aggregator.RequestsDropped, "input", in.name, "requests_dropped")
		limit(st.Aggregator.RequestsTimedOut, "input", in.name, "requests_timed_out")
		emit(float64(st.Aggregator.Instances), "input", in.name, "instances")
	}
	if a.listener != nil {
		listenerSelf(emit, rate, limit, "syslog", a.listener.Stats())
	}
	a.collectMetricInputs(emit, rate, limit)
	if a.kinesis != nil {
		ks := a.kinesis.Stats()
		rate(ks.Records, "kinesis", "records")
		for reason, n := range ks.Bad {
			rate(n, "kinesis", "bad", reason)
		}
		rate(ks.Throttles, "kinesis", "throttles")
		rate(ks.Errors, "kinesis", "errors")
		for name, s := range ks.Streams {
			emit(float64(s.LagMs), "kinesis", name, "lag_ms")
			rate(s.Records, "kinesis", name, "records")
		}
	}
	if w := a.webServer.Load(); w != nil {
		ws := w.Stats()
		rate(ws.LoginFailures, "web", "login_failures")
		rate(ws.LoginsThrottled, "web", "logins_throttled")
		rate(ws.ExportsTooBig, "web", "exports_too_big")
		rate(ws.ExportsBusy, "web", "exports_busy")
		rate(ws.LimitRefusals, "web", "limit_refusals")
	}
	ws := a.pipe.writer.Stats()
	rate(ws.Rows, "writer", "rows")
	rate(ws.Skipped, "writer", "rows_skipped")
	rate(ws.Dropped, "writer", "rows_dropped")
	rate(ws.Errors, "writer", "errors")
	rate(ws.DiskFull, "writer", "disk_full")
	rate(ws.Recreated, "writer", "recreated_files")
	rate(ws.Corrupt, "writer", "corrupt_files")
	rate(uint64(ws.WriteTime), "writer", "busy_ns") // ns of rrd_update per second
	emit(float64(ws.Queued), "writer", "queued_rows")
	emit(float64(ws.Files), "writer", "files")
	if d := ws.Updates - a.selfPrev.updates; d > 0 && ws.Updates > a.selfPrev.updates {
		emit((ws.WriteTime-a.selfPrev.writeTime).Seconds()*1000/float64(d), "writer", "update_ms_mean")
	}
	a.selfPrev.updates, a.selfPrev.writeTime = ws.Updates, ws.WriteTime
	us := a.pipe.urls.Stats()
	rate(us.Seconds, "urls", "seconds")
	rate(us.Refused, "urls", "refused")
	rate(us.Other, "urls", "other")
	rate(us.Repaired, "urls", "repaired")
	rate(us.Errors, "urls", "errors")
}

// pressure is how many instances and files the pipeline holds in memory,
// and how many records of refused instances it dropped.
func (a *app) pressure() (held int64, refused uint64) {
	held = a.pipe.writer.Stats().Files + int64(a.pipe.hists.Held()) + int64(a.pipe.urls.Held())
	for _, in := range a.pipe.inputs {
		st := in.agg.Stats()
		held += st.Instances
		refused += st.RefusedInstances
	}
	return held, refused
}

func ptr[T any](v T) *T { return &v }
