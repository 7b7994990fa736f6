package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"graphmetrics/daemon/control"
)

// runImportLegacy fills tracelog files with the history of the original
// zc.graphmetrics's RRD files (package legacy has the mapping; legacy.go
// here runs it).
//
// With the daemon stopped it takes the data_dir lock and imports itself.
// When a daemon holds the lock, the import runs inside that daemon,
// handed over on its control socket (<data_dir>/control.sock, package
// control): the daemon's writer keeps every file's last update in memory
// and librrd opens a file before it locks it, so a file swapped in from
// another process could lose an update in flight; inside the daemon each
// file is leased from its writer worker for its rewrite
// (rrdfile.Writer.Lease), and the seconds that come for it meanwhile wait
// in memory. The daemon streams its progress and summary back, printed
// here as the stopped case prints them; Ctrl-C (or a kill) of this command
// stops the daemon's import after the files in progress.
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
	if errors.Is(err, ErrLocked) {
		return importThroughDaemon(ctx, cfg.DataDir, dirs, log)
	}
	if err != nil {
		return err
	}
	err = importLegacyDirs(ctx, legacyOptions{cfg: cfg, log: log, dirs: dirs})
	return errors.Join(err, p.Close(context.Background()))
}

// importThroughDaemon hands the import to the daemon that holds data_dir.
func importThroughDaemon(ctx context.Context, dataDir string, dirs []string, log *slog.Logger) error {
	abs := make([]string, len(dirs))
	for i, d := range dirs {
		a, err := filepath.Abs(d) // the daemon has its own working directory
		if err != nil {
			return fmt.Errorf("import-legacy: %w", err)
		}
		abs[i] = a
	}
	sock := control.Path(dataDir)
	log.Info("import-legacy: the daemon holds data_dir, the import runs in it", "control", sock)
	err := control.Run(ctx, sock, "import-legacy", abs, log)
	if errors.Is(err, control.ErrNoDaemon) {
		return fmt.Errorf("import-legacy: %s: %w, and %w; is another import running?", dataDir, ErrLocked, err)
	}
	if err != nil {
		return fmt.Errorf("import-legacy: %w", err)
	}
	return nil
}

// importLegacy is the daemon's import-legacy command (control socket):
// one at a time, every file leased from the writer for its rewrite.
func (a *app) importLegacy(ctx context.Context, dirs []string, log *slog.Logger) error {
	if !a.legacyBusy.CompareAndSwap(false, true) {
		return errors.New("an import-legacy is already running in the daemon")
	}
	defer a.legacyBusy.Store(false)
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("directory %q is not absolute", d)
		}
	}
	return importLegacyDirs(ctx, legacyOptions{cfg: a.cfg, log: log, dirs: dirs, hold: a.pipe.writer.Lease})
}
