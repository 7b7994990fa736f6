package main

import (
	"errors"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store"
	"graphmetrics/store/loglimit"
)

// Rejection reasons, counted and logged (rate-limited) per reason.
const (
	reasonMalformed = "malformed_syslog"
	reasonBadRecord = "bad_record"
	reasonBadTime   = "bad_time"
	reasonOversize  = "oversize"
	numReasons      = 4
)

var reasonNames = [numReasons]string{reasonMalformed, reasonBadRecord, reasonBadTime, reasonOversize}

// rejectCounters counts rejected lines by reason.
type rejectCounters [numReasons]atomic.Uint64

func (r *rejectCounters) Snapshot() map[string]uint64 {
	m := make(map[string]uint64, numReasons)
	for i, n := range reasonNames {
		m[n] = r[i].Load()
	}
	return m
}

func reasonOf(err error) int {
	switch {
	case errors.Is(err, parser.ErrOversize):
		return 3
	case errors.Is(err, parser.ErrBadTime):
		return 2
	case errors.Is(err, parser.ErrBadRecord):
		return 1
	default:
		return 0
	}
}

// zones picks the zone of a record's timestamps: per "host/customer", per
// host, else the default.
type zones struct {
	def      *time.Location
	override map[string]*time.Location
}

func (z *zones) lookup(host, customer []byte) *time.Location {
	if len(z.override) == 0 {
		return z.def
	}
	if loc, ok := z.override[string(host)+"/"+string(customer)]; ok {
		return loc
	}
	if loc, ok := z.override[string(host)]; ok {
		return loc
	}
	return z.def
}

// lineParser turns input lines into aggregator batches; one per input.
type lineParser struct {
	name     string
	agg      *store.Aggregator
	zones    *zones
	lines    atomic.Uint64
	oversize atomic.Uint64 // lines over the size limit, dropped before parsing
	// nonexistent counts records stamped with a wall time the clocks
	// skipped (set forward); they are read as time.Date reads them.
	nonexistent atomic.Uint64
	statePath   string // where the aggregator's state is kept across a restart; "" for none
	rejects     rejectCounters
	logLimit    *loglimit.Limiter
	log         *slog.Logger
	guard       *futureGuard // import only: max_future against its own newest record
}

func (p *lineParser) reject(err error, line []byte) {
	r := reasonOf(err)
	p.rejects[r].Add(1)
	if len(line) > 120 {
		line = line[:120]
	}
	p.logLimit.Log(p.log, reasonNames[r], "rejected line", "reason", reasonNames[r], "err", err, "line", string(line))
}

// add parses one attributed message into b.
func (p *lineParser) add(b *store.Batch, msg parser.Message, line []byte) {
	customer, instance, rec, err := parser.Attribute(msg)
	if err != nil {
		p.reject(err, line)
		return
	}
	r, err := parser.ParseRecord(rec, p.zones.lookup(msg.Host, customer))
	if err != nil {
		p.reject(err, line)
		return
	}
	if r.Skipped {
		p.nonexistent.Add(1)
		p.logLimit.Log(p.log, "nonexistent_time", "wall time skipped by a clock change, read as time.Date reads it",
			"time", time.UnixMicro(r.Time).UTC(), "line", string(line[:min(len(line), 120)]))
	}
	if p.guard == nil {
		b.Add(msg.Host, customer, instance, r)
		return
	}
	p.logFuture(p.guard.add(b, msg.Host, customer, instance, r))
}

// finishImport settles the records an import's futureGuard still holds.
func (p *lineParser) finishImport() {
	if p.guard == nil {
		return
	}
	b := p.agg.NewBatch()
	p.logFuture(p.guard.finish(b))
	p.agg.Submit(b)
}

func (p *lineParser) logFuture(refused []parser.Record) {
	for _, r := range refused {
		p.logLimit.Log(p.log, "future", "record refused: too far ahead of the newest record of the import",
			"reason", "future", "rid", string(r.RID), "time", time.UnixMicro(r.Time).UTC().Format(time.RFC3339))
	}
}

// HandleSyslog is the listeners' callback: one batch of raw messages.
func (p *lineParser) HandleSyslog(src netip.Addr, msgs [][]byte) {
	p.lines.Add(uint64(len(msgs)))
	b := p.agg.NewBatch()
	var srcHost []byte
	for _, m := range msgs {
		msg, err := parser.ParseSyslog(m)
		if err != nil {
			p.reject(err, m)
			continue
		}
		if len(msg.Host) == 0 {
			// No header: the sender's address names the host.
			if srcHost == nil {
				srcHost = []byte(src.Unmap().String())
			}
			msg.Host = srcHost
		}
		p.add(b, msg, m)
	}
	p.agg.Submit(b)
}

// HandleDirLines takes lines of syslog-ng directory files.
func (p *lineParser) HandleDirLines(lines [][]byte) {
	p.lines.Add(uint64(len(lines)))
	b := p.agg.NewBatch()
	for _, l := range lines {
		msg, err := parser.ParseDirLine(l)
		if err != nil {
			p.reject(err, l)
			continue
		}
		p.add(b, msg, l)
	}
	p.agg.Submit(b)
}

// HandleBodies takes message bodies that share one header, such as the
// lines of a plain trace.log being imported.
func (p *lineParser) HandleBodies(hdr parser.Message, bodies [][]byte) {
	p.lines.Add(uint64(len(bodies)))
	b := p.agg.NewBatch()
	for _, body := range bodies {
		msg := hdr
		msg.Body = body
		p.add(b, msg, body)
	}
	p.agg.Submit(b)
}
