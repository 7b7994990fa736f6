package rrdfile

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/loglimit"
)

// job is work for one writer goroutine: rows for a file, or a barrier.
type job struct {
	path    string
	metric  bool
	step    int64           // metric step, seconds
	rras    []store.Archive // metric archives of a new file; nil: store.MetricArchives(step)
	buckets []store.Bucket
	points  []store.Point
	reply   chan error // barrier: reply once everything before it is handled
	tune    bool       // add missing data sources to an existing tracelog file
	stop    bool       // barrier that also ends the worker
	lease   chan error // Writer.Lease: reply once the file is handed over
	release bool       // the end of a lease
}

// file is a worker's view of one RRD file. Queued rows stay here while
// writes fail.
type file struct {
	path    string
	metric  bool
	step    int64           // seconds
	rras    []store.Archive // metric archives of a new file; nil: store.MetricArchives
	opened  bool            // last is known
	known   bool            // the file existed earlier in this run (vanishing = deleted)
	last    int64           // the file's last update
	buckets []store.Bucket
	points  []store.Point // in arrival order
	// lostTo is the last update time of dropped tracelog rows: those seconds
	// are written as unknown, never padded with zeros.
	lostTo int64
	// hdrLen and ino identify the header the journal saves (0: none).
	hdrLen int64
	ino    uint64
	used   int64 // wall time (Unix ns) rows last came for it
}

func (f *file) queued() int { return len(f.buckets) + len(f.points) }

// jobQueue is how many files' rows a worker takes before a sender waits:
// room for several flushes of a large fleet, so that a slow spell (the
// first flush creating thousands of files) does not stall the aggregator
// and, through it, the listeners. The rows themselves are bounded by
// MaxQueued.
const jobQueue = 16384

type worker struct {
	w       *Writer
	id      int
	journal *journal  // nil: no journaling (an RRD without headerSizer)
	in      chan *job // pointers: a queue filled once stays resident, so keep it small
	files   map[string]*file
	failed  map[*file]struct{} // files with rows left after an error
	queued  int
	peak    int // most files held since the map was last made
	buf     []byte
	rows    []string
	leased  map[string]*lease // files handed out by Lease (lease.go)
	syncs   []*pendingSync    // Sync barriers waiting for leased rows

	// logs lets one line of a kind through per minute, so a fault that
	// hits thousands of files (a full disk) logs once, not thousands of
	// times; the next line says how many were left out.
	logs *loglimit.Limiter
}

func newWorker(w *Writer, id int) *worker {
	return &worker{w: w, id: id, in: make(chan *job, jobQueue), files: make(map[string]*file), failed: make(map[*file]struct{}),
		leased: make(map[string]*lease), logs: loglimit.New(time.Minute, nil)}
}

func (wk *worker) run() {
	retry := time.NewTicker(wk.w.opts.RetryInterval)
	defer retry.Stop()
	for {
		select {
		case j := <-wk.in:
			if j.stop {
				wk.stop(j.reply)
				return
			}
			wk.handle(j)
		case now := <-retry.C:
			wk.retry()
			wk.prune(now.UnixNano())
		}
	}
}

func (wk *worker) handle(j *job) {
	switch {
	case j.tune:
		if l := wk.leased[j.path]; l != nil {
			l.tune = true // not under the lease's holder
		} else {
			wk.tune(j.path)
		}
	case j.lease != nil:
		wk.leaseJob(j.path, j.lease)
	case j.release:
		wk.releaseJob(j.path)
	case j.reply != nil:
		wk.syncJob(j.reply)
	default:
		wk.add(j)
	}
}

// stop answers the last barrier: one last attempt for rows waiting for a
// retry, the rest is dropped and counted.
func (wk *worker) stop(reply chan error) {
	wk.endLeases()
	wk.retry()
	n := wk.queued
	for f := range wk.failed {
		wk.drop(f, f.queued())
	}
	if n > 0 {
		reply <- fmt.Errorf("%d rows not written", n)
	} else {
		reply <- nil
	}
}

