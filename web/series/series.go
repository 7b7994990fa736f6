// Package series is the list of every series the /metrics pages can plot
// (SPEC §6): each metric RRD under <data_dir>/rrd/metrics, named by its path
// without ".rrd" (cimaa.metrics/host.example.com/disk/root/free,
// _self/input/syslog/lines), the data sources of each tracelog RRD, named
// tracelog/<host>/<customer>/<instance>/<ds>, and beside them the
// instance's app-time percentiles p50, p95 and p99 (issue 13), which are
// not stored in the RRD file but computed from its histograms
// (store/histstore) when drawn.
//
// The list comes from a directory walk, kept as an immutable snapshot that
// readers use without locks and that is rebuilt on a timer and, at most
// every MinAge, when a name is asked for that is not in it. Resolve is the
// only way from a user's series name to a file, and it only returns files
// the walk found: a path is never built from user text.
package series

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/web/tree"
)

// TracelogPrefix starts the name of every tracelog series.
const TracelogPrefix = "tracelog/"

// Limits.
const (
	MaxLimit     = 1000      // results one Search returns at most
	maxName      = 4096      // bytes of a name worth looking up
	maxDepth     = 16        // directory levels under rrd/metrics
	defaultLimit = 100       // Search's limit when given none
	defaultMax   = 1_000_000 // series indexed at most (Options.MaxSeries)
)

// ErrTooMany is returned by SelectAll when more series match than allowed.
var ErrTooMany = errors.New("too many matching series")

// Series is one data source of one RRD file, or an app-time percentile of
// a tracelog instance.
type Series struct {
	Name string // as users see and type it
	File string // absolute path, found by the walk (a percentile's: its instance's RRD file)
	DS   string // RRD data source name; "" for a percentile
	// Quantile (0.5, 0.95, 0.99) marks a percentile in seconds of the
	// histograms in Hist, the instance's directory in the histogram store.
	Quantile float64
	Hist     string
}

// Percentiles are the app-time series of every tracelog instance, in
// seconds, named tracelog/<host>/<customer>/<instance>/<name>.
var Percentiles = [...]struct {
	Name string
	Q    float64
}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}}

// Options configures an Index.
type Options struct {
	DataDir   string        // data_dir: <DataDir>/rrd/metrics and <DataDir>/rrd/tracelog are read
	Interval  time.Duration // rescan period; default 30s
	MinAge    time.Duration // a miss rescans only a snapshot older than this; default 2s
	MaxSeries int           // stop indexing beyond this many; default 1,000,000
	Logger    *slog.Logger
	Now       func() time.Time
}

// Index holds the current snapshot and rebuilds it.
type Index struct {
	o      Options
	snap   atomic.Pointer[snapshot]
	scanMu sync.Mutex // one walk at a time

	runMu  sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New checks the options; nothing is read until Start or the first use.
func New(o Options) (*Index, error) {
	if !filepath.IsAbs(o.DataDir) {
		return nil, fmt.Errorf("series index: data dir %q is not absolute", o.DataDir)
	}
	o.DataDir = filepath.Clean(o.DataDir)
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.MinAge <= 0 {
		o.MinAge = 2 * time.Second
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = defaultMax
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("component", "series")
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Index{o: o}, nil
}

// Start walks the directories once, so the first page finds everything,
// then every Interval until Close.
func (x *Index) Start(ctx context.Context) error {
	x.runMu.Lock()
	defer x.runMu.Unlock()
	if x.cancel != nil {
		return errors.New("series index: already started")
	}
	x.rescan(0)
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	x.cancel, x.done = cancel, make(chan struct{})
	go x.loop(ctx, x.done)
	return nil
}

func (x *Index) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(x.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			x.rescan(0)
		}
	}
}

// Close stops the timer and waits for a walk in progress, up to ctx.
func (x *Index) Close(ctx context.Context) error {
	x.runMu.Lock()
	cancel, done := x.cancel, x.done
	x.runMu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("series index close: %w", ctx.Err())
	}
}

// Refresh rebuilds the snapshot now unless it is younger than MinAge
// (file creations are what it catches; the timer catches the rest).
func (x *Index) Refresh() { x.rescan(x.o.MinAge) }

// rescan walks unless another walk finished less than minAge ago; callers
// that waited for that walk use its result.
func (x *Index) rescan(minAge time.Duration) *snapshot {
	x.scanMu.Lock()
	defer x.scanMu.Unlock()
	if s := x.snap.Load(); s != nil && minAge > 0 && x.o.Now().Sub(s.time) < minAge {
		return s
	}
	s := x.walk()
	x.snap.Store(s)
	return s
}

func (x *Index) get() *snapshot {
	if s := x.snap.Load(); s != nil {
		return s
	}
	return x.rescan(0)
}

// Len is the number of series indexed.
func (x *Index) Len() int { return len(x.get().series) }

