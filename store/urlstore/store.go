package urlstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/instmap"
	"graphmetrics/store/loglimit"
)

// Root is the directory of the URL statistics under dataDir.
func Root(dataDir string) string { return filepath.Join(dataDir, "urls", "tracelog") }

// Dir is an instance's directory: urls/tracelog/<host>/<customer>/<instance>.
func Dir(dataDir string, k store.Key) string {
	return store.InstanceDir(Root(dataDir), k)
}

// DefaultMaxPatterns is [tracelog.urls] max_patterns' default.
const DefaultMaxPatterns = 500

// Options configures a Store.
type Options struct {
	DataDir string
	Logger  *slog.Logger // default slog.Default()
	// MaxPatterns bounds the distinct patterns of an instance, for good
	// (the dictionary file keeps them); the rest count under Other.
	// Default DefaultMaxPatterns.
	MaxPatterns int
	// ForgetAfter is how long an instance that gets no seconds stays in
	// memory; it is read back from its files when it comes back. 0: never.
	ForgetAfter time.Duration
}

// Stats are cumulative counters.
type Stats struct {
	Seconds  uint64 `json:"seconds"`  // seconds with URL rows written
	Refused  uint64 `json:"refused"`  // seconds not newer than the instance's last one (replays)
	Other    uint64 `json:"other"`    // pattern rows counted under "other" (max_patterns reached)
	Repaired uint64 `json:"repaired"` // files cut back to their last whole group or line
	Errors   uint64 `json:"errors"`   // failed writes (their seconds are lost)
}

// Store writes the URL statistics. WriteBuckets may be called concurrently
// for different instances; reads (Table, Over) work on the files and may
// run alongside.
type Store struct {
	opts Options
	log  *slog.Logger
	lim  *loglimit.Limiter
	inst *instmap.Map[*inst]

	seconds, refused, other, repaired, errs atomic.Uint64
}

// New returns a Store writing under opts.DataDir.
func New(opts Options) *Store {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxPatterns <= 0 {
		opts.MaxPatterns = DefaultMaxPatterns
	}
	s := &Store{
		opts: opts,
		log:  opts.Logger.With("component", "urlstore"),
		lim:  loglimit.New(time.Minute, nil),
	}
	s.inst = instmap.New(opts.ForgetAfter, func(k store.Key) *inst { return &inst{dir: Dir(opts.DataDir, k), s: s} })
	return s
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	return Stats{s.seconds.Load(), s.refused.Load(), s.other.Load(), s.repaired.Load(), s.errs.Load()}
}

// Held forgets the instances idle for ForgetAfter and returns how many
// stay in memory. The daemon calls it on a timer, so an idle flood is
// forgotten even when nothing more is written.
func (s *Store) Held() int { return s.inst.Held() }

// WriteBuckets stores the URL statistics of final buckets, in time order
// (the store.Sink contract). A second not newer than the last one stored
// for the instance is refused, so a replay after a crash never counts
// twice.
func (s *Store) WriteBuckets(k store.Key, bs []store.Bucket) error {
	in := s.inst.Get(k)
	in.mu.Lock()
	defer in.mu.Unlock()
	// New patterns' dictionary lines go out before any group uses them.
	w := appender{before: func() error { return in.dict.flush(in.dir) }}
	defer w.close()
	if err := in.load(&w); err != nil {
		s.errs.Add(1)
		return fmt.Errorf("urlstore %s: %w", in.dir, err)
	}
	for _, b := range bs {
		if len(b.URLs) == 0 {
			continue
		}
		if b.Time <= in.lastSec {
			s.refused.Add(1)
			continue
		}
		rows, err := in.rows(b.URLs)
		if err == nil {
			err = in.addSecond(&w, b.Time, rows)
		}
		if err != nil {
			s.errs.Add(1)
			in.loaded = false // read the files again: they are the truth
			return fmt.Errorf("urlstore %s: second %d: %w", in.dir, b.Time, err)
		}
		s.seconds.Add(1)
	}
	if err := w.close(); err != nil {
		s.errs.Add(1)
		in.loaded = false
		return fmt.Errorf("urlstore %s: %w", in.dir, err)
	}
	return nil
}

// Sync returns at once: WriteBuckets writes before it returns.
func (s *Store) Sync(context.Context) error { return nil }

// appender appends groups to one open segment file per level, buffered:
// a level's groups go out in one write when its segment changes or at
// close (the end of WriteBuckets), so a flush costs a write per level, not
// per second. A crash between writes loses only groups a replay brings
// back (their seconds are not counted as stored until written).
type appender struct {
	f      [len(levels)]*os.File
	seg    [len(levels)]int64
	buf    [len(levels)][]byte
	before func() error // runs before each write of groups
	sc     groupScratch
}

func (w *appender) flush(li int) error {
	if len(w.buf[li]) == 0 || w.f[li] == nil {
		return nil
	}
	if w.before != nil {
		if err := w.before(); err != nil {
			w.buf[li] = w.buf[li][:0]
			return err
		}
	}
	_, err := w.f[li].Write(w.buf[li])
	w.buf[li] = w.buf[li][:0]
	return err
}

func (w *appender) append(in *inst, li int, t int64, rows map[uint32]*stat) error {
	lv := levels[li]
	seg := floorTo(t, lv.Span)
	if w.f[li] == nil || w.seg[li] != seg {
		if w.f[li] != nil {
			if err := w.flush(li); err != nil {
				return err
			}
			if err := w.f[li].Close(); err != nil {
				return err
			}
		}
		if !in.made {
			if err := os.MkdirAll(in.dir, 0o755); err != nil {
				return err
			}
			in.made = true
		}
		f, err := os.OpenFile(segPath(in.dir, lv, seg), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		w.f[li], w.seg[li] = f, seg
		in.prune(li, seg)
	}
	w.buf[li] = w.sc.appendGroup(w.buf[li], lv, seg, t, rows)
	return nil
}

func (w *appender) close() error {
	var first error
	for i, f := range w.f {
		if f != nil {
			if err := w.flush(i); err != nil && first == nil {
				first = err
			}
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
			w.f[i] = nil
		}
	}
	return first
}