func (wk *worker) add(j *job) {
	f := wk.files[j.path]
	if f == nil {
		f = &file{path: j.path, metric: j.metric, step: 1}
		if j.metric {
			f.step, f.rras = j.step, j.rras
		}
		wk.files[j.path] = f
		wk.peak = max(wk.peak, len(wk.files))
		wk.w.files.Add(1)
	}
	f.used = time.Now().UnixNano()
	f.buckets = append(f.buckets, j.buckets...)
	wk.setQueued(wk.queued + len(j.buckets) + len(j.points))
	if len(j.points) > 0 {
		slices.SortStableFunc(j.points, func(a, b store.Point) int { return cmp.Compare(a.Time, b.Time) })
		for i := range j.points {
			j.points[i].Time = rowOf(j.points[i].Time, f.step)
		}
		f.points = append(f.points, j.points...)
		wk.lastWins(f)
	}
	if wk.leased[f.path] == nil {
		wk.write(f)
	} else {
		wk.w.leaseHeld.Add(uint64(len(j.buckets) + len(j.points)))
	}
	// Rows pile up only while writes fail: beyond the bound, the oldest go.
	for g := range wk.failed {
		over := wk.queued - wk.w.opts.MaxQueued
		if over <= 0 {
			break
		}
		n := min(over, g.queued())
		wk.drop(g, n)
		wk.logs.LogLevel(wk.w.opts.Logger, slog.LevelError, "drop", "rrd write queue full, dropped the oldest rows",
			"file", g.path, "rows", n, "max_queued", wk.w.opts.MaxQueued)
	}
}

// prune forgets files that had no rows for ForgetAfter (idle instances):
// a flood of new instances must not hold memory once it is over. The map
// is made anew when it shrank to a quarter, since Go maps never shrink.
func (wk *worker) prune(now int64) {
	cut := now - int64(wk.w.opts.ForgetAfter)
	for p, f := range wk.files {
		if _, failed := wk.failed[f]; failed || f.queued() > 0 || f.used > cut {
			continue
		}
		delete(wk.files, p)
		wk.w.files.Add(-1)
	}
	if wk.peak > 64 && len(wk.files) < wk.peak/4 {
		wk.files = store.Shrunk(wk.files)
		wk.peak = len(wk.files)
	}
}

func (wk *worker) retry() {
	for f := range wk.failed {
		wk.write(f)
	}
}

// drop gives up the n oldest queued rows of f.
func (wk *worker) drop(f *file, n int) {
	if n <= 0 {
		return
	}
	if f.metric {
		f.points = f.points[n:]
	} else {
		f.lostTo = max(f.lostTo, f.buckets[n-1].Time+1)
		f.buckets = f.buckets[n:]
	}
	wk.w.dropped.Add(uint64(n))
	wk.setQueued(wk.queued - n)
	if f.queued() == 0 {
		delete(wk.failed, f)
	}
}

func (wk *worker) setQueued(n int) {
	wk.w.queued.Add(int64(n - wk.queued))
	wk.queued = n
}

// write writes everything queued for f; on failure the rows that did not
// make it stay queued and the file is re-read before the next attempt
// (librrd may have applied part of a call).
func (wk *worker) write(f *file) {
	err := wk.writeFile(f)
	if err == nil {
		delete(wk.failed, f)
		return
	}
	wk.w.errs.Add(1)
	full := isNoSpace(err)
	if full {
		wk.w.diskFull.Add(1)
	}
	f.opened = false
	wk.failed[f] = struct{}{}
	wk.logs.LogLevel(wk.w.opts.Logger, slog.LevelError, "write", "rrd write failed, will retry", "file", f.path,
		"queued", wk.queued, "disk_full", full, "err", err)
}

// writeFile opens f if needed and writes its queued rows. When an update
// fails the file is looked at again at once: one deleted or damaged under
// us is replaced (see open) and the rows go to the new file in the same
// flush; otherwise the error stands and the rows wait for a retry.
func (wk *worker) writeFile(f *file) error {
	if f.queued() == 0 {
		return nil
	}
	if !f.opened {
		if _, err := wk.open(f, wk.firstUpdate(f)); err != nil {
			return err
		}
	}
	err := wk.updateRows(f)
	if err == nil {
		return nil
	}
	f.opened = false
	created, oerr := wk.open(f, wk.firstUpdate(f))
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	if !created {
		return err
	}
	wk.w.errs.Add(1) // the failed update; a failure from here on is counted by write
	return wk.updateRows(f)
}

// updateRows writes f's queued rows to the open file, RowsPerUpdate a call.
func (wk *worker) updateRows(f *file) error {
	wk.skipOld(f)
	for f.queued() > 0 {
		n := min(f.queued(), wk.w.opts.RowsPerUpdate)
		rows, lastT := wk.render(f, n)
		start := time.Now()
		if wk.journal != nil && f.hdrLen > 0 {
			if err := wk.journal.save(f.path, f.ino, f.hdrLen, lastT); err != nil {
				return err
			}
		}
		err := wk.w.opts.RRD.Update(f.path, rows)
		if wk.journal != nil && f.hdrLen > 0 {
			// The call ended (librrd wrote what it wrote): nothing to
			// roll back, whatever its result.
			err = errors.Join(err, wk.journal.clear())
		}
		wk.w.observe(time.Since(start))
		if err != nil {
			return err
		}
		f.last = lastT
		wk.consume(f, n)
		wk.w.rows.Add(uint64(n))
	}
	return nil
}

