package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/rrdfile"
)

// selfMetrics writes the daemon's own counters into rrd/metrics/_self/ every
// interval, as per-second rates for counters and plain values for levels,
// and keeps the age of the last complete flush for /healthz.
type selfMetrics struct {
	interval time.Duration
	writer   *rrdfile.Writer
	collect  func(emit func(value float64, path ...string), rate func(total uint64, path ...string))
	log      *slog.Logger

	prev map[string]uint64
	// pressure reports the instances and files held in memory and the
	// records of refused instances so far, for trim.
	pressure                 func() (held int64, refused uint64)
	heldHigh                 int64
	refusedLast, refusedTrim uint64
	flooded                  bool
	lastFlush                atomic.Int64 // unix ns of the last Sync that found nothing queued or failing
	cancel                   context.CancelFunc
	wg                       sync.WaitGroup
}

func newSelfMetrics(interval time.Duration, w *rrdfile.Writer, log *slog.Logger,
	collect func(emit func(float64, ...string), rate func(uint64, ...string))) *selfMetrics {
	s := &selfMetrics{interval: interval, writer: w, collect: collect, log: log, prev: map[string]uint64{}}
	s.lastFlush.Store(time.Now().UnixNano())
	return s
}

func (s *selfMetrics) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s.tick(ctx, now)
			}
		}
	}()
}

// Close stops the loop; it writes nothing more (the writer closes after).
func (s *selfMetrics) Close() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
}

// FlushAge is how long ago the writer last had everything written.
func (s *selfMetrics) FlushAge() time.Duration {
	return time.Duration(time.Now().UnixNano() - s.lastFlush.Load())
}

func (s *selfMetrics) tick(ctx context.Context, now time.Time) {
	sctx, cancel := context.WithTimeout(ctx, s.interval)
	if err := s.writer.Sync(sctx); err == nil {
		s.lastFlush.Store(time.Now().UnixNano())
	}
	cancel()
	ts := now.Unix()
	step := s.interval
	write := func(v float64, path []string) {
		p := append([]string{"_self"}, path...)
		if err := s.writer.WriteMetric(p, step, []store.Point{{Time: ts, Value: v}}); err != nil {
			s.log.Debug("self-metric not written", "path", p, "err", err)
		}
	}
	emit := func(v float64, path ...string) { write(v, path) }
	rate := func(total uint64, path ...string) {
		key := string(bytes.Join(toBytes(path), []byte{'/'}))
		prev, seen := s.prev[key]
		s.prev[key] = total
		if seen && total >= prev {
			write(float64(total-prev)/step.Seconds(), path)
		}
	}
	s.collect(emit, rate)
	emit(float64(runtime.NumGoroutine()), "process", "goroutines")
	if rss, ok := readRSS(); ok {
		emit(float64(rss), "process", "rss_bytes")
	}
	emit(s.FlushAge().Seconds(), "writer", "flush_age_seconds")
	s.trim()
}

// trim hands memory back to the OS once a flood of instances is over
// (issue 11): when the instances and files held fell to half of their
// high-water mark, after a fall of at least trimMin or after at least
// trimMin records of refused instances (and none in the last interval).
// The Go runtime would return it only slowly, and a daemon that stays at
// its flood size looks like a leak to the operator, and is one to the
// machine.
func (s *selfMetrics) trim() {
	if s.pressure == nil {
		return
	}
	held, refused := s.pressure()
	s.heldHigh = max(s.heldHigh, held)
	quiet := refused == s.refusedLast
	s.refusedLast = refused
	if refused-s.refusedTrim >= trimMin {
		s.flooded = true
	}
	fell := s.heldHigh-held >= trimMin
	if !quiet || held > s.heldHigh/2 || !(fell || s.flooded) {
		return
	}
	debug.FreeOSMemory()
	rrdfile.TrimCHeap()
	s.log.Info("flood of instances over: memory returned to the OS", "held", held, "was", s.heldHigh,
		"refused_records", refused-s.refusedTrim)
	// Once more when what is still held is forgotten too.
	s.heldHigh, s.refusedTrim, s.flooded = held, refused, held > 0
}

const trimMin = 1000

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// readRSS is the resident set size from /proc/self/statm.
func readRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
