package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"graphmetrics/web/export"
	"graphmetrics/web/render"
)

// handleExport answers /export/{kind}.{format}: the data a chart plots
// (same series, time range and step, from rrd xport in a render worker:
// web/export), as CSV or as Graphite-style JSON. The chart is encoded in
// the query as in its graph URL.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	kind, format := chi.URLParam(r, "kind"), chi.URLParam(r, "format")
	if format != "csv" && format != "json" {
		http.Error(w, "format must be csv or json", http.StatusNotFound)
		return
	}
	if kind != kindTracelog && kind != kindMetrics {
		http.Error(w, "no such export", http.StatusNotFound)
		return
	}
	// A bounded number of exports at a time: each holds its values (8
	// bytes each) until written, and the workers are shared with images.
	release, ok := s.exportSlot(w, r)
	if !ok {
		return
	}
	defer release()
	var (
		g     *render.Graph
		ctl   *Controls
		title string
		err   error
	)
	now := s.now()
	switch kind {
	case kindTracelog:
		var c Chart
		if c, err = parseChart(r.URL.Query(), s.loc); err == nil && c.histView() {
			s.exportHist(w, &c, format)
			return
		} else if err == nil {
			g, err = chartGraph(s.tree, &c, now)
		}
		ctl, title = &c.Controls, c.Title()
	case kindMetrics:
		var c MetricChart
		if c, err = parseMetricQuery(r.URL.Query(), s.loc); err == nil {
			var ps []pctSource
			// Refused as too big before any histogram is read.
			if g, ps, err = buildMetricGraph(s.series, &c, now); err == nil && len(ps) > 0 {
				if err = export.CheckSize(g, s.o.MaxExportPoints); err == nil {
					err = fillPercentiles(g, ps)
				}
			}
		}
		ctl, title = &c.Controls, c.Title
	}
	if err == nil {
		err = g.Validate(s.pool.Root())
	}
	if errors.Is(err, export.ErrTooBig) {
		s.writeExport(w, nil, err, ctl, title, format)
		return
	}
	if exportRefused(w, err) {
		return
	}
	x, err := export.Run(r.Context(), s.pool, g, s.o.MaxExportPoints)
	s.writeExport(w, x, err, ctl, title, format)
}

// writeExport answers with an export or its error.
func (s *Server) writeExport(w http.ResponseWriter, x *render.Xport, err error, ctl *Controls, title, format string) {
	now := s.now()
	if errors.Is(err, export.ErrTooBig) {
		s.stats.exportsTooBig.Add(1)
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		msg := s.relative(err.Error())
		s.graphLog.Log(s.log, "export"+title+msg, "export failed (repeats logged once a minute)", "chart", title, "err", msg)
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	encode := export.CSV
	if format == "json" {
		h.Set("Content-Type", "application/json")
		encode = export.JSON
	}
	h.Set("Content-Disposition", `attachment; filename="`+fileName(title)+"."+format+`"`)
	if ctl.settled(now) {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, max-age=30")
	}
	// Streamed: the encoders write through a small buffer, so the answer
	// is never a second copy of the data. A failure now is the client's.
	if err := encode(w, x); err != nil {
		s.log.Debug("export not sent", "chart", title, "err", err)
	}
}

// exportSlot waits (up to Options.exportWait, 30 s) for one of the [web] max_exports
// slots; ok is false when it answered the request instead.
func (s *Server) exportSlot(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	t := time.NewTimer(s.o.exportWait)
	defer t.Stop()
	select {
	case s.exports <- struct{}{}:
		return func() { <-s.exports }, true
	case <-r.Context().Done():
		return nil, false
	case <-t.C:
		s.stats.exportsBusy.Add(1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, fmt.Sprintf("too many exports at once (at most %d: [web] max_exports); try again shortly", cap(s.exports)),
			http.StatusServiceUnavailable)
		return nil, false
	}
}

// exportHist answers the export of a latency or heatmap chart, computed
// from the histogram store in the server (no librrd involved), in the
// caller's export slot and under the same size bound.
func (s *Server) exportHist(w http.ResponseWriter, c *Chart, format string) {
	sr, err := histSeries(s.tree, c, s.now())
	if exportRefused(w, err) {
		return
	}
	x := histXport(sr, c.View)
	if n := x.Rows * len(x.Legends); s.o.MaxExportPoints > 0 && n > s.o.MaxExportPoints {
		x, err = nil, fmt.Errorf("%w: %d values, at most %d", export.ErrTooBig, n, s.o.MaxExportPoints)
	}
	s.writeExport(w, x, err, &c.Controls, c.Title(), format)
}

// exportRefused answers a chart that cannot be exported: 404 for an
// unknown name, 400 for bad parameters.
func exportRefused(w http.ResponseWriter, err error) bool {
	switch {
	case notFound(err):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		return false
	}
	return true
}

// fileName makes a download name from a chart title.
func fileName(title string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, title)
	s = strings.Trim(s, "_.")
	if s == "" {
		s = "chart"
	}
	return cutEnd(s, 80)
}
