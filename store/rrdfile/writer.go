package rrdfile

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/store"
)

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("store writer closed")

// WriterOptions configures a Writer.
type WriterOptions struct {
	DataDir           string        // required
	RRD               RRD           // required: LibRRD{} or a fake
	Workers           int           // goroutines, each owning the files hashed to it; default 2
	TracelogHeartbeat time.Duration // default 5s
	RowsPerUpdate     int           // rows per librrd update call; default 500
	// MaxQueued bounds the rows a worker keeps in memory while writes fail
	// (disk full); beyond it the oldest queued rows are dropped and counted.
	MaxQueued     int           // default 1<<20 (about 50 MB of buckets)
	RetryInterval time.Duration // default 5s
	// ForgetAfter is how long a file that gets no rows stays in a
	// worker's memory (its last update, its journal header); default 15m.
	ForgetAfter time.Duration
	Logger      *slog.Logger // default slog.Default()

	// TracelogRRAs are the archives of new tracelog files; default
	// store.DefaultTracelogArchives().
	TracelogRRAs []store.Archive
}

// WriterStats are cumulative counters, readable at any time.
type WriterStats struct {
	Rows      uint64        `json:"rows"`          // rows written
	Skipped   uint64        `json:"skipped"`       // rows not newer than the file's last update (replays, late)
	Dropped   uint64        `json:"dropped"`       // rows given up after failures (queue bound, Close)
	Errors    uint64        `json:"errors"`        // failed librrd calls
	Updates   uint64        `json:"updates"`       // librrd update calls
	Creates   uint64        `json:"creates"`       // files created
	WriteTime time.Duration `json:"write_time_ns"` // total time in update calls
	MaxWrite  time.Duration `json:"max_write_ns"`  // longest update call
	Queued    int64         `json:"queued"`        // rows waiting for a retry
	DiskFull  uint64        `json:"disk_full"`     // failed writes that were out of disk space (ENOSPC)
	Recreated uint64        `json:"recreated"`     // files deleted while in use and created again
	Tuned     uint64        `json:"tuned"`         // existing files given the data sources they lacked (hung)
	Corrupt   uint64        `json:"corrupt"`       // corrupt files moved aside as <name>.corrupt-<time> and created again
	Files     int64         `json:"files"`         // files held in memory (written to within ForgetAfter)
	Leases    uint64        `json:"leases"`        // files handed out by Lease
	LeaseHeld uint64        `json:"lease_held"`    // rows that came for a leased file and waited for its release
}

// Writer writes tracelog buckets and metric points into RRD files. Files
// are partitioned over worker goroutines by path, so each file has one
// writer (librrd corrupts a file updated concurrently).
type Writer struct {
	opts    WriterOptions
	workers []*worker
	wg      sync.WaitGroup

	mu      sync.RWMutex // closed vs. sends
	started bool
	closed  bool

	// padPeriod is the coarsest tracelog archive step in seconds: partial
	// rows of it are padded with zeros (see padGap).
	padPeriod int64

	rows, skipped, dropped, errs, updates, creates atomic.Uint64
	tuned                                          atomic.Uint64 // files given missing data sources
	closing                                        atomic.Bool   // Close called: queued tune jobs are skipped
	diskFull, recreated, corrupt                   atomic.Uint64
	leases, leaseHeld                              atomic.Uint64
	writeNs, maxWriteNs, queued, files             atomic.Int64
}

// NewWriter validates the options; Start starts the workers.
func NewWriter(o WriterOptions) (*Writer, error) {
	if o.DataDir == "" || o.RRD == nil {
		return nil, errors.New("writer: DataDir and RRD are required")
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.TracelogRRAs == nil {
		o.TracelogRRAs = store.DefaultTracelogArchives()
	}
	if err := validRRAs(o.TracelogRRAs, time.Second); err != nil {
		return nil, fmt.Errorf("writer: tracelog %w", err)
	}
	if o.TracelogHeartbeat == 0 {
		o.TracelogHeartbeat = 5 * time.Second
	}
	if o.TracelogHeartbeat < time.Second {
		return nil, errors.New("writer: tracelog heartbeat under 1s")
	}
	if o.RowsPerUpdate <= 0 {
		o.RowsPerUpdate = 500
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 1 << 20
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 5 * time.Second
	}
	if o.ForgetAfter <= 0 {
		o.ForgetAfter = 15 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = o.Logger.With("component", "rrdwriter")
	w := &Writer{opts: o, padPeriod: 1}
	for _, r := range o.TracelogRRAs {
		w.padPeriod = max(w.padPeriod, int64(r.Step/time.Second))
	}
	for i := range o.Workers {
		w.workers = append(w.workers, newWorker(w, i))
	}
	return w, nil
}

// Start repairs files whose last update call a crash interrupted (see
// journal.go), then starts the worker goroutines.
func (w *Writer) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started || w.closed {
		return errors.New("writer: already started")
	}
	if err := w.openJournals(); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	w.started = true
	for _, wk := range w.workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer func() {
				if wk.journal != nil {
					wk.journal.close()
				}
			}()
			wk.run()
		}()
	}
	if _, ok := w.opts.RRD.(dsAdder); ok {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.tuneAll()
		}()
	}
	return nil
}

// tuneAll queues every existing tracelog file to its worker, which adds
// the data sources it lacks (a file of an older version: "hung"), so
// charts of instances that no longer write find them too. It runs in
// the background: librrd rewrites each file (about 0.1 s for 3 MB).
func (w *Writer) tuneAll() {
	root := store.TracelogRoot(w.opts.DataDir)
	for e := range store.TracelogFiles(root, func(string) bool { return true }, func(string, error) {}) {
		if w.send(e.File, &job{path: e.File, tune: true}) != nil {
			return // closed
		}
	}
}

