package web

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"graphmetrics/store"
	"graphmetrics/store/urlstore"
	"graphmetrics/web/timerange"
)

// The URL statistics pages (issue 12, part 3): per URL pattern of an
// instance or a pool, over the page's range, the top 50 by impact and an
// "other" row; a click on a URL draws its count and p95 over time.

// URLSource reads the URL statistics of instances (store/urlstore).
type URLSource interface {
	// Table is every pattern's row over [from, until) (epoch s), merged
	// over the instances, unsorted.
	Table(keys []store.Key, from, until int64) ([]*urlstore.Row, error)
	// Over is one pattern's rows per step over [from, until).
	Over(keys []store.Key, url string, from, until, step int64) (*urlstore.Series, error)
}

const (
	urlsTop     = 50            // rows before "other"
	urlsMaxSpan = 400 * 86400   // the longest range kept (hour resolution)
	urlsShown   = 120           // runes of a URL in a table cell
	urlsTitle   = 1024          // runes of the whole pattern in the cell's title
	urlsMaxJSON = 4096          // bytes of a URL in the JSON
	urlsMaxLink = 2048          // bytes: a longer pattern gets no chart link
	urlsPoints  = 360           // at most this many steps on a chart
	urlsDefault = 1 * time.Hour // a page without a range
)

// errURLRange is a range the URL statistics cannot answer.
var errURLRange = errors.New("the range of URL statistics must be at most 400 days")

type urlsJSON struct {
	From   int64         `json:"from"`
	Until  int64         `json:"until"`
	RelErr float64       `json:"rel_err"` // of the percentiles
	Rows   []urlsJSONRow `json:"rows"`
}

type urlsJSONRow struct {
	URL    string   `json:"url"`
	Count  uint64   `json:"count"`
	Errors uint64   `json:"errors"`
	MeanS  *float64 `json:"mean_s"`
	P50S   *float64 `json:"p50_s"`
	P95S   *float64 `json:"p95_s"`
	P99S   *float64 `json:"p99_s"`
	MaxS   *float64 `json:"max_s"`
	TotalS float64  `json:"total_s"`
	Hangs  uint64   `json:"hangs"`
}

// urlFiles reads the files of store/urlstore under a data directory.
type urlFiles string

func (d urlFiles) Table(keys []store.Key, from, until int64) ([]*urlstore.Row, error) {
	return urlstore.Table(string(d), keys, from, until)
}

func (d urlFiles) Over(keys []store.Key, url string, from, until, step int64) (*urlstore.Series, error) {
	return urlstore.Over(string(d), keys, url, from, until, step)
}

// orNull is v, or nil (JSON null) when it is not a number.
func orNull(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// urlsRange resolves the page's range; a JSON request with a bad one is
// refused, a page shows the error in its picker and the default range.
func (s *Server) urlsRange(r *http.Request) (pt *pageTime, from, until int64, err error) {
	pt = s.pageTime(r, timerange.Last(urlsDefault))
	if pt.Error != "" {
		err = errors.New(pt.Error)
	}
	from, until, rerr := pt.Range.Resolve(s.now())
	if rerr == nil && until-from > urlsMaxSpan {
		rerr = errURLRange
	}
	if rerr != nil {
		err = rerr
		pt.Error = rerr.Error()
		pt.Range = timerange.Last(urlsDefault)
		pt.Label, pt.Trailing = pt.Range.Label(s.loc), true
		pt.From, pt.Until = pt.Range.From.Format(s.loc), pt.Range.Until.Format(s.loc)
		from, until, _ = pt.Range.Resolve(s.now())
	}
	return pt, from, until, err
}

// serveURLs serves /urls/{host}/{customer}/{instance}[.json] and
// /urls/pool/{customer}/{pool}[.json] (onTarget).
func (s *Server) serveURLs(w http.ResponseWriter, r *http.Request, t target) {
	pt, from, until, rerr := s.urlsRange(r)
	if t.asJSON && rerr != nil {
		http.Error(w, rerr.Error(), http.StatusBadRequest)
		return
	}
	rows, err := s.o.URLs.Table(t.keys(), from, until)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	rows = urlstore.Top(rows, urlsTop)
	if t.asJSON {
		out := urlsJSON{From: from, Until: until, RelErr: urlstore.Scheme.RelErr(), Rows: make([]urlsJSONRow, len(rows))}
		for i, row := range rows {
			out.Rows[i] = urlsJSONRow{URL: boundBytes(row.URL, urlsMaxJSON), Count: row.Count, Errors: row.Errors,
				MeanS: orNull(row.MeanS()), P50S: orNull(row.Quantile(.5)), P95S: orNull(row.Quantile(.95)),
				P99S: orNull(row.Quantile(.99)), MaxS: orNull(maxS(row)), TotalS: row.TotalS, Hangs: row.Hangs}
		}
		writeJSON(w, out)
		return
	}
	body := s.urlsBody(r, t, pt, rows)
	if u := r.URL.Query().Get("url"); u != "" {
		body.Over = s.urlsOver(r, t, pt, u, from, until)
	}
	s.render(w, r, http.StatusOK, "urls", viewData{Title: "URLs " + t.title, Time: pt, Body: body})
}

// maxS is the row's largest app time, NaN when it had none.
func maxS(r *urlstore.Row) float64 {
	if r.Hist == nil || r.Hist.Total() == 0 {
		return math.NaN()
	}
	return r.MaxS
}

// boundBytes makes s valid UTF-8 of at most n bytes (an ellipsis marks a
// cut, on a rune boundary; n below its 3 bytes gives the ellipsis alone).
func boundBytes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := max(n-len("…"), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

// rangeQuery is the page's range as query values, for its links.
func (s *Server) rangeQuery(pt *pageTime) url.Values {
	v := url.Values{}
	pt.Range.Encode(v, s.loc)
	return v
}
