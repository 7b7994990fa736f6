package web

import (
	"net/http"
	"strings"

	"graphmetrics/web/rpn"
	"graphmetrics/web/series"
	"graphmetrics/web/timerange"
)

// searchShown is how many matches a search lists; the page says how many
// there are in all.
const searchShown = 50

type metricsBody struct {
	pageHead
	Charts  []metricChartView
	Search  *searchView // the owner's chart builder
	Builtin string      // URL of the built-in page
	Lines   []string
}

type searchView struct {
	Query   string
	Matches []seriesMatch
	Total   int
	Shown   int
	Charts  []MetricChart // to add a plot to
	Color   string        // the next plot's suggested colour
	Lines   []string
	MaxAll  int
	Regexp  bool   // the query is a regular expression (series.RegexpPrefix)
	Problem string // why a regular expression does not compile
}

// seriesMatch is a series in the search list; Note (a tooltip) says what
// a series not stored in an RRD file is.
type seriesMatch struct{ Name, Note string }

type metricChartView struct {
	MetricChart
	Img, CSV, JSON string
	Sizes          string // the image's column (imgSizes)
	Series         string // drawing styles for the browser chart (chartStyles)
	Plots          []plotView
	Ctl            controlsView
}

type plotView struct {
	Plot
	N       int // index in the chart
	Shown   string
	Names   []namedSeries
	Problem string
	IsExpr  bool
}

type namedSeries struct{ Name, Series string }

func (s *Server) handleMetricsHome(w http.ResponseWriter, r *http.Request) {
	s.redirectHome(w, r, metricsKind)
}

func (s *Server) handleMetricsPage(w http.ResponseWriter, r *http.Request) {
	p, head, ok := s.loadPage(w, r, metricsKind)
	if !ok {
		return
	}
	charts, err := decodeList[MetricChart](p.Charts)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if previewEdit(s, w, r, head.Base, charts, s.changeMetric) {
		return
	}
	applyOverrides(charts, r.URL.Query(), s.loc)
	b := metricsBody{pageHead: head, Builtin: builtinURL, Lines: lineTypes}
	if head.Mine {
		q := r.URL.Query()
		query := strings.TrimSpace(q.Get("q"))
		if q.Get("re") != "" && query != "" && !strings.HasPrefix(query, series.RegexpPrefix) {
			query = series.RegexpPrefix + query
		}
		b.Search = s.search(query, charts)
	}
	pt := s.pageTime(r, timerange.Range{})
	b.Charts = s.metricChartViews(charts, pt.Range)
	if b.Search != nil {
		for i := range b.Charts {
			b.Charts[i].Sizes = imgSizes(22) // aside.builder
		}
	}
	s.render(w, r, http.StatusOK, "metrics", viewData{Title: head.Owner + "/" + head.Name + " · metrics",
		Flash: s.sessions.PopString(r.Context(), "flash"), Time: pt, Body: b})
}

func (s *Server) search(q string, charts []MetricChart) *searchView {
	q = strings.TrimSpace(q)
	found, total := s.series.Search(q, searchShown)
	names := make([]seriesMatch, len(found))
	for i, se := range found {
		names[i].Name = se.Name
		if se.Quantile > 0 {
			names[i].Note = "app time (A − C) percentile in seconds, from the instance's histograms"
		}
	}
	v := &searchView{Query: q, Matches: names, Total: total, Shown: len(names), Charts: charts,
		Lines: lineTypes, MaxAll: maxPlotSeries, Regexp: strings.HasPrefix(q, series.RegexpPrefix)}
	if err := series.CheckQuery(q); err != nil {
		v.Problem = err.Error()
	}
	n := 0
	if len(charts) > 0 {
		n = len(charts[len(charts)-1].Plots)
	}
	v.Color = palette[n%len(palette)]
	return v
}

func (s *Server) metricChartViews(charts []MetricChart, page timerange.Range) []metricChartView {
	out := make([]metricChartView, 0, len(charts))
	for _, c := range charts {
		c.Page = page
		q := c.Query().Encode()
		v := metricChartView{MetricChart: c, Img: "/graph/metrics.png?" + q, Sizes: imgSizes(0),
			CSV: "/export/metrics.csv?" + q, JSON: "/export/metrics.json?" + q, Ctl: s.controlsView(c.Controls),
			Series: chartStyles(metricGraph(s.series, &c, s.now()))}
		for k := range c.Plots {
			p := &c.Plots[k]
			pv := plotView{Plot: *p, N: k, Shown: p.legend(), Problem: plotProblem(s.series, p), IsExpr: p.Agg == aggExpr}
			for j, name := range p.Series {
				pv.Names = append(pv.Names, namedSeries{rpn.Name(j), name})
			}
			v.Plots = append(v.Plots, pv)
		}
		out = append(out, v)
	}
	return out
}
