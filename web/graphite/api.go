package graphite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"graphmetrics/web/series"
)

// Defaults of Options.
const (
	DefaultMaxSeries = 1000
	DefaultMaxPoints = 2_000_000
	defaultMaxVisit  = 2_000_000
	defaultTimeout   = 60 * time.Second
	maxTargets       = 100
	maxFindResults   = 100_000
	maxTime          = 4102444800 // 2100-01-01
)

// PNGFunc draws series as a PNG (through the render worker pool).
type PNGFunc func(ctx context.Context, list []*Series, from, until int64, width, height int, title string) ([]byte, error)

// Options configures the API.
type Options struct {
	Index     *series.Index
	MaxSeries int // [web] max_render_series; default 1,000
	MaxPoints int // points read per request; default 2,000,000 (the web server passes [web] max_export_points)
	Parallel  int // files read at once; default 4
	Timeout   time.Duration
	Location  *time.Location // default zone of from/until and CSV times
	PNG       PNGFunc        // nil: format=png is refused
	Logger    *slog.Logger
	Now       func() time.Time
}

// API serves the Graphite endpoints.
type API struct {
	o  Options
	ev *Evaluator
}

// New builds the API.
func New(o Options) (*API, error) {
	if o.Index == nil {
		return nil, errors.New("graphite: no series index")
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = DefaultMaxSeries
	}
	if o.MaxPoints <= 0 {
		o.MaxPoints = DefaultMaxPoints
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ev := &Evaluator{Names: NewNames(o.Index), Fetcher: NewFetcher(o.Parallel),
		Limits: Limits{MaxSeries: o.MaxSeries, MaxPoints: o.MaxPoints, MaxVisit: defaultMaxVisit}}
	return &API{o: o, ev: ev}, nil
}

// Routes registers the endpoints on mux-like registration functions.
func (a *API) Routes(handle func(pattern string, h http.HandlerFunc)) {
	handle("/render", a.Render)
	handle("/metrics/find", a.Find)
	handle("/metrics/expand", a.Expand)
	handle("/metrics/index.json", a.IndexJSON)
	handle("/functions", a.Functions)
	handle("/functions/{name}", a.Function)
	handle("/version", a.Version)
	handle("/tags/autoComplete/tags", a.NoTags)
	handle("/tags/autoComplete/values", a.NoTags)
}

// Version is /version: the graphite-web version whose API this follows
// (Grafana asks, to choose its features).
func (a *API) Version(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "1.1.8\n")
}

// NoTags answers Grafana's tag editor: graphmetrics has no tags.
func (a *API) NoTags(w http.ResponseWriter, r *http.Request) { writeJSONBytes(w, []byte("[]")) }

// badRequest answers 400 with Graphite's message.
func badRequest(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintln(w, msg)
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, targets []string, err error) {
	var ie *InputError
	var pe *ParseError
	switch {
	case errors.As(err, &ie):
		msg := ie.Error()
		if len(targets) > 0 {
			msg += fmt.Sprintf(`; targets: "%s"`, strings.Join(targets, ", "))
		}
		badRequest(w, msg)
	case errors.As(err, &pe):
		badRequest(w, "Invalid parameters ("+pe.Error()+")")
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "query took longer than "+a.o.Timeout.String(), http.StatusServiceUnavailable)
	case errors.Is(err, context.Canceled):
		// The client went away.
	default:
		a.o.Logger.Warn("graphite request failed", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error: "+err.Error(), http.StatusInternalServerError)
	}
}

func writeJSONBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
