package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"graphmetrics/store/hist"
	"graphmetrics/store/histstore"
	"graphmetrics/web/render"
	"graphmetrics/web/series"
	"graphmetrics/web/tree"
)

// App-time views of issue 13, for an instance and for every group: they
// read the histogram store (store/histstore), not RRD files.
const (
	viewLatency = "latency" // p50, p95, p99 lines and the mean, dashed
	viewHeatmap = "heatmap" // time × app-time bucket, colour = share of requests
)

// histView reports whether the chart's view is drawn from histograms.
func (c *Chart) histView() bool { return c.View == viewLatency || c.View == viewHeatmap }

// histSeries merges the histograms of the chart's instances over its time
// range and step: a pool's percentile is the percentile of the merged
// distribution, exact up to the bucket error.
func histSeries(t *tree.Tree, c *Chart, now time.Time) (*histstore.Series, error) {
	grp, err := resolve(t, c)
	if err != nil {
		return nil, err
	}
	if len(grp.Instances) > maxGroupInstances {
		return nil, fmt.Errorf("group %s has %d instances; charts take at most %d", grp.Name, len(grp.Instances), maxGroupInstances)
	}
	start, end := c.Controls.timeRange(now)
	step := int64(c.Step)
	if step <= 0 { // RRD's choice: about one row per pixel
		step = max((end-start)/int64(max(c.Width, 1)), 1)
	}
	var out *histstore.Series
	for _, i := range grp.Instances {
		dir, ok := histstore.DirOfTracelogFile(i.File)
		if !ok {
			return nil, fmt.Errorf("app-time histograms of %s: %s is not a tracelog file", i.Name, i.File)
		}
		sr, err := histstore.ReadDir(dir, start, end, step)
		if err != nil {
			return nil, fmt.Errorf("app-time histograms of %s: %w", i.Name, err)
		}
		if out == nil {
			out = sr
			continue
		}
		for k, h := range sr.H {
			if h == nil || k >= len(out.H) {
				continue
			}
			if out.H[k] == nil {
				out.H[k] = h
			} else {
				out.H[k].Merge(h)
			}
		}
	}
	return out, nil
}

// histMean estimates the mean from bucket midpoints (within the bucket
// error, like the percentiles).
func histMean(h *hist.Hist) float64 {
	s := h.Scheme()
	var sum float64
	for i := 0; i < s.Len(); i++ {
		if c := h.Count(i); c > 0 {
			lo, hi := s.Lower(i), s.Upper(i)
			if math.IsInf(hi, 1) {
				hi = lo
			}
			sum += float64(c) * (lo + hi) / 2
		}
	}
	return sum / float64(h.Total())
}

// histXport is the export of a latency or heatmap chart. Row i stands for
// the step ending at Start+i·Step, as in an RRD export.
func histXport(sr *histstore.Series, view string) *render.Xport {
	x := &render.Xport{Start: sr.Start + sr.Step, Step: int(sr.Step)}
	x.End = x.Start + int64(len(sr.H)-1)*sr.Step
	s := hist.Default
	if view == viewLatency {
		for _, p := range series.Percentiles {
			x.Legends = append(x.Legends, p.Name)
		}
		x.Legends = append(x.Legends, "mean")
	} else {
		for i := 0; i < s.Len(); i++ {
			x.Legends = append(x.Legends, bucketName(s, i))
		}
	}
	x.Rows = len(sr.H)
	x.Values = make([]float64, x.Rows*len(x.Legends))
	for r, h := range sr.H {
		row := x.Row(r)
		switch {
		case h == nil || h.Total() == 0:
			for i := range row {
				row[i] = math.NaN()
			}
		case view == viewLatency:
			for k, p := range series.Percentiles {
				row[k] = h.Quantile(p.Q)
			}
			row[len(row)-1] = histMean(h)
		default:
			for i := range row {
				row[i] = float64(h.Count(i))
			}
		}
	}
	return x
}

// bucketName is a heatmap series' name: the bucket's upper bound in
// seconds ("+Inf" for the overflow).
func bucketName(s *hist.Scheme, i int) string {
	u := s.Upper(i)
	if math.IsInf(u, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(u, 'g', 4, 64)
}

// histRequest is the render job of a latency or heatmap chart: the latency
// lines travel as data series (librrd draws them in a worker, the mean
// dashed), the heatmap's cells as shares (the worker draws an SVG).
func histRequest(sr *histstore.Series, c *Chart, now time.Time) *render.Request {
	start, end := c.Controls.timeRange(now)
	if c.View == viewLatency {
		x := histXport(sr, viewLatency)
		d := &render.DataGraph{Start: start, End: end, Width: c.Width, Height: c.Height, Title: c.Title() + " (seconds)"}
		for k, name := range x.Legends {
			s := render.DataSeries{Name: name, Dashed: name == "mean", Start: sr.Start, Step: sr.Step}
			for r := range x.Rows {
				if v := x.Row(r)[k]; !math.IsNaN(v) {
					s.Values = append(s.Values, &v)
				} else {
					s.Values = append(s.Values, nil)
				}
			}
			d.Series = append(d.Series, s)
		}
		return &render.Request{Op: render.OpData, Data: d}
	}
	// Rows: the buckets from the lowest to the highest that holds a request.
	s := hist.Default
	lo, hi := s.Len(), -1
	for _, h := range sr.H {
		for i := 0; h != nil && i < s.Len(); i++ {
			if h.Count(i) > 0 {
				lo, hi = min(lo, i), max(hi, i)
			}
		}
	}
	if hi < 0 {
		lo, hi = s.Index(0.001), s.Index(1)
	}
	hm := &render.Heatmap{Start: sr.Start, Step: sr.Step, Width: c.Width, Height: c.Height, Title: c.Title()}
	for i := lo; i <= hi; i++ {
		hm.Labels = append(hm.Labels, bucketName(s, i))
	}
	for _, h := range sr.H {
		col := make([]float32, hi-lo+1)
		if h != nil && h.Total() > 0 {
			for i := lo; i <= hi; i++ {
				col[i-lo] = float32(float64(h.Count(i)) / float64(h.Total()))
			}
		}
		hm.Cells = append(hm.Cells, col)
	}
	return &render.Request{Op: render.OpHeatmap, Heatmap: hm}
}

// handleHistGraph draws a latency or heatmap chart.
func (s *Server) handleHistGraph(w http.ResponseWriter, r *http.Request, c *Chart) {
	now := s.now()
	sr, err := histSeries(s.tree, c, now)
	if err != nil {
		status := http.StatusBadRequest
		if notFound(err) {
			status = http.StatusNotFound
		}
		s.graphError(w, r, status, &c.Controls, err.Error())
		return
	}
	s.sendImage(w, r, &c.Controls, c.Title(), histRequest(sr, c, now))
}

// pageStyles are the series styles the page's script draws a chart with:
// the latency view's four lines; none for the heatmap, which the page
// shows as the server's image.
func (s *Server) pageStyles(c *Chart) string {
	switch c.View {
	case viewLatency:
		return `[{"label":"p50","color":"#1f77b4","type":"LINE1"},{"label":"p95","color":"#ff7f0e","type":"LINE1"},` +
			`{"label":"p99","color":"#d62728","type":"LINE1"},{"label":"mean","color":"#7f7f7f","type":"LINE1","dashed":true}]`
	case viewHeatmap:
		return ""
	}
	return chartStyles(chartGraph(s.tree, c, s.now()))
}
