package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"time"

	"graphmetrics/daemon/config"
	"graphmetrics/daemon/control"
	"graphmetrics/daemon/kinesis"
	"graphmetrics/daemon/listen"
	"graphmetrics/daemon/tail"
	"graphmetrics/web"
	"graphmetrics/web/storage"
)

// shutdownTimeout bounds the final flush on SIGTERM.
const shutdownTimeout = 30 * time.Second

// app is the running daemon: every input, the pipeline and the web UI.
type app struct {
	cfg        config.Config
	log        *slog.Logger
	pipe       *pipeline
	syslog     *lineParser
	listener   *listen.Listener
	kinesis    *kinesis.Consumer
	tail       *tail.Tailer
	tailIn     *lineParser
	metrics    metricInputs
	closing    atomic.Bool // shutting down: inputs are no longer running
	control    *control.Server
	legacyBusy atomic.Bool // an import-legacy runs (legacycmd.go)
	db         *storage.DB
	web        *web.Server
	webServer  atomic.Pointer[web.Server] // a.web, once made, for collectSelf
	self       *selfMetrics
	selfLimits map[string]bool // limit counters that have tripped (collectSelf)
	selfPrev   struct {
		updates   uint64
		writeTime time.Duration
	}
}

// runDaemon starts everything, waits for ctx, then shuts down in order:
// inputs, aggregators (final buckets), writer, web.
func runDaemon(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	a := &app{cfg: cfg, log: log, selfLimits: map[string]bool{}}
	err := a.start(ctx, stdout)
	if err == nil {
		log.Info("graphmetrics running", append([]any{"data_dir", cfg.DataDir, "web", a.web.Addr(), "syslog", addrs(a.listener)},
			a.metricAddrs()...)...)
		<-ctx.Done()
		log.Info("shutting down")
	}
	cctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return errors.Join(err, a.close(cctx))
}

func (a *app) start(ctx context.Context, stdout io.Writer) error {
	var err error
	if a.pipe, err = openPipeline(a.cfg, a.log); err != nil {
		return err
	}
	if a.syslog, err = a.pipe.newLineParser("syslog", false); err != nil {
		return err
	}
	if err := a.syslog.restoreState(filepath.Join(a.cfg.DataDir, "state", syslogStateFile)); err != nil {
		return fmt.Errorf("syslog state: %w", err)
	}
	if err := a.syslog.agg.Start(); err != nil {
		return err
	}
	a.listener = listen.New(listen.Options{
		UDP:         a.cfg.Syslog.UDP,
		TCP:         a.cfg.Syslog.TCP,
		RecvBuffer:  a.cfg.Syslog.RecvBuffer,
		MaxMessage:  a.cfg.Syslog.MaxMessage,
		MaxConns:    a.cfg.Syslog.MaxConns,
		IdleTimeout: a.cfg.Syslog.IdleTimeout.Duration,
		Allow:       a.allow(),
		Logger:      a.log,

		MaxConnsPerSource: a.cfg.Syslog.MaxConnsPerSource,
		Handle:            a.syslog.HandleSyslog,
	})
	if err := a.listener.Start(); err != nil {
		return fmt.Errorf("syslog: %w", err)
	}

	if err := a.startTail(); err != nil {
		return err
	}
	if err := a.startKinesis(); err != nil {
		return err
	}
	if err := a.startMetricInputs(); err != nil {
		return err
	}
	a.self = newSelfMetrics(a.cfg.Self.Interval.Duration, a.pipe.writer, a.log, a.collectSelf)
	a.self.pressure = a.pressure
	a.self.Start()

	if a.db, err = storage.Open(filepath.Join(a.cfg.DataDir, storage.DBFile)); err != nil {
		return err
	}
	if err := a.db.EnsureAdmin(ctx, stdout); err != nil {
		return err
	}
	a.web, err = web.New(web.Options{
		Listen:             a.cfg.Web.Listen,
		CertFile:           a.cfg.Web.Cert,
		KeyFile:            a.cfg.Web.Key,
		DataDir:            a.cfg.DataDir,
		DB:                 a.db,
		RenderWorkers:      a.cfg.Web.RenderWorkers,
		MaxExportPoints:    a.cfg.Web.MaxExportPoints,
		MaxExports:         a.cfg.Web.MaxExports,
		MaxPageCharts:      a.cfg.Web.MaxPageCharts,
		MaxUserPages:       a.cfg.Web.MaxUserPages,
		MaxRenderSeries:    a.cfg.Web.MaxRenderSeries,
		Logger:             a.log,
		Location:           a.cfg.Location(),
		Health:             a.health,
		Live:               liveSource{a.pipe},
		HungAfter:          a.cfg.Tracelog.HungAfter.Duration,
		Overview:           liveState{a},
		OverviewThresholds: a.overviewThresholds(),
	})
	if err != nil {
		return err
	}
	// The self-metrics goroutine reads the web counters from here.
	a.webServer.Store(a.web)
	if err := a.web.Start(); err != nil {
		return err
	}
	a.startControl()
	return nil
}

