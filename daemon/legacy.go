package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/daemon/config"
	"graphmetrics/store"
	"graphmetrics/store/legacy"
	"graphmetrics/store/rrdfile"
	"graphmetrics/store/rrdraw"
)

// legacyOptions configure importLegacyDirs.
type legacyOptions struct {
	cfg  config.Config
	log  *slog.Logger // progress, skipped files and the summary
	dirs []string
	// hold, when set, takes a target file from the running daemon's
	// writer for the time of its rewrite (rrdfile.Writer.Lease); nil: the
	// caller holds the data_dir lock and no writer runs.
	hold func(ctx context.Context, path string) (release func(), err error)
}

// importLegacyDirs imports every legacy file of o.dirs. Every file changes
// only by a rename of a complete, fsynced copy (.<name>.rrd.legacy next to
// it), so a kill leaves each file either as it was or imported; a leftover
// copy is replaced by the next run. When ctx ends, the files in progress
// are finished and the rest left; the summary is logged all the same.
func importLegacyDirs(ctx context.Context, o legacyOptions) error {
	log := o.log
	files, named := legacyFiles(o.dirs, log)
	imp := &legacyImport{cfg: o.cfg, log: log, hold: o.hold, total: len(files)}
	imp.skipped.Add(int64(named))
	log.Info("import-legacy started", "files", len(files), "dirs", strings.Join(o.dirs, " "))
	work := make(chan string)
	var wg sync.WaitGroup
	// The work is mostly waiting for fsync: more workers than CPUs.
	for range 4 * max(1, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				imp.one(ctx, f)
			}
		}()
	}
	tick := time.NewTicker(5 * time.Second)
feed:
	for _, f := range files {
		for {
			select {
			case work <- f:
				continue feed
			case <-tick.C:
				imp.progress()
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(work)
	wg.Wait()
	tick.Stop()
	log.Info("import-legacy done", "files", imp.done.Load(), "imported", imp.imported.Load(),
		"unchanged", imp.unchanged.Load(), "skipped", imp.skipped.Load(),
		"minutes", imp.minutes.Load(), "hours", imp.hours.Load())
	if ctx.Err() != nil {
		return fmt.Errorf("import-legacy stopped after %d of %d files: %w", imp.done.Load(), len(files), context.Cause(ctx))
	}
	return nil
}

// legacyFiles lists the *.rrd files of dirs; names that do not split into
// three parts are reported and counted.
func legacyFiles(dirs []string, log *slog.Logger) (files []string, badNames int) {
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			log.Error("import-legacy: cannot read directory", "dir", d, "err", err)
			badNames++
			continue
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".rrd") {
				continue
			}
			if _, err := legacy.ParseName(e.Name()); err != nil {
				log.Warn("import-legacy: skipped", "file", filepath.Join(d, e.Name()), "err", err)
				badNames++
				continue
			}
			files = append(files, filepath.Join(d, e.Name()))
		}
	}
	return files, badNames
}

type legacyImport struct {
	cfg   config.Config
	log   *slog.Logger
	hold  func(ctx context.Context, path string) (release func(), err error)
	total int
	done, imported, unchanged, skipped,
	minutes, hours atomic.Int64
}

func (imp *legacyImport) progress() {
	imp.log.Info("import-legacy progress", "files", imp.done.Load(), "of", imp.total,
		"minutes", imp.minutes.Load(), "hours", imp.hours.Load(), "skipped", imp.skipped.Load())
}

func (imp *legacyImport) one(ctx context.Context, path string) {
	st, err := imp.importFile(ctx, path)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return // not done: stopped before its lease
	}
	defer imp.done.Add(1)
	switch {
	case err != nil:
		imp.skipped.Add(1)
		imp.log.Warn("import-legacy: skipped", "file", path, "err", err)
	case st.Minutes+st.Hours == 0:
		imp.unchanged.Add(1)
	default:
		imp.imported.Add(1)
		imp.minutes.Add(int64(st.Minutes))
		imp.hours.Add(int64(st.Hours))
	}
}

// importFile fills the tracelog file of one legacy file, through a copy
// renamed into place.
func (imp *legacyImport) importFile(ctx context.Context, path string) (legacy.Stats, error) {
	key, _ := legacy.ParseName(filepath.Base(path))
	b, err := os.ReadFile(path)
	if err != nil {
		return legacy.Stats{}, err
	}
	src, err := rrdraw.Parse(b)
	if err == nil {
		err = legacy.Check(src)
	}
	if err != nil {
		return legacy.Stats{}, err
	}
	dst := store.TracelogFile(imp.cfg.DataDir, key)
	if imp.hold != nil {
		release, err := imp.hold(ctx, dst)
		if err != nil {
			return legacy.Stats{}, err
		}
		defer release()
	}
	return imp.fill(src, dst)
}

// fill writes the history of src into dst, through a copy renamed into
// place; dst is the caller's alone meanwhile.
func (imp *legacyImport) fill(src *rrdraw.File, dst string) (legacy.Stats, error) {
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".legacy")
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return legacy.Stats{}, err
	}
	// Leftovers of a killed run: the copy, and librrd's temporary files
	// of a create (.<tmp>.creating<random>). Names from SafeElem hold no
	// glob metacharacters.
	old, _ := filepath.Glob(tmp + "*")
	more, _ := filepath.Glob(filepath.Join(filepath.Dir(tmp), "."+filepath.Base(tmp)+".creating*"))
	for _, p := range append(old, more...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return legacy.Stats{}, err
		}
	}
	cur, err := os.ReadFile(dst)
	if errors.Is(err, os.ErrNotExist) {
		// A new file's last update is the legacy file's: every row
		// before it is history's, and the live data that follows is
		// newer.
		start := min(src.Last, time.Now().Unix())
		err = rrdfile.CreateTracelog(rrdfile.LibRRD{}, tmp, 0, imp.cfg.Tracelog.Archives, start)
		if err == nil {
			cur, err = os.ReadFile(tmp)
		}
	}
	if err != nil {
		return legacy.Stats{}, err
	}
	f, err := rrdraw.Parse(cur)
	if err != nil {
		os.Remove(tmp)
		return legacy.Stats{}, fmt.Errorf("target %s: %w", dst, err)
	}
	st, err := legacy.Fill(f, src)
	if err != nil || st.Minutes+st.Hours == 0 {
		os.Remove(tmp)
		return st, err
	}
	return st, replaceFile(dst, tmp, f.Buf)
}

// replaceFile writes b to tmp, syncs it and renames it over dst. tmp is
// not truncated first: a new file librrd just made there has b's size, and
// its blocks are reused.
func replaceFile(dst, tmp string, b []byte) error {
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.Write(b)
	if err == nil {
		err = fh.Truncate(int64(len(b)))
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
