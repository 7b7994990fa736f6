package web

import (
	"net/http"
	"path"
	"strings"
	"time"

	"graphmetrics/web/series"
	"graphmetrics/web/timerange"
)

// The built-in "graphmetrics itself" page (issue 7): every user can view
// it, and "save as" makes an editable copy. It is made afresh from the
// daemon's own series (rrd/metrics/_self/..., written by daemon
// selfmetrics), so new inputs, sockets and streams appear on it by
// themselves.
const (
	builtinURL   = "/metrics/builtin/graphmetrics"
	builtinName  = "graphmetrics"
	builtinHours = 6
	selfPrefix   = "_self/"
)

// selfPlot draws the series matching Match (a path.Match pattern under
// _self/); Expr, when set, scales the value (a is the series).
type selfPlot struct {
	Match, Expr, Unit string
	Line              string
	Own               bool // an axis of its own (busy % beside milliseconds)
}

type selfChart struct {
	Title string
	Plots []selfPlot
}

var selfCharts = []selfChart{
	{"Lines received per second, by input", []selfPlot{{Match: "input/*/lines", Line: "LINE2"}}},
	{"Rejected, late and future records per second", []selfPlot{
		{Match: "input/*/rejected/*"}, {Match: "input/*/late"}, {Match: "input/*/future"}, {Match: "input/*/unknown_code"}}},
	{"Live instances", []selfPlot{{Match: "input/*/instances", Line: "LINE2"}}},
	{"Limits: refused senders, connections, instances, requests per second", []selfPlot{
		{Match: "syslog/*/refused"}, {Match: "syslog/*/conns_refused"}, {Match: "syslog/*/conns_rejected"},
		{Match: "input/*/refused/instances"}, {Match: "input/*/requests_dropped"},
		{Match: "input/*/requests_timed_out"}, {Match: "input/*/future"}}},
	{"RRD writer: rows per second, queued rows", []selfPlot{
		{Match: "writer/rows", Line: "LINE2"}, {Match: "writer/queued_rows"}, {Match: "writer/rows_skipped"},
		{Match: "writer/rows_dropped"}, {Match: "writer/errors"}}},
	{"RRD writer: update time (ms), busy (%), flush age (s)", []selfPlot{
		{Match: "writer/update_ms_mean", Unit: " ms"}, {Match: "writer/busy_ns", Expr: "a,10000000,/", Unit: " busy %", Own: true},
		{Match: "writer/flush_age_seconds", Unit: " s"}}},
	{"Process: RSS (MB), goroutines", []selfPlot{
		{Match: "process/rss_bytes", Expr: "a,1048576,/", Unit: " MB", Line: "LINE2"}, {Match: "process/goroutines"}}},
	{"Syslog sockets: messages and drops per second", []selfPlot{
		{Match: "syslog/*/messages"}, {Match: "syslog/*/kernel_drops"}, {Match: "syslog/*/oversize"}, {Match: "syslog/*/read_errors"}}},
	{"Web UI: refused logins, exports and edits per second", []selfPlot{
		{Match: "web/login_failures"}, {Match: "web/logins_throttled"}, {Match: "web/exports_too_big"},
		{Match: "web/exports_busy"}, {Match: "web/limit_refusals"}}},
	{"Kinesis: lag (ms) and records per second", []selfPlot{
		{Match: "kinesis/*/lag_ms", Unit: " ms", Line: "LINE2"}, {Match: "kinesis/*/records"}, {Match: "kinesis/records"},
		{Match: "kinesis/bad/*"}, {Match: "kinesis/throttles"}, {Match: "kinesis/errors"}}},
}

// builtinCharts makes the page's charts from the _self series that exist.
func (s *Server) builtinCharts() []MetricChart {
	found, _ := s.series.Search(selfPrefix, series.MaxLimit)
	var self []string
	for _, se := range found {
		if n, ok := strings.CutPrefix(se.Name, selfPrefix); ok {
			self = append(self, n)
		}
	}
	ctl := Controls{Hours: builtinHours, Width: defaultWidth, Height: defaultHeight}
	var out []MetricChart
	for _, sc := range selfCharts {
		c := MetricChart{ID: len(out) + 1, Title: sc.Title, Controls: ctl}
		for _, sp := range sc.Plots {
			for _, n := range self {
				if ok, _ := path.Match(sp.Match, n); !ok || len(c.Plots) == maxPlots {
					continue
				}
				p := Plot{Series: []string{selfPrefix + n}, Color: palette[len(c.Plots)%len(palette)],
					Line: "LINE1", Legend: cutText(n+sp.Unit, maxLegend), Own: sp.Own}
				if sp.Line != "" {
					p.Line = sp.Line
				}
				if sp.Expr != "" {
					p.Agg, p.Expr = aggExpr, sp.Expr
				}
				c.Plots = append(c.Plots, p)
			}
		}
		if len(c.Plots) > 0 {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) handleBuiltinPage(w http.ResponseWriter, r *http.Request) {
	head := pageHead{Owner: "", Name: builtinName, Base: builtinURL, Builtin: true, SuggestName: builtinName,
		Keep: keptParams(overrideParams(r.URL.Query()))}
	charts := s.builtinCharts()
	if previewEdit(s, w, r, head.Base, charts, s.changeMetric) {
		return
	}
	applyOverrides(charts, r.URL.Query(), s.loc)
	pt := s.pageTime(r, timerange.Last(builtinHours*time.Hour))
	b := metricsBody{pageHead: head, Builtin: builtinURL, Lines: lineTypes, Charts: s.metricChartViews(charts, pt.Range)}
	s.render(w, r, http.StatusOK, "metrics", viewData{Title: "graphmetrics itself",
		Flash: s.sessions.PopString(r.Context(), "flash"), Time: pt, Body: b})
}

// handleBuiltinSaveAs copies the built-in page as it is now into a page of
// the user's own.
func (s *Server) handleBuiltinSaveAs(w http.ResponseWriter, r *http.Request) {
	cs := s.builtinCharts()
	b, err := encodeList(cs)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.saveCopy(w, r, metricsKind, builtinURL, "built-in "+builtinName, b, len(cs)+1)
}