// startControl opens <data_dir>/control.sock for the commands of the CLI
// that run inside the daemon (package control). Without it the daemon
// runs all the same; those commands then need it stopped.
func (a *app) startControl() {
	s, err := control.Listen(control.Options{
		Path:     control.Path(a.cfg.DataDir),
		Logger:   a.log,
		Commands: map[string]control.Command{"import-legacy": a.importLegacy},
	})
	if err != nil {
		a.log.Error("no control socket: import-legacy needs the daemon stopped", "err", err)
		return
	}
	a.control = s
}

// startTail follows the syslog-ng directory files. The tailer is the only
// feeder of its aggregator and snapshots its state with the file positions,
// so a restart neither loses nor double-counts a line.
func (a *app) startTail() error {
	c := a.cfg.Tail
	if len(c.Paths) == 0 {
		return nil
	}
	in, err := a.pipe.newLineParser("tail", false)
	if err != nil {
		return err
	}
	t, err := tail.New(tail.Options{
		Paths:              c.Paths,
		PollInterval:       c.PollInterval.Duration,
		StateFile:          filepath.Join(a.cfg.DataDir, "state", "tail.json"),
		MaxLine:            a.cfg.Syslog.MaxMessage,
		Handle:             in.HandleDirLines,
		Checkpoint:         in.agg.Checkpoint,
		FinalCheckpoint:    in.agg.CloseCheckpoint, // shutdown writes every pending second
		Restore:            in.agg.Restore,
		CheckpointInterval: a.cfg.Tracelog.FlushInterval.Duration,
		Logger:             a.log,
	})
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	if err := t.Start(); err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	a.tail, a.tailIn = t, in
	return in.agg.Start()
}

// startKinesis reads the configured streams into rrd/metrics/<stream>/.
func (a *app) startKinesis() error {
	k := a.cfg.Kinesis
	if len(k.Streams) == 0 {
		return nil
	}
	streams := make([]kinesis.Stream, 0, len(k.Streams))
	for _, s := range k.Streams {
		streams = append(streams, kinesis.Stream{Name: s.Name, Start: s.Start, Step: s.Step.Duration, Metric: s.Metric})
	}
	c, err := kinesis.New(kinesis.Options{
		Region:    k.Region,
		Endpoint:  k.Endpoint,
		Streams:   streams,
		StateDir:  filepath.Join(a.cfg.DataDir, "state"),
		Sink:      a.pipe.writer,
		Logger:    a.log,
		FailAfter: k.FailAfter.Duration,

		FutureLimit: k.MaxFuture.Duration,
	})
	if err != nil {
		return fmt.Errorf("kinesis: %w", err)
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("kinesis: %w", err)
	}
	a.kinesis = c
	return nil
}

// close stops the parts that were started, inputs first.
func (a *app) close(ctx context.Context) error {
	var errs []error
	if a.control != nil {
		// First: a running import-legacy gives its files back to the
		// writer before the writer closes.
		errs = append(errs, a.control.Close(ctx))
	}
	if a.listener != nil {
		errs = append(errs, a.listener.Close(ctx))
	}
	if a.tail != nil {
		a.closing.Store(true)
		errs = append(errs, a.tail.Close(ctx))
	}
	if a.kinesis != nil {
		errs = append(errs, a.kinesis.Close(ctx))
	}
	a.closing.Store(true)
	errs = append(errs, a.closeMetricInputs(ctx))
	if a.self != nil {
		a.self.Close()
	}
	if a.pipe != nil {
		errs = append(errs, a.pipe.Close(ctx))
	}
	if a.web != nil {
		errs = append(errs, a.web.Close(ctx))
	}
	if a.db != nil {
		errs = append(errs, a.db.Close())
	}
	return errors.Join(errs...)
}

func addrs(l *listen.Listener) []string {
	if l == nil {
		return nil
	}
	return netAddrs(l.Addrs())
}

// allow is [syslog] allow as prefixes: who may send to any listener.
func (a *app) allow() []netip.Prefix {
	allow := make([]netip.Prefix, 0, len(a.cfg.Syslog.Allow))
	for _, s := range a.cfg.Syslog.Allow {
		p, _ := config.ParseAllow(s) // validated with the config
		allow = append(allow, p)
	}
	return allow
}
