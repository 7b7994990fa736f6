package web

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"graphmetrics/web/render"
	"graphmetrics/web/rpn"
	"graphmetrics/web/series"
)

var errNoSeries = errors.New("no such series")

// notFound reports whether err is about a name that does not exist.
func notFound(err error) bool { return errors.Is(err, errNoTarget) || errors.Is(err, errNoSeries) }

// resolveSeries finds a series by name in the index: names typed by users reach
// librrd only as the file and data source the index found.
func resolveSeries(idx *series.Index, name string) (series.Series, error) {
	se, ok := idx.Resolve(name)
	if !ok {
		return se, fmt.Errorf("%w %s", errNoSeries, quoteName(name))
	}
	return se, nil
}

// quoteName quotes a name for a message, cut to a readable length.
func quoteName(name string) string {
	return strconv.Quote(cutText(name, 80))
}

// metricGraph builds the librrd drawing of a /metrics chart: one DEF per
// distinct series (found by the index), then per plot the series itself,
// rpn's average or total, or the user's expression compiled by rpn with
// a, b, c… bound to the plot's series. App-time percentiles are in
// g.Data without values: enough for the chart's styles; drawing and export
// use percentileGraph, which fills them in.
func metricGraph(idx *series.Index, c *MetricChart, now time.Time) (*render.Graph, error) {
	g, _, err := buildMetricGraph(idx, c, now)
	return g, err
}

// buildMetricGraph is metricGraph, also returning where each of g.Data's
// percentiles comes from.
func buildMetricGraph(idx *series.Index, c *MetricChart, now time.Time) (*render.Graph, []pctSource, error) {
	var pcts []pctSource
	title := c.Title
	if title == "" {
		title = " " // librrd leaves no room for a missing title; keep the layout even
	}
	g := c.Controls.graph(now, title)
	g.RightAxis = true
	defs := map[string]string{} // series name → vname
	for k := range c.Plots {
		p := &c.Plots[k]
		vnames := make([]string, len(p.Series))
		for j, name := range p.Series {
			v, ok := defs[name]
			if !ok {
				se, err := resolveSeries(idx, name)
				if err != nil {
					return nil, nil, fmt.Errorf("plot %d: %w", k+1, err)
				}
				v = "s" + strconv.Itoa(len(defs))
				defs[name] = v
				if se.Quantile > 0 {
					pcts = append(pcts, pctSource{data: len(g.Data), dir: se.Hist, q: se.Quantile})
					g.Data = append(g.Data, render.DataSeries{Name: v})
				} else {
					g.Defs = append(g.Defs, render.Def{Name: v, File: se.File, DS: se.DS, CF: "AVERAGE"})
				}
			}
			vnames[j] = v
		}
		rpnToks, err := plotRPN(p, vnames)
		if err != nil {
			return nil, nil, fmt.Errorf("plot %d: %w", k+1, err)
		}
		name := "p" + strconv.Itoa(k)
		g.CDefs = append(g.CDefs, render.CDef{Name: name, RPN: rpnToks})
		g.Draws = append(g.Draws, render.Draw{Type: p.Line, Name: name, Color: p.Color,
			Legend: p.legend(), Dashed: p.Dashed && p.Line != "TICK", Own: p.Own})
	}
	if len(g.Draws) == 0 {
		return nil, nil, errors.New("the chart has no plots yet")
	}
	g.OwnLabel = ownLabel(g.Draws)
	return g, pcts, nil
}

// plotRPN is the CDEF of a plot over the vnames of its series.
func plotRPN(p *Plot, vnames []string) ([]string, error) {
	switch p.Agg {
	case aggOne:
		return vnames[:1], nil
	case aggAverage:
		return rpn.Average(vnames), nil
	case aggTotal:
		return rpn.Total(vnames), nil
	case aggExpr:
		bind := make(map[string]string, len(vnames))
		for i, v := range vnames {
			bind[rpn.Name(i)] = v
		}
		return rpn.CompileTokens(p.Expr, bind)
	}
	return nil, fmt.Errorf("unknown aggregate %q", p.Agg)
}

// plotProblem says what is wrong with a saved plot, for the page to show
// next to it: a series that is gone, or an expression rpn refuses (naming
// the token).
func plotProblem(idx *series.Index, p *Plot) string {
	vnames := make([]string, len(p.Series))
	for j, name := range p.Series {
		if _, err := resolveSeries(idx, name); err != nil {
			return err.Error()
		}
		vnames[j] = "s" + strconv.Itoa(j)
	}
	if _, err := plotRPN(p, vnames); err != nil {
		return err.Error()
	}
	return ""
}

// ownLabel names the right axis of a chart's own-axis plots: the legend
// of the only one, else a generic name.
func ownLabel(ds []render.Draw) string {
	label := ""
	for _, d := range ds {
		if !d.Own {
			continue
		}
		if label != "" {
			return "right axis"
		}
		label = cutText(d.Legend, 40)
	}
	return label
}
