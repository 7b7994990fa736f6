package tail

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"
)

// minGap spaces out passes woken by file notifications: a busy file
// notifies on every write.
const minGap = 20 * time.Millisecond

// run is the reader goroutine: it owns the file table and is the only
// one to read files.
func (t *Tailer) run(ctx context.Context) {
	defer close(t.work)
	poll := time.NewTicker(t.opts.PollInterval)
	defer poll.Stop()
	ckpt := time.NewTimer(t.opts.CheckpointInterval)
	defer ckpt.Stop()
	var wake <-chan struct{}
	if t.watch != nil {
		wake = t.watch.wake
	}
	t.pass(ctx, true)
	t.prog.initialDone(t)
	for {
		ckpt.Reset(max(time.Until(t.nextCkpt), 0))
		select {
		case <-ctx.Done():
			// The final checkpoint follows every block already sent.
			t.work <- &work{mark: t.marker(true)}
			return
		case <-wake:
			if d := minGap - time.Since(t.lastPass); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					continue
				}
			}
			scan, written := t.watch.take()
			t.pass(ctx, scan || t.needScan(written))
		case <-poll.C:
			t.pass(ctx, true)
		case <-ckpt.C:
		}
		t.maybeCheckpoint()
	}
}

// needScan reports whether a written file is one the table does not have
// open (new, or dormant): only a scan finds those.
func (t *Tailer) needScan(written map[string]struct{}) bool {
	if len(written) == 0 {
		return false
	}
	open := make(map[string]bool, len(t.tab.live))
	for _, f := range t.tab.live {
		if f.f != nil {
			open[f.Path] = true
		}
	}
	for p := range written {
		if !open[p] {
			return true
		}
	}
	return false
}

// pass reads every followed file to its end, in the order of the age of
// their content (see file.order), so that an instance's records arrive in
// time order across its rotated files. A truncation found on the way
// makes it go round again, with a scan for the copy of what was cut.
func (t *Tailer) pass(ctx context.Context, scan bool) {
	for range 4 {
		t.passN++
		t.again = false
		t.passOnce(ctx, scan)
		if !t.again || ctx.Err() != nil {
			break
		}
		scan = true
	}
	now := time.Now()
	for _, f := range append([]*file(nil), t.tab.live...) {
		switch {
		case !f.orphan.IsZero() && now.Sub(later(f.orphan, f.lastGrow)) >= t.opts.OrphanGrace:
			t.log.Info("file gone from the globs and no longer growing: done with it", "path", f.Path, "offset", f.Offset)
			t.tab.retire(f, now)
			t.dirty = true
		case f.f != nil && f.orphan.IsZero() && (f.Done || now.Sub(later(f.lastGrow, f.mtime)) >= t.opts.IdleClose):
			f.closeFD()
		}
	}
	t.stats.publish(t.tab)
	t.stats.passes.Add(1)
}

func (t *Tailer) passOnce(ctx context.Context, scan bool) {
	now := time.Now()
	t.lastPass = now
	if scan {
		t.scan(now)
	}
	// New content is matched first: a copy of older content goes to the
	// front of the reading order.
	for _, f := range t.tab.live {
		if !f.GZ && f.FPLen == 0 && f.Twin == 0 {
			if _, err := t.preparePlain(f, now); err != nil {
				t.readError(f, err)
			}
		}
	}
	t.tab.sort()
	t.prog.begin(t, now)
	for _, f := range append([]*file(nil), t.tab.live...) {
		if ctx.Err() != nil {
			return
		}
		var err error
		if f.GZ {
			err = t.readGZ(ctx, f, now)
		} else {
			err = t.readPlain(ctx, f, now)
		}
		t.prog.fileDone(f)
		if err != nil {
			t.readError(f, err)
		}
	}
	t.prog.end(t, time.Now())
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (t *Tailer) readError(f *file, err error) {
	if errors.Is(err, errMoved) || errors.Is(err, os.ErrNotExist) {
		return // the next scan sorts out what the path is now
	}
	t.stats.errors.Add(1)
	t.limit.Log(t.log, "read", "cannot read file (retried)", "path", f.Path, "err", err)
}

// between runs between two blocks of a long read.
func (t *Tailer) between() {
	t.maybeCheckpoint()
	t.prog.tick(t, time.Now())
}

func (t *Tailer) maybeCheckpoint() {
	now := time.Now()
	if now.Before(t.nextCkpt) {
		return
	}
	t.nextCkpt = now.Add(t.opts.CheckpointInterval)
	if !t.dirty && !t.stats.ckptFailed.Load() {
		return
	}
	t.work <- &work{mark: t.marker(false)}
}

// marker captures the positions for a checkpoint; the handler acts on it
// after every block sent before.
func (t *Tailer) marker(final bool) *marker {
	t.dirty = false
	return &marker{files: t.tab.idents(), nextID: t.tab.nextID, final: final}
}

// handle is the handler goroutine: it hands blocks of lines over in
// batches and writes checkpoints in order with them.
func (t *Tailer) handle() {
	for w := range t.work {
		if w.mark != nil {
			err := t.checkpoint(w.mark)
			if w.mark.final {
				t.finalErr = err
			}
			continue
		}
		for i := 0; i < len(w.lines); i += t.opts.BatchLines {
			t.opts.Handle(w.lines[i:min(i+t.opts.BatchLines, len(w.lines))])
		}
		t.recycle(w)
	}
}

// checkpoint has the aggregator write its final buckets, then stores its
// state with the positions of the lines it has seen.
func (t *Tailer) checkpoint(m *marker) error {
	ckpt := t.opts.Checkpoint
	if m.final && t.opts.FinalCheckpoint != nil {
		ckpt = t.opts.FinalCheckpoint
	}
	agg, err := ckpt(t.hctx)
	if err == nil {
		err = writeState(t.opts.StateFile, &state{Written: time.Now().UTC(), NextID: m.nextID, Files: m.files, Aggregator: agg})
	}
	if err != nil {
		t.stats.ckptErrors.Add(1)
		t.stats.ckptFailed.Store(true)
		t.limit.LogLevel(t.log, slog.LevelError, "checkpoint", "checkpoint failed (retried)", "err", err)
		return err
	}
	t.stats.ckptFailed.Store(false)
	t.stats.checkpoints.Add(1)
	t.stats.lastCkpt.Store(time.Now().UnixNano())
	return nil
}
