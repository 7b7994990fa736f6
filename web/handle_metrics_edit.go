package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

// handleAddPlot adds the series chosen in a search, as one plot or one per
// series, to a chart of the page or to a new one.
func (s *Server) handleAddPlot(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	plots, err := s.plotsFromForm(f)
	if err != nil {
		s.sessions.Put(r.Context(), "flash", "Plot not added: "+err.Error())
		s.backToPage(w, r, metricsKind, owner, name, 0)
		return
	}
	title := cutEnd(strings.TrimSpace(f.Get("title")), maxTitle)
	target := f.Get("chart")
	id := 0
	editList(s, w, r, metricsKind, owner, name, &id, func(cs []MetricChart, next *int) ([]MetricChart, error) {
		i := -1
		if target == "" || target == "new" {
			ctl, _ := parseControls(url.Values{}, s.loc) // the defaults
			if title == "" {
				title = cutEnd(plots[0].legend(), maxTitle)
			}
			cs = append(cs, MetricChart{ID: *next, Title: title, Controls: ctl})
			*next++
			i = len(cs) - 1
		} else {
			n, _ := strconv.Atoi(target)
			i = slices.IndexFunc(cs, func(c MetricChart) bool { return c.ID == n })
			if i < 0 {
				return nil, errNoChart
			}
		}
		c := &cs[i]
		c.Plots = append(c.Plots, plots...)
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("plot not added: %w", err)
		}
		id = c.ID
		return cs, nil
	})
}

// plotsFromForm reads the chosen series and the plot's style. Series must
// exist; an expression is kept even when rpn refuses it, so its owner can
// see the reason next to the plot and fix it.
func (s *Server) plotsFromForm(f url.Values) ([]Plot, error) {
	series := f["series"]
	if f.Get("all") != "" {
		q := f.Get("q")
		all, err := s.series.SelectAll(q, maxPlotSeries)
		if err != nil {
			return nil, fmt.Errorf("%w; narrow the search", err)
		}
		series = series[:0]
		for _, se := range all {
			series = append(series, se.Name)
		}
	}
	series = dedupe(series)
	if len(series) == 0 {
		return nil, errors.New("choose at least one series")
	}
	if len(series) > maxPlotSeries {
		return nil, fmt.Errorf("a plot takes at most %d series", maxPlotSeries)
	}
	for _, name := range series {
		if len(name) > maxSeriesName {
			return nil, fmt.Errorf("no series %.60q…", name)
		}
		if _, err := resolveSeries(s.series, name); err != nil {
			return nil, err
		}
	}
	style, err := plotStyle(f)
	if err != nil {
		return nil, err
	}
	agg := f.Get("agg")
	if agg == "each" || agg == aggOne || len(series) == 1 && agg != aggExpr {
		if len(series) > maxPlots {
			return nil, fmt.Errorf("one plot per series makes at most %d plots; choose an aggregate for %d series", maxPlots, len(series))
		}
		var out []Plot
		start := slices.Index(palette, style.Color)
		for k, name := range series {
			p := style
			p.Series, p.Agg = []string{name}, aggOne
			if k > 0 {
				p.Legend = ""
				p.Color = palette[(max(start, 0)+k)%len(palette)]
			}
			if err := p.validate(); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	p := style
	p.Series, p.Agg = series, agg
	if agg == aggExpr {
		p.Expr = strings.TrimSpace(f.Get("expr"))
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return []Plot{p}, nil
}

// plotStyle reads legend, colour, line and dashes.
func plotStyle(f url.Values) (Plot, error) {
	p := Plot{Legend: cutEnd(strings.TrimSpace(f.Get("legend")), maxLegend), Line: f.Get("line"),
		Color: strings.ToLower(strings.TrimPrefix(f.Get("color"), "#")), Dashed: f.Get("dashed") != "", Own: f.Get("own") != ""}
	if p.Line == "" {
		p.Line = "LINE1"
	}
	if p.Color == "" {
		p.Color = palette[0]
	}
	if !validLine(p.Line) {
		return p, fmt.Errorf("line must be one of %s", strings.Join(lineTypes, ", "))
	}
	if !colorRE.MatchString(p.Color) {
		return p, fmt.Errorf("colour must be #rrggbb, not %.20q", f.Get("color"))
	}
	return p, checkLabel("legend", p.Legend, maxLegend)
}

// cutEnd keeps the first max characters of s.
func cutEnd(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max])
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// handleChangeMetricChart sets a chart's title and controls.
func (s *Server) handleChangeMetricChart(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	editList(s, w, r, metricsKind, owner, name, urlID(r), func(cs []MetricChart, _ *int) ([]MetricChart, error) {
		i, err := chartIndex(cs, r)
		if err != nil {
			return nil, err
		}
		ctl, err := parseControls(r.PostForm, s.loc)
		if err == nil {
			title := strings.TrimSpace(r.PostForm.Get("title"))
			if err = checkLabel("title", title, maxTitle); err == nil {
				cs[i].Title, cs[i].Controls = title, ctl
			}
		}
		if err != nil {
			return nil, fmt.Errorf("chart not changed: %w", err)
		}
		if r.PostForm.Get("all") != "" {
			for j := range cs {
				copyControls(&cs[j].Controls, cs[i].Controls)
			}
		}
		return cs, nil
	})
}

// plotOf finds the chart and plot of the URL.
func plotOf(cs []MetricChart, r *http.Request) (*MetricChart, int, error) {
	i, err := chartIndex(cs, r)
	if err != nil {
		return nil, 0, err
	}
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	if err != nil || n < 0 || n >= len(cs[i].Plots) {
		return nil, 0, errors.New("no such plot")
	}
	return &cs[i], n, nil
}

// handleChangePlot sets a plot's aggregate, expression and style; its
// series stay.
func (s *Server) handleChangePlot(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	editList(s, w, r, metricsKind, owner, name, urlID(r), func(cs []MetricChart, _ *int) ([]MetricChart, error) {
		c, n, err := plotOf(cs, r)
		if err != nil {
			return nil, err
		}
		p, err := plotStyle(r.PostForm)
		if err == nil {
			p.Series, p.Agg = c.Plots[n].Series, r.PostForm.Get("agg")
			if p.Agg == aggExpr {
				p.Expr = strings.TrimSpace(r.PostForm.Get("expr"))
			}
			err = p.validate()
		}
		if err != nil {
			return nil, fmt.Errorf("plot not changed: %w", err)
		}
		c.Plots[n] = p
		return cs, nil
	})
}

func (s *Server) handleRemovePlot(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	editList(s, w, r, metricsKind, owner, name, urlID(r), func(cs []MetricChart, _ *int) ([]MetricChart, error) {
		c, n, err := plotOf(cs, r)
		if err != nil {
			return nil, err
		}
		c.Plots = slices.Delete(c.Plots, n, n+1)
		return cs, nil
	})
}
