package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
			s.exportHist(w, r, &c, format)
			return
		} else if err == nil {
			g, err = chartGraph(s.tree, &c, now)
		}
		ctl, title = &c.Controls, c.Title()
	case kindMetrics:
		var c MetricChart
		if c, err = parseMetricQuery(r.URL.Query()); err == nil {
			g, err = metricGraph(s.series, &c, now)
		}
		ctl, title = &c.Controls, c.Title
	default:
		http.Error(w, "no such export", http.StatusNotFound)
		return
	}
	if err == nil {
		err = g.Validate(s.pool.Root())
	}
	if exportRefused(w, err) {
		return
	}
	x, err := export.Run(r.Context(), s.pool, g)
	s.writeExport(w, r, x, err, ctl, title, format)
}

// writeExport answers with an export or its error.
func (s *Server) writeExport(w http.ResponseWriter, r *http.Request, x *render.Xport, err error, ctl *Controls, title, format string) {
	now := s.now()
	if errors.Is(err, export.ErrTooBig) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		msg := s.relative(err.Error())
		s.graphLog.Log(s.log, "export"+title+msg, "export failed (repeats logged once a minute)", "chart", title, "err", msg)
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	ctype := "text/csv; charset=utf-8"
	if format == "csv" {
		err = export.CSV(&buf, x)
	} else {
		ctype = "application/json"
		err = export.JSON(&buf, x)
	}
	if err != nil {
		s.internalError(w, r, fmt.Errorf("export %s: %w", format, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+fileName(title)+"."+format+`"`)
	if ctl.settled(now) {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, max-age=30")
	}
	buf.WriteTo(w)
}

// exportHist answers the export of a latency or heatmap chart, computed
// from the histogram store in the server (no librrd involved).
func (s *Server) exportHist(w http.ResponseWriter, r *http.Request, c *Chart, format string) {
	sr, err := histSeries(s.histRoot, s.tree, c, s.now())
	if exportRefused(w, err) {
		return
	}
	s.writeExport(w, r, histXport(sr, c.View), nil, &c.Controls, c.Title(), format)
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