// Updated is when the current snapshot was taken, and whether it stopped
// at MaxSeries.
func (x *Index) Updated() (time.Time, bool) {
	s := x.get()
	return s.time, s.truncated
}

// All returns every series of the current snapshot, in name order, and
// when it was taken (a new time means a new list). The slice is shared:
// callers must not modify it.
func (x *Index) All() ([]Series, time.Time) {
	s := x.get()
	return s.series, s.time
}

// Resolve returns the series of that exact name, rescanning once (at most
// every MinAge) when it is not known yet.
func (x *Index) Resolve(name string) (Series, bool) {
	if !plausible(name) {
		return Series{}, false
	}
	if s, ok := x.get().lookup(name); ok {
		return s, true
	}
	return x.rescan(x.o.MinAge).lookup(name)
}

// plausible filters names no walk can produce, so junk never costs a walk.
func plausible(name string) bool {
	if name == "" || len(name) > maxName || name[0] == '/' || strings.HasSuffix(name, "/") {
		return false
	}
	for _, e := range strings.Split(name, "/") {
		if !tree.ValidShown(e) {
			return false
		}
	}
	return true
}

// Search returns up to limit series (in name order) whose lowercase names
// contain every word of the lowercase query in order — spaces are
// wildcards — and how many match in all. limit ≤ 0 means 100; it is capped
// at MaxLimit. An empty query matches everything. A search that finds
// nothing rescans once (at most every MinAge), for series just created.
func (x *Index) Search(query string, limit int) ([]Series, int) {
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, MaxLimit)
	m, _ := matcher(query)
	s := x.get()
	out, total := s.search(m, limit)
	if total == 0 && len(s.series) < x.o.MaxSeries {
		if s2 := x.rescan(x.o.MinAge); s2 != s {
			out, total = s2.search(m, limit)
		}
	}
	return out, total
}

// RegexpPrefix starts a query that is a regular expression (RE2 syntax,
// matched anywhere in the name, ignoring case) instead of words.
const RegexpPrefix = "re:"

// CheckQuery reports why a regular-expression query does not compile
// (such a query matches nothing).
func CheckQuery(query string) error {
	_, err := matcher(query)
	return err
}

// matcher reads a query: words, each found in order in the lowercase name,
// or after RegexpPrefix a regular expression.
func matcher(query string) (func(lower string) bool, error) {
	if re, ok := strings.CutPrefix(strings.TrimSpace(query), RegexpPrefix); ok {
		if len(re) > 1000 {
			return func(string) bool { return false }, errors.New("regular expression longer than 1000 bytes")
		}
		rx, err := regexp.Compile("(?i)" + re)
		if err != nil {
			return func(string) bool { return false }, fmt.Errorf("regular expression: %w", err)
		}
		return rx.MatchString, nil
	}
	words := strings.Fields(strings.ToLower(query))
	return func(name string) bool { return matches(name, words) }, nil
}

// SelectAll returns every match of query, or ErrTooMany when more than
// limit match ("select all matches" is refused above a bound).
func (x *Index) SelectAll(query string, limit int) ([]Series, error) {
	m, err := matcher(query)
	if err != nil {
		return nil, err
	}
	s := x.get()
	if _, total := s.search(m, 0); total > limit {
		return nil, fmt.Errorf("%w: %d match %q, at most %d can be chosen at once", ErrTooMany, total, query, limit)
	}
	out, _ := s.search(m, limit)
	return out, nil
}

// snapshot is the index at one moment; it is never modified.
type snapshot struct {
	series    []Series // sorted by name
	lower     []string // lowercase names, same order
	byName    map[string]int
	time      time.Time
	truncated bool
}

func (s *snapshot) lookup(name string) (Series, bool) {
	i, ok := s.byName[name]
	if !ok {
		return Series{}, false
	}
	return s.series[i], true
}

func (s *snapshot) search(match func(lower string) bool, limit int) ([]Series, int) {
	var out []Series
	total := 0
	for i, name := range s.lower {
		if match(name) {
			total++
			if len(out) < limit {
				out = append(out, s.series[i])
			}
		}
	}
	return out, total
}

// matches reports whether every word occurs in name, in order, without
// overlapping.
func matches(name string, words []string) bool {
	for _, w := range words {
		i := strings.Index(name, w)
		if i < 0 {
			return false
		}
		name = name[i+len(w):]
	}
	return true
}

func newSnapshot(all []Series, now time.Time, truncated bool) *snapshot {
	slices.SortFunc(all, func(a, b Series) int {
		return cmp.Or(tree.Natural(a.Name, b.Name), cmp.Compare(a.Name, b.Name))
	})
	s := &snapshot{series: all, lower: make([]string, len(all)), byName: make(map[string]int, len(all)),
		time: now, truncated: truncated}
	for i, se := range all {
		s.lower[i] = strings.ToLower(se.Name)
		s.byName[se.Name] = i
	}
	return s
}
