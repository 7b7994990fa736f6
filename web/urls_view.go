package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"graphmetrics/store/urlstore"
)

// urlsBody is the page of URL statistics.
type urlsBody struct {
	Title, Self, JSON, Live string
	Pool                    bool
	Instances               int
	RelErr                  string // the percentiles' stated error, "1.97%"
	Requests, Total         string // of every row
	Rows                    []urlRow
	Over                    *urlsOverView // the chart of the URL clicked
}

// urlRow is a table row, every value formatted.
type urlRow struct {
	URL, Full, Link                                string // shown, whole (bounded, a title), its chart
	Other, Selected                                bool
	Count, Errors, Mean, P50, P95, P99, Max, Total string
	Share, Hangs                                   string
	HasErrors, HasHangs                            bool
}

func (s *Server) urlsBody(r *http.Request, t target, pt *pageTime, rows []*urlstore.Row) *urlsBody {
	self := "/urls" + t.path
	q := s.rangeQuery(pt)
	b := &urlsBody{Title: t.title, Self: self, Live: "/live" + t.path, Pool: t.pool, Instances: len(t.g.Instances),
		RelErr: strconv.FormatFloat(100*urlstore.Scheme.RelErr(), 'f', 2, 64) + "%"}
	b.JSON = self + ".json?" + q.Encode()
	var total float64
	var count uint64
	for _, row := range rows {
		total += row.TotalS
		count += row.Count
	}
	b.Requests, b.Total = fmtCount(count), fmtDur(total)
	selected := r.URL.Query().Get("url")
	for _, row := range rows {
		v := urlRow{URL: shown(row.URL, urlsShown), Full: shown(row.URL, urlsTitle), Other: row.URL == urlstore.Other,
			Selected: row.URL == selected && selected != "",
			Count:    fmtCount(row.Count), Errors: fmtCount(row.Errors), Hangs: fmtCount(row.Hangs),
			Mean: fmtDur(row.MeanS()), P50: fmtDur(row.Quantile(.5)), P95: fmtDur(row.Quantile(.95)),
			P99: fmtDur(row.Quantile(.99)), Max: fmtDur(maxS(row)), Total: fmtDur(row.TotalS),
			HasErrors: row.Errors > 0, HasHangs: row.Hangs > 0}
		if total > 0 {
			v.Share = strconv.FormatFloat(100*row.TotalS/total, 'f', 1, 64) + "%"
		}
		// "other" sums many patterns, so it has no chart of its own.
		if !v.Other && len(row.URL) <= urlsMaxLink {
			lq := s.rangeQuery(pt)
			lq.Set("url", row.URL)
			v.Link = self + "?" + lq.Encode() + "#over"
		}
		b.Rows = append(b.Rows, v)
	}
	return b
}

// fmtDur shows seconds briefly: µs, ms, s, min, h or d, three significant
// digits; "–" for no value.
func fmtDur(sec float64) string {
	switch {
	case math.IsNaN(sec) || math.IsInf(sec, 0):
		return "–"
	case sec == 0:
		return "0"
	case sec < 1e-3:
		return sig3(sec*1e6) + " µs"
	case sec < 1:
		return sig3(sec*1e3) + " ms"
	case sec < 100:
		return sig3(sec) + " s"
	case sec < 100*60:
		return sig3(sec/60) + " min"
	case sec < 48*3600:
		return sig3(sec/3600) + " h"
	}
	return sig3(sec/86400) + " d"
}

// sig3 writes v (≥ 0) with three significant digits, or as an integer
// from 100 on.
func sig3(v float64) string {
	switch {
	case v >= 99.95:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// fmtCount writes n with thousands separated by thin spaces.
func fmtCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u2009")
		}
		b.WriteRune(c)
	}
	return b.String()
}
