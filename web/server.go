package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"

	"graphmetrics/store"
	"graphmetrics/store/histstore"
	"graphmetrics/store/loglimit"
	"graphmetrics/web/export"
	"graphmetrics/web/graphite"
	"graphmetrics/web/overview"
	"graphmetrics/web/render"
	"graphmetrics/web/series"
	"graphmetrics/web/storage"
	"graphmetrics/web/tree"
)

// Options configures the web server.
type Options struct {
	Listen            string // host:port
	CertFile, KeyFile string // both set: serve HTTPS, cookies Secure
	DataDir           string // rrd/ below it is read
	DB                Store  // users, pages and sessions: a *storage.DB
	RenderWorkers     int    // default runtime.NumCPU()
	Logger            *slog.Logger
	// Health reports the daemon's inputs for /healthz; nil means healthy.
	Health func() Health

	// RenderCommand is the argv of a render worker; default: this
	// executable with "render-worker". The pool adds render.EnvWorker=1 to
	// the worker's environment, so a test binary can serve as worker.
	RenderCommand []string
	RenderMaxUses int // renders before a worker is replaced; default 500
	// MaxRenderSeries bounds the series of one Graphite /render request
	// ([web] max_render_series); default 1,000.
	MaxRenderSeries int
	Location        *time.Location // zone of form times and axis labels; default time.Local
	// Live is the aggregators' state for the live pages; nil: they say
	// there is no live data.
	Live LiveSource
	// HungAfter marks requests running longer as hung on the live pages
	// ([tracelog] hung_after); default 60s.
	HungAfter time.Duration
	// URLs reads the URL statistics for the /urls pages; default: the
	// files of store/urlstore under DataDir.
	URLs URLSource

	// MaxExportPoints bounds the values (rows × series) of one export;
	// default export.DefaultMaxPoints. MaxExports bounds the exports in
	// flight; default 2.
	MaxExportPoints int
	MaxExports      int
	// MaxPageCharts and MaxUserPages bound what a user stores; defaults
	// DefaultMaxPageCharts and DefaultMaxUserPages.
	MaxPageCharts int
	MaxUserPages  int

	// Overview is the daemon's in-memory state of its instances (levels
	// now, last record) for the overview at "/"; nil shows levels as 0.
	Overview overview.State
	// OverviewThresholds say when a row is in trouble ([web.overview]);
	// the zero value is overview.DefaultThresholds.
	OverviewThresholds overview.Thresholds

	exportWait   time.Duration // for an export slot before a 503; default 30s (tests shorten it)
	loginSpacing time.Duration // between checks of an account under guessing; default 1s (tests shorten it)
}

