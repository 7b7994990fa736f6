// Package histstore keeps the per-second app-time histograms of every
// tracelog instance (issue 13) in a compact store of its own, next to the
// RRD files, and consolidates them exactly (sums of counts) into minute and
// hour rows. README.md has the layout, the sizes measured and why it is not
// an RRD file. It does not use cgo.
package histstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/instmap"
	"graphmetrics/store/loglimit"
)

// Root is the directory of the histogram files under dataDir.
func Root(dataDir string) string { return filepath.Join(dataDir, "hist", "tracelog") }

// Dir is an instance's directory: hist/tracelog/<host>/<customer>/<instance>.
func Dir(dataDir string, k store.Key) string {
	return store.InstanceDir(Root(dataDir), k)
}

// Options configures a Store.
type Options struct {
	DataDir string
	Logger  *slog.Logger // default slog.Default()
	// ForgetAfter is how long an instance that gets no seconds stays in
	// memory (issue 11: a flood of instances must not stay resident); it is
	// read back from its files, as after a restart, when it comes back.
	// 0: never forgotten.
	ForgetAfter time.Duration
}

// Stats are cumulative counters.
type Stats struct {
	Seconds  uint64 `json:"seconds"`  // per-second histograms written
	Refused  uint64 `json:"refused"`  // seconds not newer than the instance's last one (replays)
	Repaired uint64 `json:"repaired"` // segment files cut back to their last whole row
	Errors   uint64 `json:"errors"`   // failed writes (their seconds are lost)
}

// Store writes and reads the histograms. WriteBuckets may be called
// concurrently for different instances (each aggregator shard owns its
// instances); reads may run alongside writes.
type Store struct {
	opts Options
	log  *slog.Logger
	lim  *loglimit.Limiter
	inst *instmap.Map[*inst]

	seconds, refused, repaired, errs atomic.Uint64
}

// New returns a Store writing under opts.DataDir.
func New(opts Options) *Store {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{
		opts: opts,
		log:  opts.Logger.With("component", "histstore"),
		lim:  loglimit.New(time.Minute, nil),
	}
	s.inst = instmap.New(opts.ForgetAfter, func(k store.Key) *inst { return &inst{dir: Dir(opts.DataDir, k), s: s} })
	return s
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	return Stats{s.seconds.Load(), s.refused.Load(), s.repaired.Load(), s.errs.Load()}
}

// Held forgets the instances idle for ForgetAfter and returns how many
// stay in memory. The daemon calls it on a timer, so an idle flood is
// forgotten even when nothing more is written.
func (s *Store) Held() int { return s.inst.Held() }

// WriteBuckets stores the app-time histograms of final buckets, in time
// order (the store.Sink contract). A second not newer than the last one
// stored for the instance is refused, as RRD refuses it, so a replay after
// a crash never counts twice.
func (s *Store) WriteBuckets(k store.Key, bs []store.Bucket) error {
	in := s.inst.Get(k)
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.load(); err != nil {
		s.errs.Add(1)
		return fmt.Errorf("histstore %s: %w", in.dir, err)
	}
	h := hist.New(hist.Default)
	var w appender
	defer w.close()
	for _, b := range bs {
		if len(b.App) == 0 {
			continue
		}
		if b.Time <= in.lastSec {
			s.refused.Add(1)
			continue
		}
		h.Reset()
		if _, err := h.Decode(b.App); err != nil {
			return fmt.Errorf("histstore %s: second %d: %w", in.dir, b.Time, err)
		}
		if err := in.addSecond(&w, b.Time, h); err != nil {
			s.errs.Add(1)
			return fmt.Errorf("histstore %s: %w", in.dir, err)
		}
		s.seconds.Add(1)
	}
	return w.close()
}

// Sync returns at once: WriteBuckets writes before it returns.
func (s *Store) Sync(context.Context) error { return nil }

// appender appends rows to one open segment file per level.
type appender struct {
	f   [len(levels)]*os.File
	seg [len(levels)]int64
	buf []byte
}

func (w *appender) append(dir string, li int, t int64, h *hist.Hist, onNew func(li int, seg int64)) error {
	lv := levels[li]
	seg := floorTo(t, lv.Span)
	if w.f[li] == nil || w.seg[li] != seg {
		if w.f[li] != nil {
			if err := w.f[li].Close(); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(segPath(dir, lv, seg), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		w.f[li], w.seg[li] = f, seg
		onNew(li, seg)
	}
	w.buf = appendRow(w.buf[:0], lv, seg, t, h)
	_, err := w.f[li].Write(w.buf)
	return err
}

func (w *appender) close() error {
	var first error
	for i, f := range w.f {
		if f != nil {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
			w.f[i] = nil
		}
	}
	return first
}