// firstUpdate is the update time of the oldest queued row (f has some).
func (wk *worker) firstUpdate(f *file) int64 {
	if f.metric {
		return f.points[0].Time
	}
	return f.buckets[0].Time + 1
}

// rowOf is the update time of the RRD row (kS−S, kS] holding t: a point
// stamped t is the update at t, as rrdtool update itself does, so one
// stamped on a step boundary shows at that boundary.
func rowOf(t, s int64) int64 { return (floorDiv(t-1, s) + 1) * s }

// floorDiv is a / b rounded towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// lastWins sorts queued metric points (update times) and keeps the last
// one of each step: points of one job arrive sorted by their own time, and
// the sort is stable, so that is the latest point, or the later job's.
func (wk *worker) lastWins(f *file) {
	slices.SortStableFunc(f.points, func(a, b store.Point) int { return cmp.Compare(a.Time, b.Time) })
	out := f.points[:0]
	for _, p := range f.points {
		if n := len(out); n > 0 && out[n-1].Time == p.Time {
			out[n-1] = p
			wk.w.skipped.Add(1)
			wk.setQueued(wk.queued - 1)
			continue
		}
		out = append(out, p)
	}
	f.points = out
}

// skipOld drops queued rows not newer than the file's last update (replays
// after a crash, seconds already written by another input), and rows
// behind newer ones, which would fail the whole librrd call.
func (wk *worker) skipOld(f *file) {
	n := 0
	last := f.last
	if f.metric {
		kept := f.points[:0]
		for _, p := range f.points {
			if p.Time <= last {
				n++
				continue
			}
			last = p.Time
			kept = append(kept, p)
		}
		f.points = kept
	} else {
		kept := f.buckets[:0]
		for _, b := range f.buckets {
			if b.Time+1 <= last {
				n++
				continue
			}
			last = b.Time + 1
			kept = append(kept, b)
		}
		f.buckets = kept
	}
	wk.w.skipped.Add(uint64(n))
	wk.setQueued(wk.queued - n)
}

// render builds the rrd_update arguments of the first n queued rows.
func (wk *worker) render(f *file, n int) ([]string, int64) {
	rows := wk.rows[:0]
	prev := f.last
	var t int64
	for i := range n {
		if f.metric {
			p := f.points[i]
			t = p.Time
			rows = append(rows, strconv.FormatInt(t, 10)+":"+metricValue(p.Value))
			continue
		}
		b := &f.buckets[i]
		t = b.Time + 1
		if t-prev > 1 {
			if f.lostTo > prev && f.lostTo < t {
				rows = append(rows, unknownRow(f.lostTo))
				prev = f.lostTo
			}
			rows = wk.padGap(rows, prev, t)
		}
		wk.buf = appendBucketRow(wk.buf[:0], b)
		rows = append(rows, string(wk.buf))
		prev = t
	}
	wk.rows = rows
	return rows, t
}

// padGap appends rows for the missing update times (prev, t) of a tracelog
// file. Seconds that share a row of the coarsest archive with written
// seconds are zeros, so every consolidated row that holds data is an exact
// sum of its seconds (an instance that sent nothing had no requests); the
// whole rows in between stay unknown, so a long gap costs two rows' worth of
// padding at most, never years of zeros.
func (wk *worker) padGap(rows []string, prev, t int64) []string {
	p := wk.w.padPeriod
	leftEnd := min(t-1, (floorDiv(prev+p-1, p))*p) // end of prev's row
	rightStart := max(leftEnd, floorDiv(t-1, p)*p) // start of t's row
	for u := prev + 1; u <= leftEnd; u++ {
		rows = append(rows, zeroRow(u))
	}
	if rightStart > leftEnd {
		rows = append(rows, unknownRow(rightStart))
	}
	for u := rightStart + 1; u < t; u++ {
		rows = append(rows, zeroRow(u))
	}
	return rows
}

func (wk *worker) consume(f *file, n int) {
	if f.metric {
		f.points = f.points[n:]
	} else {
		f.buckets = f.buckets[n:]
	}
	wk.setQueued(wk.queued - n)
	if f.queued() == 0 {
		// Let the backing arrays go between flushes.
		f.points, f.buckets = nil, nil
	}
}
