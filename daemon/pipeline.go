package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"graphmetrics/daemon/config"
	"graphmetrics/store"
	"graphmetrics/store/histstore"
	"graphmetrics/store/loglimit"
	"graphmetrics/store/queued"
	"graphmetrics/store/rrdfile"
	"graphmetrics/store/urlpattern"
	"graphmetrics/store/urlstore"
)

// pipeline is the RRD writer shared by every input, and one aggregator per
// input (replayable inputs checkpoint their own aggregator's state).
type pipeline struct {
	cfg    config.Config
	log    *slog.Logger
	lock   *os.File
	writer *rrdfile.Writer
	hists  *histstore.Store
	urls   *urlstore.Store
	files  *queued.Sink // hists and urls, written off the shards
	norm   *urlpattern.Normalizer
	inputs []*lineParser
}

// teeSink hands final buckets to the RRD writer, and to the app-time
// histograms and the URL statistics through a queue of their own (their
// file work must not stop ingestion; store/queued). Each store refuses
// seconds it already holds, so a replay after a crash counts nothing
// twice in any.
type teeSink struct {
	w     *rrdfile.Writer
	files *queued.Sink
}

func (t teeSink) WriteBuckets(k store.Key, bs []store.Bucket) error {
	return errors.Join(t.w.WriteBuckets(k, bs), t.files.WriteBuckets(k, bs))
}

func (t teeSink) Sync(ctx context.Context) error {
	return errors.Join(t.w.Sync(ctx), t.files.Sync(ctx))
}

// fileStores are the app-time histograms and, unless off, the URL
// statistics: the stores the queued sink writes.
type fileStores struct {
	h *histstore.Store
	u *urlstore.Store // nil: URL statistics off
}

func (f fileStores) WriteBuckets(k store.Key, bs []store.Bucket) error {
	err := f.h.WriteBuckets(k, bs)
	if f.u != nil {
		err = errors.Join(err, f.u.WriteBuckets(k, bs))
	}
	return err
}

func (f fileStores) Sync(ctx context.Context) error {
	err := f.h.Sync(ctx)
	if f.u != nil {
		err = errors.Join(err, f.u.Sync(ctx))
	}
	return err
}

// openPipeline locks data_dir and starts the writer.
func openPipeline(cfg config.Config, log *slog.Logger) (*pipeline, error) {
	if err := ownerOnly(cfg.DataDir, log); err != nil {
		return nil, err
	}
	norm, err := urlNormalizer(cfg.Tracelog.URLs)
	if err != nil {
		return nil, err
	}
	rrdfile.FixCHeap()
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	w, err := rrdfile.NewWriter(rrdfile.WriterOptions{
		DataDir:      cfg.DataDir,
		RRD:          rrdfile.LibRRD{},
		TracelogRRAs: cfg.Tracelog.Archives,
		// An instance idle for idle_timeout is no longer written: its file
		// can leave the writer's memory soon after.
		ForgetAfter: 2*cfg.Tracelog.IdleTimeout.Duration + cfg.Tracelog.FlushInterval.Duration,
		Logger:      log,
	})
	if err == nil {
		err = w.Start()
	}
	if err != nil {
		unlockDataDir(lock)
		return nil, err
	}
	forget := 2*cfg.Tracelog.IdleTimeout.Duration + cfg.Tracelog.FlushInterval.Duration
	h := histstore.New(histstore.Options{DataDir: cfg.DataDir, Logger: log, ForgetAfter: forget})
	u := urlstore.New(urlstore.Options{DataDir: cfg.DataDir, Logger: log, ForgetAfter: forget,
		MaxPatterns: cfg.Tracelog.URLs.MaxPatterns})
	fs := fileStores{h: h}
	if norm != nil {
		fs.u = u
	}
	files := queued.New(fs, queued.Options{Name: "histograms and URL statistics", Logger: log})
	return &pipeline{cfg: cfg, log: log, lock: lock, writer: w, hists: h, urls: u, files: files, norm: norm}, nil
}

// urlNormalizer makes the URL patterns of [tracelog.urls]; nil when
// max_patterns = 0 turns URL statistics off.
func urlNormalizer(c config.URLs) (*urlpattern.Normalizer, error) {
	if c.MaxPatterns == 0 {
		return nil, nil
	}
	var rules []urlpattern.Rule
	for _, r := range c.Rewrite {
		rules = append(rules, urlpattern.Rule{Regex: r.Regex, Replacement: r.Replacement})
	}
	n, err := urlpattern.New(rules)
	if err != nil { // Validate checked them
		return nil, fmt.Errorf("tracelog.urls.rewrite: %w", err)
	}
	return n, nil
}

// newLineParser makes an input's aggregator and the parser feeding it.
// Live inputs drop records more than max_future ahead of the wall clock;
// an import (replay) refuses those that far ahead of its own newest record.
func (p *pipeline) newLineParser(name string, replay bool) (*lineParser, error) {
	t := p.cfg.Tracelog
	maxFuture := t.MaxFuture.Duration
	if replay {
		maxFuture = -1
	}
	dataDir := p.cfg.DataDir
	agg, err := store.NewAggregator(store.AggOptions{
		Lateness:              t.Lateness.Duration,
		IdleTimeout:           t.IdleTimeout.Duration,
		HungAfter:             t.HungAfter.Duration,
		FlushInterval:         t.FlushInterval.Duration,
		MaxFuture:             maxFuture,
		Replay:                replay,
		MaxInstances:          t.MaxInstances,
		NewInstancesPerMinute: t.NewInstancesPerMinute,
		MaxRequests:           t.MaxRequests,
		RequestTimeout:        t.RequestTimeout.Duration,
		// Instances with files are known: the limits hold across a restart.
		Known: func(k store.Key) bool {
			_, err := os.Stat(store.TracelogFile(dataDir, k))
			return err == nil
		},
		Shards: t.Shards,
		URLs:   p.norm,
		Sink:   p.sink(),
		Logger: p.log.With("input", name),
	})
	if err != nil {
		return nil, err
	}
	z := &zones{def: p.cfg.Location(), override: map[string]*time.Location{}}
	for src, tz := range p.cfg.Syslog.Timezones {
		z.override[src] = tz.Location
	}
	lp := &lineParser{
		name:     name,
		agg:      agg,
		zones:    z,
		logLimit: loglimit.New(10*time.Second, nil),
		log:      p.log.With("component", "parser", "input", name),
	}
	if replay {
		lp.guard = &futureGuard{max: t.MaxFuture.Duration.Microseconds()}
	}
	p.inputs = append(p.inputs, lp)
	return lp, nil
}

// sink is where final buckets go: the RRD writer, the app-time
// histograms and, with URL statistics on, the URL store.
func (p *pipeline) sink() teeSink { return teeSink{w: p.writer, files: p.files} }

// Close drains every aggregator into the writer, then closes the writer.
func (p *pipeline) Close(ctx context.Context) error {
	var errs []error
	for _, in := range p.inputs {
		if err := in.closeAndSave(ctx); err != nil {
			errs = append(errs, fmt.Errorf("aggregator %s: %w", in.name, err))
		}
	}
	p.files.Close()
	if err := p.writer.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("writer: %w", err))
	}
	unlockDataDir(p.lock)
	return errors.Join(errs...)
}

// ErrLocked means another graphmetrics uses the same data_dir.
var ErrLocked = errors.New("data_dir is in use by another graphmetrics process")

// lockDataDir creates data_dir, checks it is writable and takes its lock,
// so two daemons (or a daemon and an import) never write the same files.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(dir, "graphmetrics.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data_dir %s is not writable: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}

func unlockDataDir(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}
}