// Server is the web UI: login, pages of charts, and the graph renderer.
type Server struct {
	o        Options
	log      *slog.Logger
	db       Store
	sessions *scs.SessionManager
	store    *storage.SessionStore
	pool     *render.Pool
	tree     *tree.Tree
	histRoot string // app-time histograms (store/histstore)
	series   *series.Index
	graphite *graphite.API
	views    *views
	handler  http.Handler
	now      func() time.Time
	loc      *time.Location

	pairLimit, addrLimit *throttle
	pace                 *pacer
	graphLog             *loglimit.Limiter // failed graphs and exports
	loginLog             *loglimit.Limiter // failed and throttled logins
	exports              chan struct{}     // one token per export in flight
	stats                stats

	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks the options and builds the server; Start serves.
func New(o Options) (*Server, error) {
	if o.DB == nil {
		return nil, errors.New("web: no database")
	}
	if o.Listen == "" {
		return nil, errors.New("web: no listen address")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("web: cert and key must be set together")
	}
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("web: data dir: %w", err)
	}
	if o.RenderCommand == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("web: find own executable for render workers: %w", err)
		}
		o.RenderCommand = []string{exe, "render-worker"}
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.HungAfter <= 0 {
		o.HungAfter = time.Minute
	}
	if o.MaxExportPoints <= 0 {
		o.MaxExportPoints = export.DefaultMaxPoints
	}
	if o.MaxExports <= 0 {
		o.MaxExports = 2
	}
	if o.exportWait <= 0 {
		o.exportWait = 30 * time.Second
	}
	if o.MaxPageCharts <= 0 {
		o.MaxPageCharts = DefaultMaxPageCharts
	}
	if o.OverviewThresholds == (overview.Thresholds{}) {
		o.OverviewThresholds = overview.DefaultThresholds()
	}
	if o.MaxUserPages <= 0 {
		o.MaxUserPages = DefaultMaxUserPages
	}
	if o.URLs == nil {
		o.URLs = urlFiles(dataDir)
	}
	log := o.Logger.With("component", "web")
	s := &Server{o: o, log: log, db: o.DB, now: time.Now, loc: o.Location, exports: make(chan struct{}, o.MaxExports)}
	s.graphLog = loglimit.New(time.Minute, func() time.Time { return s.now() })
	s.loginLog = loglimit.New(time.Minute, func() time.Time { return s.now() })
	s.store = o.DB.Sessions(func() time.Time { return s.now() })
	clock := func() time.Time { return s.now() }
	s.pairLimit = newThrottle(5, time.Second, 15*time.Minute, clock)
	s.addrLimit = newThrottle(20, time.Second, 15*time.Minute, clock)
	if o.loginSpacing <= 0 {
		o.loginSpacing = time.Second
	}
	s.pace = newPacer(5, 15*time.Minute, o.loginSpacing, 10*o.loginSpacing)

	// Not scs.New: it starts a memory store with a goroutine nobody can
	// stop, and we use our own store. No idle timeout: it would rewrite the
	// session on every request, including every chart image.
	s.sessions = &scs.SessionManager{
		Lifetime: 30 * 24 * time.Hour,
		Store:    s.store,
		Codec:    scs.GobCodec{},
		Cookie: scs.SessionCookie{
			Name: "graphmetrics_session", Path: "/", HttpOnly: true, Persist: true,
			SameSite: http.SameSiteLaxMode, Secure: o.CertFile != "",
		},
	}
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.Error("session", "err", err, "path", r.URL.Path)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}

	s.histRoot = histstore.Root(dataDir)
	s.tree = tree.New(tree.Options{Root: store.TracelogRoot(dataDir), Logger: log})
	if s.series, err = series.New(series.Options{DataDir: dataDir, Logger: o.Logger}); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	var env []string
	if name := o.Location.String(); o.Location != time.Local && name != "Local" {
		// Axis labels in the zone that form times are read in.
		env = append(env, "TZ="+name)
	}
	s.pool, err = render.NewPool(render.PoolOptions{Command: o.RenderCommand, Workers: o.RenderWorkers,
		MaxRenders: o.RenderMaxUses, Root: filepath.Join(dataDir, "rrd"), Env: env, Logger: log.With("part", "render")})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.graphite, err = graphite.New(graphite.Options{Index: s.series, MaxSeries: o.MaxRenderSeries,
		MaxPoints: o.MaxExportPoints, Location: o.Location, Logger: log.With("part", "graphite"),
		Now: func() time.Time { return s.now() }, PNG: s.graphitePNG}); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.views, err = newViews(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Stats are the web UI's refusals, counted since start, for the daemon's
// own metrics (the built-in page shows them).
type Stats struct {
	LoginFailures   uint64 // wrong user name or password
	LoginsThrottled uint64 // refused unchecked: an address or account throttled
	ExportsTooBig   uint64 // over max_export_points (413)
	ExportsBusy     uint64 // no export slot within the wait (503)
	LimitRefusals   uint64 // changes over max_page_charts or max_user_pages
}

type stats struct {
	loginFailures, loginsThrottled, exportsTooBig, exportsBusy, limitRefusals atomic.Uint64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{LoginFailures: s.stats.loginFailures.Load(), LoginsThrottled: s.stats.loginsThrottled.Load(),
		ExportsTooBig: s.stats.exportsTooBig.Load(), ExportsBusy: s.stats.exportsBusy.Load(),
		LimitRefusals: s.stats.limitRefusals.Load()}
}

// Handler is the whole UI, for tests and for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.handler }

// Start starts the render workers, listens and serves in the background.
func (s *Server) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.pool.Start(); err != nil {
		// Charts will show error images and workers are retried on each
		// render; the rest of the UI and the daemon keep working.
		s.log.Error("render workers do not start", "command", s.o.RenderCommand, "err", err)
	}
	ln, err := net.Listen("tcp", s.o.Listen)
	if err != nil {
		cancel()
		return fmt.Errorf("web: listen %s: %w", s.o.Listen, err)
	}

	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if s.o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.o.CertFile, s.o.KeyFile)
		if err != nil {
			ln.Close()
			cancel()
			return fmt.Errorf("web: load certificate: %w", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	if err := s.series.Start(ctx); err != nil {
		ln.Close()
		cancel()
		return fmt.Errorf("web: %w", err)
	}
	s.ln = ln
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.cleanSessions(ctx)
	}()
	s.log.Info("web UI listening", "addr", ln.Addr().String(), "tls", s.o.CertFile != "")
	return nil
}

// Addr is the address listened on (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops serving (waiting for requests up to ctx) and the render workers.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("web: shutdown: %w", err))
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if err := s.series.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("web: %w", err))
	}
	if err := s.pool.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("web: %w", err))
	}
	return errors.Join(errs...)
}

func (s *Server) cleanSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := s.store.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("clean sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
