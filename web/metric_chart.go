package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"graphmetrics/web/timerange"
)

// Plot aggregates (SPEC §6): one series, the average or total of several,
// or an RRD RPN expression over names a, b, c… bound to the series in
// order.
const (
	aggOne     = ""
	aggAverage = "average"
	aggTotal   = "total"
	aggExpr    = "expr"
)

// Bounds of a /metrics chart.
const (
	maxPlots       = 20
	maxPlotSeries  = 100 // also the most "select all matches" takes
	maxChartSeries = 200
	maxLegend      = 60 // characters shown of a legend
	maxTitle       = 100
	maxSeriesName  = 400
	maxChartJSON   = 64 << 10
)

var lineTypes = []string{"LINE1", "LINE2", "LINE3", "TICK"}

var colorRE = regexp.MustCompile(`^[0-9a-f]{6}$`)

// Plot is one drawn line of a metric chart.
type Plot struct {
	Series []string `json:"series"`
	Agg    string   `json:"agg,omitempty"`
	Expr   string   `json:"expr,omitempty"`
	Legend string   `json:"legend,omitempty"` // empty: made from the series or expression
	Color  string   `json:"color"`            // rrggbb
	Line   string   `json:"line"`             // LINE1, LINE2, LINE3 or TICK
	Dashed bool     `json:"dashed,omitempty"`
	Own    bool     `json:"own,omitempty"` // an axis of its own in the browser chart (a percentage beside rates)
}

// MetricChart is one /metrics chart as saved on a page and as encoded in
// its graph and export URLs (as JSON in the "c" parameter).
type MetricChart struct {
	ID    int    `json:"id,omitempty"`
	Title string `json:"title"`
	Plots []Plot `json:"plots"`
	Controls
}

// validate checks the chart's shape and bounds; series names are checked
// against the index and expressions by rpn when the graph is built.
func (c *MetricChart) validate() error {
	if err := checkLabel("title", c.Title, maxTitle); err != nil {
		return err
	}
	if len(c.Plots) > maxPlots {
		return fmt.Errorf("a chart has at most %d plots", maxPlots)
	}
	n := 0
	for i := range c.Plots {
		if err := c.Plots[i].validate(); err != nil {
			return fmt.Errorf("plot %d: %w", i+1, err)
		}
		n += len(c.Plots[i].Series)
	}
	if n > maxChartSeries {
		return fmt.Errorf("a chart uses at most %d series (this one %d)", maxChartSeries, n)
	}
	return c.Controls.validate()
}

func (p *Plot) validate() error {
	if len(p.Series) == 0 {
		return errors.New("no series chosen")
	}
	if len(p.Series) > maxPlotSeries {
		return fmt.Errorf("a plot takes at most %d series", maxPlotSeries)
	}
	for _, s := range p.Series {
		if s == "" || len(s) > maxSeriesName || !utf8.ValidString(s) {
			return fmt.Errorf("bad series name %.40q", s)
		}
	}
	switch p.Agg {
	case aggOne:
		if len(p.Series) != 1 {
			return errors.New("several series need average, total or an expression")
		}
	case aggAverage, aggTotal:
	case aggExpr:
		if p.Expr == "" {
			return errors.New("the expression is empty")
		}
	default:
		return fmt.Errorf("unknown aggregate %q", p.Agg)
	}
	if p.Agg != aggExpr {
		p.Expr = ""
	}
	if err := checkLabel("legend", p.Legend, maxLegend); err != nil {
		return err
	}
	if !colorRE.MatchString(p.Color) {
		return fmt.Errorf("colour must be rrggbb in hex, not %q", p.Color)
	}
	if !validLine(p.Line) {
		return fmt.Errorf("line must be one of %s", strings.Join(lineTypes, ", "))
	}
	return nil
}

func validLine(s string) bool {
	for _, l := range lineTypes {
		if s == l {
			return true
		}
	}
	return false
}

// checkLabel refuses control characters and text longer than max
// characters.
func checkLabel(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Errorf("%s longer than %d characters", what, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s contains a control character", what)
		}
	}
	return nil
}

// cutText keeps at most max characters of s, with "..." in front when the
// start was cut (the end of a series name says most), and no control
// characters.
func cutText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	if n := utf8.RuneCountInString(s); n > max {
		rs := []rune(s)
		s = "..." + string(rs[n-max+3:])
	}
	return s
}

// legend is what the plot's legend says.
func (p *Plot) legend() string {
	switch {
	case p.Legend != "":
		return p.Legend
	case p.Agg == aggOne:
		return cutText(p.Series[0], maxLegend)
	case p.Agg == aggExpr:
		return cutText(p.Expr, maxLegend)
	}
	return cutText(fmt.Sprintf("%s of %d: %s", p.Agg, len(p.Series), commonPrefix(p.Series)), maxLegend)
}

// commonPrefix is the longest common prefix of names, cut back to a '/'.
func commonPrefix(names []string) string {
	p := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	if len(names) > 1 {
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[:i+1]
		}
	}
	return p + "…"
}

// Query encodes the chart for its graph and export URLs.
func (c *MetricChart) Query() url.Values {
	x := *c
	x.ID = 0
	b, _ := json.Marshal(x) // plain data: cannot fail
	v := url.Values{"c": {string(b)}}
	if !c.Pinned() {
		c.Page.Encode(v, nil)
	}
	return v
}

// parseMetricQuery decodes and checks the chart of a graph or export URL,
// with the page's range from "from" and "until".
func parseMetricQuery(v url.Values, loc *time.Location) (MetricChart, error) {
	var c MetricChart
	s := v.Get("c")
	if s == "" {
		return c, errors.New("no chart")
	}
	if len(s) > maxChartJSON {
		return c, errors.New("chart too large")
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return c, fmt.Errorf("bad chart: %w", err)
	}
	var err error
	if c.Page, err = timerange.FromQuery(v, loc); err != nil {
		return c, err
	}
	return c, c.validate()
}
