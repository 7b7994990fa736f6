package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// runImportLegacy fills tracelog files with the history of the original
// zc.graphmetrics's RRD files (package legacy has the mapping).
//
// It holds the data_dir lock for its whole run, so it refuses to run next
// to a daemon (ErrLocked): the daemon's writer keeps every file's last
// update in memory and librrd opens a file before it locks it, so a file
// swapped in from another process could lose an update in flight. Every
// file changes only by a rename of a complete, fsynced copy
// (.<name>.rrd.legacy next to it), so a kill leaves each file either as it
// was or imported; a leftover copy is replaced by the next run.
func runImportLegacy(ctx context.Context, args []string, stderr io.Writer) error {
	fs, cfgPath := newFlags("import-legacy", stderr)
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usageError(stderr, "import-legacy: no directory given")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	// openPipeline takes the lock and lets the writer repair a file an
	// interrupted daemon update left (its journal) before files are read.
	p, err := openPipeline(cfg, log)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return fmt.Errorf("import-legacy: %w; stop the daemon first (the import rewrites whole files, which must not race its writer)", err)
		}
		return err
	}
	files, named := legacyFiles(dirs, log)
	imp := &legacyImport{cfg: cfg, log: log, total: len(files)}
	imp.skipped.Add(int64(named))
	work := make(chan string)
	var wg sync.WaitGroup
	// The work is mostly waiting for fsync: more workers than CPUs.
	for range 4 * max(1, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				imp.one(f)
			}
		}()
	}
	tick := time.NewTicker(5 * time.Second)
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- f:
		case <-tick.C:
			imp.progress()
			work <- f
		}
	}
	close(work)
	wg.Wait()
	tick.Stop()
	closeErr := p.Close(context.Background())
	log.Info("import-legacy done", "files", imp.done.Load(), "imported", imp.imported.Load(),
		"unchanged", imp.unchanged.Load(), "skipped", imp.skipped.Load(),
		"minutes", imp.minutes.Load(), "hours", imp.hours.Load())
	return errors.Join(ctx.Err(), closeErr)
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
	total int
	done, imported, unchanged, skipped,
	minutes, hours atomic.Int64
}

func (imp *legacyImport) progress() {
	imp.log.Info("import-legacy progress", "files", imp.done.Load(), "of", imp.total,
		"minutes", imp.minutes.Load(), "hours", imp.hours.Load(), "skipped", imp.skipped.Load())
}

func (imp *legacyImport) one(path string) {
	defer imp.done.Add(1)
	st, err := imp.importFile(path)
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
func (imp *legacyImport) importFile(path string) (legacy.Stats, error) {
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
