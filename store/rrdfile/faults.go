package rrdfile

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"graphmetrics/store"
)

// This file is how a worker opens a file and survives what happens to
// files under a running daemon: a file deleted (recreated), a file librrd
// cannot read or with the wrong data sources (moved aside as
// <name>.corrupt-<UTC time> and recreated), a full disk (rows stay queued,
// see worker.write).

// open learns the file's last update, creating the file if needed so that
// it accepts first (Unix s) as its first update. created says the file is
// new, so rows that failed on the old one can go again at once.
func (wk *worker) open(f *file, first int64) (created bool, err error) {
	info, err := wk.w.opts.RRD.Info(f.path)
	if err == nil && !f.metric {
		info, err = wk.addMissingDS(f.path, info)
	}
	if err == nil {
		err = wk.checkShape(f, info)
	}
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist):
		if f.known {
			// It was there earlier in this run: deleted under us.
			f.known = false
			wk.w.recreated.Add(1)
			wk.logs.LogLevel(wk.w.opts.Logger, slog.LevelWarn, "gone", "rrd file deleted while in use, recreating it", "file", f.path)
		}
		return true, wk.createJournaled(f, first)
	case errors.Is(err, ErrCorrupt):
		to, merr := moveAside(f.path, time.Now())
		if merr != nil {
			return false, fmt.Errorf("%w; moving it aside: %w", err, merr)
		}
		f.known = false
		wk.w.corrupt.Add(1)
		wk.logs.LogLevel(wk.w.opts.Logger, slog.LevelError, "corrupt", "corrupt rrd file moved aside, recreating it", "file", f.path, "moved_to", to, "err", err)
		return true, wk.createJournaled(f, first)
	default:
		return false, err
	}
	if s := int64(info.Step / time.Second); f.metric && s != f.step {
		// The file's own step decides: move queued points to its rows.
		for i := range f.points {
			f.points[i].Time = rowOf(f.points[i].Time, s)
		}
		f.step = s
		wk.lastWins(f)
	}
	if err := wk.learnHeader(f); err != nil {
		return false, err
	}
	f.last, f.opened, f.known = info.Last, true, true
	return false, nil
}

func (wk *worker) createJournaled(f *file, first int64) error {
	if err := wk.create(f, first); err != nil {
		return err
	}
	if err := wk.learnHeader(f); err != nil {
		f.opened = false
		return err
	}
	return nil
}

// learnHeader reads what the journal needs to know about f (journal.go).
func (wk *worker) learnHeader(f *file) error {
	f.hdrLen, f.ino = 0, 0
	hs, ok := wk.w.opts.RRD.(headerSizer)
	if wk.journal == nil || !ok {
		return nil
	}
	n, err := hs.HeaderSize(f.path)
	if err != nil {
		return err
	}
	ino, err := fileInode(f.path)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	f.hdrLen, f.ino = n, ino
	return nil
}

// dsAdder is the optional part of an RRD that adds data sources to an
// existing file in place (LibRRD).
type dsAdder interface {
	AddDS(path string, dss []string) error
}

// addMissingDS brings a tracelog file written before data sources were
// added to store.DataSources (those file's data sources are a prefix of
// it) up to date, keeping its history, and reads it again.
func (wk *worker) addMissingDS(path string, info FileInfo) (FileInfo, error) {
	want := store.DataSources[:]
	ad, ok := wk.w.opts.RRD.(dsAdder)
	if !ok || len(info.DS) >= len(want) || !slices.Equal(info.DS, want[:len(info.DS)]) {
		return info, nil
	}
	dss := tracelogArgs(wk.w.opts.TracelogHeartbeat, nil)[len(info.DS):]
	if err := ad.AddDS(path, dss); err != nil {
		return info, err
	}
	wk.w.tuned.Add(1)
	wk.logs.LogLevel(wk.w.opts.Logger, slog.LevelInfo, "tune", "rrd file: data sources added", "file", path, "added", strings.Join(dss, " "))
	return wk.w.opts.RRD.Info(path)
}

// tune brings an existing tracelog file up to date (a tune job of
// Writer.Start) unless the worker has it open already (then open did).
func (wk *worker) tune(path string) {
	if f := wk.files[path]; wk.w.closing.Load() || f != nil && f.opened {
		return
	}
	info, err := wk.w.opts.RRD.Info(path)
	if err == nil {
		_, err = wk.addMissingDS(path, info)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		wk.logs.LogLevel(wk.w.opts.Logger, slog.LevelWarn, "tune", "rrd file: cannot add data sources", "file", path, "err", err)
	}
}

// checkShape rejects a file that librrd reads but that the rows do not
// fit: updates are positional, so a tracelog file needs exactly
// DataSources in order, at a 1 s step; a metric file one "value".
func (wk *worker) checkShape(f *file, info FileInfo) error {
	want := []string{"value"}
	if !f.metric {
		want = store.DataSources[:]
		if info.Step != time.Second {
			return fmt.Errorf("%s: %w: step %s, want 1s", f.path, ErrCorrupt, info.Step)
		}
	}
	if !slices.Equal(info.DS, want) {
		return fmt.Errorf("%s: %w: data sources %s, want %s", f.path, ErrCorrupt,
			strings.Join(info.DS, ","), strings.Join(want, ","))
	}
	return nil
}

func (wk *worker) create(f *file, first int64) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", f.path, err)
	}
	step := time.Duration(f.step) * time.Second
	args := metricArgs(step, f.rras)
	if !f.metric {
		args = tracelogArgs(wk.w.opts.TracelogHeartbeat, wk.w.opts.TracelogRRAs)
	}
	start := first - f.step
	if !f.metric {
		// Start at the coarsest archive's row boundary: padGap then fills
		// the seconds before the first bucket with zeros, so that row is
		// an exact sum too.
		start = floorDiv(start, wk.w.padPeriod) * wk.w.padPeriod
	}
	if err := wk.w.opts.RRD.Create(f.path, step, start, args); err != nil {
		return err
	}
	wk.w.creates.Add(1)
	f.last, f.opened, f.known = start, true, true
	return nil
}

// moveAside renames a corrupt file to <path>.corrupt-<UTC time>, keeping
// it for inspection; a second one in the same second gets a number.
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	to := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, os.ErrNotExist) {
			break
		}
		to = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(path, to); err != nil {
		return "", err
	}
	return to, nil
}

// isNoSpace tells a disk-full failure; librrd has only the strerror text
// ("No space left on device"; Go spells it in lower case).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(strings.ToLower(err.Error()), syscall.ENOSPC.Error())
}
