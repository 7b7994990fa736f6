package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"graphmetrics/store/urlstore"
)

// One URL pattern's count and p95 over the page's range: a chart under
// the table, drawn by app.js (uPlot) from over.json like every other
// chart, over an SVG the server draws for browsers without JS.

// urlsSteps are the steps of an over-time chart, finest first.
var urlsSteps = []int64{60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400}

// urlsStep is the finest step that draws [from, until) in at most
// urlsPoints steps; the store raises it to whole hours where it keeps
// only hours (urlstore.Over), and the chart says the step it got.
func urlsStep(from, until int64) int64 {
	for _, st := range urlsSteps {
		if (until-from+st-1)/st <= urlsPoints {
			return st
		}
	}
	return urlsSteps[len(urlsSteps)-1]
}

// urlsOverView is the chart of the URL clicked.
type urlsOverView struct {
	URL, Full, JSON, Series, Step string
	SVG                           template.HTML
	Error                         string
}

// overSeries reads pattern u's rows per step over the aligned range.
func (s *Server) overSeries(t target, u string, from, until int64) (*urlstore.Series, error) {
	return s.o.URLs.Over(t.keys(), u, from, until, urlsStep(from, until))
}

func (s *Server) urlsOver(r *http.Request, t target, pt *pageTime, u string, from, until int64) *urlsOverView {
	q := s.rangeQuery(pt)
	q.Set("url", u)
	v := &urlsOverView{URL: shown(u, urlsShown), Full: shown(u, urlsTitle), JSON: "/urls" + t.path + "/over.json?" + q.Encode()}
	if len(u) > urlsMaxLink {
		v.Error = "This URL is too long to chart."
		return v
	}
	ser, err := s.overSeries(t, u, from, until)
	if err != nil {
		s.log.Warn("URL chart", "path", r.URL.Path, "err", err)
		v.Error = "The chart could not be read; the error was logged."
		return v
	}
	v.Step = stepText(ser.Step)
	styles, _ := json.Marshal([]seriesStyle{{Label: "requests per " + v.Step, Color: "#0072b2", Type: "LINE2"},
		{Label: "p95 app time (s)", Color: "#e69f00", Type: "LINE2", Own: true}})
	v.Series, v.SVG = string(styles), overSVG(ser, s.loc)
	return v
}

// serveURLsOver serves …/over.json?url=&from=&until=: Graphite-shaped
// JSON (as the charts' exports) of a pattern's count and p95 per step,
// each point at the end of its step, null where nothing was timed.
func (s *Server) serveURLsOver(w http.ResponseWriter, r *http.Request, t target) {
	if t.asJSON {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	_, from, until, err := s.urlsRange(r)
	u := r.URL.Query().Get("url")
	if err == nil && (u == "" || len(u) > urlsMaxLink) {
		err = fmt.Errorf("url must be a pattern of 1 to %d bytes", urlsMaxLink)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ser, err := s.overSeries(t, u, from, until)
	if err != nil {
		s.log.Error("URL chart", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	type series struct {
		Target     string        `json:"target"`
		Datapoints [][2]*float64 `json:"datapoints"`
	}
	count, p95 := series{Target: "count"}, series{Target: "p95_s"}
	for i, row := range ser.R {
		end := float64(ser.Start + int64(i+1)*ser.Step)
		c, p := 0.0, math.NaN()
		if row != nil {
			c, p = float64(row.Count), row.Quantile(.95)
		}
		count.Datapoints = append(count.Datapoints, [2]*float64{orNull(c), orNull(end)})
		p95.Datapoints = append(p95.Datapoints, [2]*float64{orNull(p), orNull(end)})
	}
	writeJSON(w, []series{count, p95})
}

// stepText names a step: "minute", "5 minutes", "hour", "6 hours", "day".
func stepText(step int64) string {
	for _, u := range []struct {
		sec  int64
		name string
	}{{86400, "day"}, {3600, "hour"}, {60, "minute"}} {
		if step%u.sec == 0 {
			if n := step / u.sec; n > 1 {
				return strconv.FormatInt(n, 10) + " " + u.name + "s"
			}
			return u.name
		}
	}
	return strconv.FormatInt(step, 10) + " s"
}

// overSVG draws the series: count as bars on the left axis, p95 as a line
// on the right one, their largest values and the range's ends as labels.
func overSVG(ser *urlstore.Series, loc *time.Location) template.HTML {
	const w, h, left, right, top, bottom = 800.0, 220.0, 56.0, 64.0, 12.0, 24.0
	n := len(ser.R)
	var maxC, maxP float64
	for _, row := range ser.R {
		if row != nil {
			maxC = max(maxC, float64(row.Count))
			if p := row.Quantile(.95); !math.IsNaN(p) {
				maxP = max(maxP, p)
			}
		}
	}
	pw, ph := w-left-right, h-top-bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="over" viewBox="0 0 %g %g" role="img" aria-label="requests and p95 app time per step">`, w, h)
	fmt.Fprintf(&b, `<rect class="frame" x="%g" y="%g" width="%g" height="%g"/>`, left, top, pw, ph)
	if n > 0 && maxC > 0 {
		bw := pw / float64(n)
		for i, row := range ser.R {
			if row == nil || row.Count == 0 {
				continue
			}
			bh := ph * float64(row.Count) / maxC
			fmt.Fprintf(&b, `<rect class="count" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`,
				left+float64(i)*bw, top+ph-bh, max(bw-0.5, 0.5), bh)
		}
	}
	if n > 0 && maxP > 0 {
		p95 := func(i int) float64 {
			if i < 0 || i >= n || ser.R[i] == nil {
				return math.NaN()
			}
			return ser.R[i].Quantile(.95)
		}
		var dots strings.Builder // lone values, which a line would not show
		b.WriteString(`<path class="p95" d="`)
		pen := "M"
		for i := range ser.R {
			p := p95(i)
			if math.IsNaN(p) {
				pen = "M"
				continue
			}
			x, y := left+(float64(i)+0.5)*pw/float64(n), top+ph-ph*p/maxP
			fmt.Fprintf(&b, "%s%.1f %.1f ", pen, x, y)
			pen = "L"
			if math.IsNaN(p95(i-1)) && math.IsNaN(p95(i+1)) {
				fmt.Fprintf(&dots, `<circle class="p95" cx="%.1f" cy="%.1f" r="3"/>`, x, y)
			}
		}
		b.WriteString(`"/>`)
		b.WriteString(dots.String())
	}
	end := ser.Start + int64(n)*ser.Step
	label := func(class string, x, y float64, anchor, text string) {
		fmt.Fprintf(&b, `<text class="%s" x="%g" y="%g" text-anchor="%s">%s</text>`, class, x, y, anchor, template.HTMLEscapeString(text))
	}
	label("count", left-4, top+10, "end", fmtCount(uint64(maxC)))
	label("count", left-4, top+ph, "end", "0")
	label("p95", w-right+4, top+10, "start", fmtDur(maxP))
	label("p95", w-right+4, top+ph, "start", "0")
	label("time", left, h-6, "start", time.Unix(ser.Start, 0).In(loc).Format("2006-01-02 15:04"))
	label("time", w-right, h-6, "end", time.Unix(end, 0).In(loc).Format("2006-01-02 15:04"))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
