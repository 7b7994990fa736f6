package rrdfile

import (
	"context"
	"fmt"
	"sync"
)

// A lease hands one file from its worker to another part of the process
// for a while: graphmetrics import-legacy next to the running daemon,
// which rewrites a tracelog file outside librrd (a complete copy renamed
// over it). While a file is leased its worker keeps the rows that come for
// it queued in memory and does not touch the file.

// lease is a worker's record of a leased file.
type lease struct {
	waiters []chan error // further Lease calls for the file, in order
	tune    bool         // a tune job came meanwhile: run it on release
}

// pendingSync is a Sync barrier that waits for leased files' rows.
type pendingSync struct {
	reply chan error
	wait  map[string]bool // leased paths whose queued rows it waits for
}

// Lease takes the file at path from its worker until release is called.
// The worker first writes what it has queued for the file (rows whose
// write fails stay queued), then forgets what it knew of it (its last
// update, its journal header). Until release, rows for the file stay
// queued and nothing touches it; a Sync waits for them. release hands the
// file back: the worker reads it again (its last update) and writes the
// queued rows, so rows newer than whatever the file now holds land once.
// A second Lease of a leased file waits for the release. release must be
// called exactly once (more calls do nothing); the file must exist or be
// missing when it is, never half-written.
func (w *Writer) Lease(ctx context.Context, path string) (release func(), err error) {
	reply := make(chan error, 1)
	if err := w.send(path, &job{path: path, lease: reply}); err != nil {
		return nil, err
	}
	select {
	case err := <-reply:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		// The grant may still come: give the file back when it does.
		go func() {
			if <-reply == nil {
				w.release(path)
			}
		}()
		return nil, fmt.Errorf("lease %s: %w", path, ctx.Err())
	}
	var once sync.Once
	return func() { once.Do(func() { w.release(path) }) }, nil
}

func (w *Writer) release(path string) {
	// After Close the worker has given every lease back already.
	_ = w.send(path, &job{path: path, release: true})
}

// leaseJob handles a Lease call.
func (wk *worker) leaseJob(path string, reply chan error) {
	if l := wk.leased[path]; l != nil {
		l.waiters = append(l.waiters, reply)
		return
	}
	wk.grant(path, reply, &lease{})
}

func (wk *worker) grant(path string, reply chan error, l *lease) {
	if f := wk.files[path]; f != nil {
		wk.write(f)
		delete(wk.failed, f) // retried at release, not before
		f.opened, f.known, f.hdrLen, f.ino = false, false, 0, 0
	}
	wk.leased[path] = l
	wk.w.leases.Add(1)
	reply <- nil
}

// releaseJob gives a file back: its queued rows are written to what is
// there now, and the next waiting Lease gets it.
func (wk *worker) releaseJob(path string) {
	l := wk.leased[path]
	if l == nil {
		return
	}
	delete(wk.leased, path)
	if f := wk.files[path]; f != nil {
		f.opened = false
		wk.write(f)
	}
	if l.tune {
		wk.tune(path)
	}
	for _, s := range wk.syncs {
		delete(s.wait, path)
	}
	wk.answerSyncs()
	if len(l.waiters) > 0 {
		wk.grant(path, l.waiters[0], &lease{waiters: l.waiters[1:]})
	}
}

// heldRows are the queued rows of leased files.
func (wk *worker) heldRows() (n int, paths map[string]bool) {
	for p := range wk.leased {
		if f := wk.files[p]; f != nil && f.queued() > 0 {
			n += f.queued()
			if paths == nil {
				paths = map[string]bool{}
			}
			paths[p] = true
		}
	}
	return n, paths
}

// syncJob answers a Sync barrier, at once or, when leased files hold rows,
// once they are released.
func (wk *worker) syncJob(reply chan error) {
	wk.retry()
	if _, paths := wk.heldRows(); len(paths) > 0 {
		wk.syncs = append(wk.syncs, &pendingSync{reply: reply, wait: paths})
		return
	}
	reply <- wk.syncResult()
}

func (wk *worker) syncResult() error {
	if n, _ := wk.heldRows(); wk.queued > n {
		return fmt.Errorf("%d rows waiting for a retry", wk.queued-n)
	}
	return nil
}

func (wk *worker) answerSyncs() {
	kept := wk.syncs[:0]
	for _, s := range wk.syncs {
		if len(s.wait) > 0 {
			kept = append(kept, s)
			continue
		}
		s.reply <- wk.syncResult()
	}
	clear(wk.syncs[len(kept):])
	wk.syncs = kept
}

// endLeases, at Close, takes every file back (the writer's owner ends its
// leases first; this is the safety net) and answers what waits.
func (wk *worker) endLeases() {
	for p, l := range wk.leased {
		for _, r := range l.waiters {
			r <- ErrClosed
		}
		l.waiters = nil
		wk.releaseJob(p)
	}
	for _, s := range wk.syncs {
		s.reply <- ErrClosed
	}
	wk.syncs = nil
}