// openJournals applies every worker's journal left by a crash (journals
// of a run with more workers too), then opens one journal per worker.
func (w *Writer) openJournals() error {
	paths, err := filepath.Glob(filepath.Join(w.opts.DataDir, "state", "rrdjournal-*.bin"))
	if err != nil {
		return err
	}
	for _, p := range paths {
		restored, err := recoverJournal(p, w.opts.RRD)
		if err != nil {
			return err
		}
		if restored {
			w.opts.Logger.Warn("rrd update interrupted by a crash: header restored, its rows will be written again", "journal", p)
		}
	}
	if _, ok := w.opts.RRD.(headerSizer); !ok {
		return nil
	}
	for _, wk := range w.workers {
		j, err := openJournal(journalPath(w.opts.DataDir, wk.id))
		if err != nil {
			for _, o := range w.workers {
				if o.journal != nil {
					o.journal.close()
					o.journal = nil
				}
			}
			return err
		}
		wk.journal = j
	}
	return nil
}

// WriteBuckets queues one instance's final buckets (Sink). The buckets are
// copied. It blocks while the worker's queue is full.
func (w *Writer) WriteBuckets(k store.Key, bs []store.Bucket) error {
	if len(bs) == 0 {
		return nil
	}
	path := store.TracelogFile(w.opts.DataDir, k)
	return w.send(path, &job{path: path, buckets: slices.Clone(bs)})
}

// WriteMetric queues points of the metric at path (untrusted elements,
// sanitized) with the given step (default 60s, whole seconds; an existing
// file keeps its own step). A point stamped T is the update at T, as
// rrdtool update does: it lands in the row whose interval (R−step, R]
// holds T, so a value stamped 12:00:00 shows at 12:00:00 and one stamped
// 12:00:01 at 12:01:00 (step 60s). Several points for one row: the last
// one wins — the latest by time within a call, the later call's across
// calls — as long as the row is not yet written. Points for a row already
// written, or older, are not newer than the file's last update: they are
// skipped and counted (RRD cannot rewrite the past, which is also what
// makes replays harmless). NaN and ±Inf are written as unknown.
func (w *Writer) WriteMetric(path []string, step time.Duration, pts []store.Point) error {
	return w.WriteMetricRRAs(path, step, nil, pts)
}

// WriteMetricRRAs is WriteMetric with the archives a new file gets (nil:
// SPEC §4's defaults for the step; see ValidMetricRRAs). An existing file
// keeps its own.
func (w *Writer) WriteMetricRRAs(path []string, step time.Duration, rras []store.Archive, pts []store.Point) error {
	if step == 0 {
		step = time.Minute
	}
	if step < time.Second || step%time.Second != 0 {
		return fmt.Errorf("metric step %s: want whole seconds", step)
	}
	if rras != nil {
		if err := ValidMetricRRAs(rras, step); err != nil {
			return fmt.Errorf("metric archives: %w", err)
		}
	}
	if len(pts) == 0 {
		return nil
	}
	file := store.MetricFile(w.opts.DataDir, path)
	return w.send(file, &job{path: file, metric: true, step: int64(step / time.Second), rras: rras, points: slices.Clone(pts)})
}

func (w *Writer) send(path string, j *job) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	if !w.started {
		return errors.New("writer: not started")
	}
	h := fnv.New32a()
	h.Write([]byte(path))
	w.workers[h.Sum32()%uint32(len(w.workers))].in <- j
	return nil
}

// Sync waits until everything queued before the call has been written; it
// fails if some rows are still waiting for a retry.
func (w *Writer) Sync(ctx context.Context) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	return w.barrier(ctx, false)
}

// barrier sends a sync (or stop) job to every worker and waits for them.
func (w *Writer) barrier(ctx context.Context, stop bool) error {
	replies := make([]chan error, len(w.workers))
	for i, wk := range w.workers {
		replies[i] = make(chan error, 1)
		select {
		case wk.in <- &job{reply: replies[i], stop: stop}:
		case <-ctx.Done():
			return fmt.Errorf("writer sync: %w", ctx.Err())
		}
	}
	var errs []error
	for _, r := range replies {
		select {
		case err := <-r:
			errs = append(errs, err)
		case <-ctx.Done():
			return fmt.Errorf("writer sync: %w", ctx.Err())
		}
	}
	return errors.Join(errs...)
}

// Close writes what is queued (one last attempt for rows waiting for a
// retry, which are dropped and counted if it fails) and stops the workers.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.closing.Store(true)
	started := w.started
	w.mu.Unlock()
	if !started {
		return nil
	}
	err := w.barrier(ctx, true)
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("close writer: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("close writer: %w", err)
	}
	return nil
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Rows: w.rows.Load(), Skipped: w.skipped.Load(), Dropped: w.dropped.Load(),
		Errors: w.errs.Load(), Updates: w.updates.Load(), Creates: w.creates.Load(),
		WriteTime: time.Duration(w.writeNs.Load()), MaxWrite: time.Duration(w.maxWriteNs.Load()),
		Queued: w.queued.Load(), DiskFull: w.diskFull.Load(), Recreated: w.recreated.Load(),
		Corrupt: w.corrupt.Load(), Files: w.files.Load(), Tuned: w.tuned.Load(),
		Leases: w.leases.Load(), LeaseHeld: w.leaseHeld.Load(),
	}
}

func (w *Writer) observe(d time.Duration) {
	w.updates.Add(1)
	w.writeNs.Add(int64(d))
	for {
		m := w.maxWriteNs.Load()
		if int64(d) <= m || w.maxWriteNs.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// metricValue renders a point's value; NaN and infinities are unknown.
func metricValue(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "U"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
