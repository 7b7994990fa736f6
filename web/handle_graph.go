package web

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"graphmetrics/web/render"
)

// A fixed range that ended this long ago will not change any more: its
// image may be cached for good.
const settledAfter = 10 * time.Minute

// handleGraph draws one tracelog chart from its URL parameters.
func (s *Server) handleGraph(w http.ResponseWriter, r *http.Request) {
	c, err := parseChart(r.URL.Query(), s.loc)
	if err == nil && c.histView() {
		s.handleHistGraph(w, r, &c)
		return
	}
	var g *render.Graph
	if err == nil {
		g, err = chartGraph(s.tree, &c, s.now())
	}
	s.drawGraph(w, r, &c.Controls, c.Title(), g, err)
}

// drawGraph answers with the image of g, or of err: parameters out of
// bounds are refused (400) and unknown names are not found (404), each
// with an error image; a failure while drawing is an error image with 200,
// so an <img> always shows the reason and never a broken page.
func (s *Server) drawGraph(w http.ResponseWriter, r *http.Request, c *Controls, title string, g *render.Graph, err error) {
	if notFound(err) {
		s.graphError(w, r, http.StatusNotFound, c, err.Error())
		return
	}
	if err == nil {
		err = imageOptions(r, g)
	}
	if err == nil {
		err = g.Validate(s.pool.Root())
	}
	if err != nil {
		s.graphError(w, r, http.StatusBadRequest, c, err.Error())
		return
	}
	s.sendImage(w, r, c, title, &render.Request{Op: render.OpGraph, Graph: g})
}

// imageOptions sets what the image's URL asks of g besides the chart:
// theme, zoom and width (iw).
func imageOptions(r *http.Request, g *render.Graph) error {
	q := r.URL.Query()
	g.Dark, g.Zoom = q.Get("theme") == "dark", 1
	if q.Get("zoom") == "2" {
		g.Zoom = 2
	}
	iw, err := imageWidth(r)
	if err == nil && iw > 0 {
		g.Width = iw
	}
	return err
}

// sendImage renders req in the worker pool and answers with the image (an
// SVG for a heatmap, else PNG), or an error image with 200 when drawing
// failed.
func (s *Server) sendImage(w http.ResponseWriter, r *http.Request, c *Controls, title string, req *render.Request) {
	now := s.now()
	img, resp, err := s.pool.DoResponse(r.Context(), req)
	if err != nil {
		msg := s.relative(err.Error())
		s.graphLog.Log(s.log, title+msg, "graph failed (repeats logged once a minute)", "chart", title, "err", msg)
		s.graphError(w, r, http.StatusOK, c, msg)
		return
	}
	h := w.Header()
	if c.settled(now) {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, max-age=30")
	}
	if resp.Scale > 0 {
		// The factor of the own-axis lines (waiting, busy %) and where
		// their zero lies, for scripts and tests: the right axis reads
		// (left − shift) ÷ scale.
		h.Set("X-Graph-Own-Scale", strconv.FormatFloat(resp.Scale, 'g', -1, 64))
		h.Set("X-Graph-Own-Shift", strconv.FormatFloat(resp.Shift, 'g', -1, 64))
	}
	ctype := "image/png"
	if req.Op == render.OpHeatmap {
		ctype = "image/svg+xml"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(img)))
	w.Write(img)
}

// graphError answers with an image showing msg, drawn by a worker if one
// can, and the message in the X-Graph-Error header for scripts and tests.
func (s *Server) graphError(w http.ResponseWriter, r *http.Request, status int, c *Controls, msg string) {
	width, height := c.Width, c.Height
	if width < render.MinWidth || width > render.MaxWidth || height < render.MinHeight || height > render.MaxHeight {
		width, height = defaultWidth, defaultHeight
	}
	img, err := s.pool.Do(r.Context(), &render.Request{Op: render.OpError, Message: msg, Width: width, Height: height})
	if err != nil {
		img = render.FallbackPNG(width, height)
	}
	h := w.Header()
	h.Set("X-Graph-Error", headerText(msg))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	w.WriteHeader(status)
	w.Write(img)
}

// relative shortens absolute RRD paths in librrd's messages.
func (s *Server) relative(msg string) string {
	return strings.ReplaceAll(msg, s.pool.Root()+string(filepath.Separator), "")
}

func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// handleMetricGraph draws one /metrics chart from its URL.
func (s *Server) handleMetricGraph(w http.ResponseWriter, r *http.Request) {
	c, err := parseMetricQuery(r.URL.Query(), s.loc)
	var g *render.Graph
	if err == nil {
		var ps []pctSource
		g, ps, err = buildMetricGraph(s.series, &c, s.now())
		// Percentiles come at the image's step: its width first.
		if err == nil && len(ps) > 0 {
			if err = imageOptions(r, g); err == nil {
				err = fillPercentiles(g, ps)
			}
		}
	}
	s.drawGraph(w, r, &c.Controls, c.Title, g, err)
}
