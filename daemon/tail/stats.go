package tail

import (
	"sync/atomic"
	"time"
)

// Stats are counters and the catch-up state, readable at any time.
type Stats struct {
	Files            int       `json:"files"`     // files followed (open or dormant)
	Open             int       `json:"open"`      // of those, with an open descriptor
	Retired          int       `json:"retired"`   // identities kept to recognise copies and .gz
	Bytes            uint64    `json:"bytes"`     // bytes read from disk (compressed bytes for .gz)
	Lines            uint64    `json:"lines"`     // lines handed over
	Oversize         uint64    `json:"oversize"`  // lines longer than MaxLine, skipped
	Rotations        uint64    `json:"rotations"` // renames away, deletions, truncations noticed
	Errors           uint64    `json:"errors"`    // failed opens, stats, reads, gzip streams
	Checkpoints      uint64    `json:"checkpoints"`
	CheckpointErrors uint64    `json:"checkpoint_errors"`
	LastCheckpoint   time.Time `json:"last_checkpoint"`
	// CaughtUp: the first pass after Start, which reads the backlog, has
	// finished. Backlog is what is left of the bytes a pass found unread
	// when it started.
	CaughtUp bool  `json:"caught_up"`
	Backlog  int64 `json:"backlog"`
	// Passes counts the completed passes over the files (polls,
	// notifications); a test waits for more of them instead of sleeping.
	Passes uint64 `json:"passes"`
}

type counters struct {
	bytes, lines, oversize, rotations, errors, checkpoints, ckptErrors atomic.Uint64
	ckptFailed                                                         atomic.Bool
	lastCkpt                                                           atomic.Int64
	files, open, retired                                               atomic.Int64
	backlog                                                            atomic.Int64
	caughtUp                                                           atomic.Bool
	passes                                                             atomic.Uint64
}

func (c *counters) publish(tb *table) {
	open := 0
	for _, f := range tb.live {
		if f.f != nil {
			open++
		}
	}
	c.files.Store(int64(len(tb.live)))
	c.open.Store(int64(open))
	c.retired.Store(int64(len(tb.retired)))
}

// Stats returns the counters.
func (t *Tailer) Stats() Stats {
	c := &t.stats
	s := Stats{
		Files: int(c.files.Load()), Open: int(c.open.Load()), Retired: int(c.retired.Load()),
		Bytes: c.bytes.Load(), Lines: c.lines.Load(), Oversize: c.oversize.Load(),
		Rotations: c.rotations.Load(), Errors: c.errors.Load(),
		Checkpoints: c.checkpoints.Load(), CheckpointErrors: c.ckptErrors.Load(),
		CaughtUp: c.caughtUp.Load(), Backlog: c.backlog.Load(), Passes: c.passes.Load(),
	}
	if ns := c.lastCkpt.Load(); ns != 0 {
		s.LastCheckpoint = time.Unix(0, ns)
	}
	return s
}

func (t *Tailer) addRead(n int) {
	t.stats.bytes.Add(uint64(n))
	t.prog.bytes += int64(n)
	t.stats.backlog.Add(-int64(n))
}

// progress is one pass's catch-up accounting; a pass that runs longer
// than ProgressEvery logs it (a live pass reads little and never does).
type progress struct {
	start, next, lastAt time.Time
	files, filesDone    int
	total, bytes, lastB int64
	lines, lastL        uint64
	logged, done        bool
}

func (p *progress) begin(t *Tailer, now time.Time) {
	*p = progress{start: now, next: now.Add(t.opts.ProgressEvery), lastAt: now, done: p.done}
	for _, f := range t.tab.live {
		switch {
		case f.Twin != 0 || f.Done:
		case f.GZ && f.readTo != f.size:
			p.files++
			p.total += f.size
		case !f.GZ && f.size > f.Offset:
			p.files++
			p.total += f.size - f.Offset
		}
	}
	t.stats.backlog.Store(p.total)
}

func (p *progress) fileDone(f *file) { p.filesDone++ }

func (p *progress) tick(t *Tailer, now time.Time) {
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(t.opts.ProgressEvery)
	dt := now.Sub(p.lastAt).Seconds()
	t.log.Info("catch-up", "files", p.files, "files_done", min(p.filesDone, p.files),
		"mb_done", p.bytes>>20, "mb_total", p.total>>20,
		"mb_per_s", int64(float64(p.bytes-p.lastB)/dt)>>20,
		"lines_per_s", int64(float64(p.lines-p.lastL)/dt))
	p.lastAt, p.lastB, p.lastL, p.logged = now, p.bytes, p.lines, true
}

func (p *progress) end(t *Tailer, now time.Time) {
	t.stats.backlog.Store(0)
	if !p.logged {
		return
	}
	dt := now.Sub(p.start).Seconds()
	t.log.Info("catch-up done", "files", p.files, "mb", p.bytes>>20, "lines", p.lines,
		"seconds", int64(dt), "lines_per_s", int64(float64(p.lines)/dt))
}

// initialDone marks the end of the first pass after Start.
func (p *progress) initialDone(t *Tailer) {
	p.done = true
	t.stats.caughtUp.Store(true)
}
