package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphmetrics/web/overview"
	"graphmetrics/web/timerange"
)

// overviewRange is the overview's range without one in the URL.
var overviewRange = timerange.Last(time.Hour)

// overviewTimeout bounds reading the daemon's state and the files.
const overviewTimeout = 20 * time.Second

// buildOverview reads the overview of the request's range and filter.
func (s *Server) buildOverview(r *http.Request, pt *pageTime) (*overview.Overview, error) {
	now := s.now()
	from, until, err := pt.Range.Resolve(now)
	if err != nil {
		return nil, fmt.Errorf("overview range: %w", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), overviewTimeout)
	defer cancel()
	return overview.Build(ctx, overview.Request{Tree: s.tree.Get(), State: s.o.Overview, Thresholds: s.o.OverviewThresholds,
		From: time.Unix(from, 0), Until: time.Unix(until, 0), Now: now, Filter: strings.TrimSpace(r.URL.Query().Get("q")),
		HistRoot: s.histRoot})
}

func (s *Server) handleOverviewJSON(w http.ResponseWriter, r *http.Request) {
	o, err := s.buildOverview(r, s.pageTime(r, overviewRange))
	if err != nil {
		s.log.Error("overview", "err", err)
		http.Error(w, "overview failed; the error was logged", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(o)
}

type overviewBody struct {
	Filter    string
	MyPages   []pageRow // the user's own pages, most recently changed first
	AddTo     string    // where "chart" adds: the user's most recently changed tracelog page
	Customers []ovCustomer
	Trailing  bool
	Instances int
}

type ovCustomer struct {
	Name  string
	Pools []ovPool
}

type ovPool struct {
	Row               ovRow
	Open              bool // in trouble: the instances show
	RPMSpark, Backlog sparkView
	Instances         []ovRow
}

// ovRow is a pool's or an instance's row, formatted.
type ovRow struct {
	Name, Note, Match                            string
	Trouble                                      []string
	RPM, EPM, Waiting, Busy, Hung, Headroom, P95 string
	LastSeen                                     string
	Target                                       string // what "chart" adds (targetValue's form)
	Live, URLs                                   string
}

type sparkView struct {
	Path template.HTML // an SVG path's d: digits, spaces, M and L only
	Top  string
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	pt := s.pageTime(r, overviewRange)
	o, err := s.buildOverview(r, pt)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	// The URL tables over the overview's range, when one was picked.
	rng := ""
	if q := r.URL.Query(); q.Get("from") != "" || q.Get("until") != "" {
		rng = "?" + s.rangeQuery(pt).Encode()
	}
	me := userFrom(r.Context())
	b := overviewBody{Filter: r.URL.Query().Get("q"), Trailing: pt.Trailing}
	if b.AddTo, err = s.db.DefaultPage(r.Context(), me, kindTracelog); err != nil {
		s.internalError(w, r, err)
		return
	}
	b.AddTo = tracelogKind.url(me, b.AddTo) + "/charts"
	for _, k := range []*pageKind{tracelogKind, metricsKind} {
		ps, err := s.db.ListPages(r.Context(), k.name, me)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		for _, p := range ps {
			b.MyPages = append(b.MyPages, pageRow{page: p, URL: k.url(p.Owner, p.Name), Mine: true})
		}
	}
	slices.SortStableFunc(b.MyPages, func(x, y pageRow) int { return cmp.Compare(y.Updated.Unix(), x.Updated.Unix()) })
	for _, c := range o.Customers {
		oc := ovCustomer{Name: c.Customer}
		for _, p := range c.Pools {
			op := ovPool{Open: p.Troubled(), Row: ovRow{Name: p.Pool, Note: p.Kind, Trouble: p.Trouble,
				Match: strings.ToLower(c.Customer + "\n" + p.Pool), Target: c.Customer + "/" + p.Kind + ":" + p.Pool,
				RPM: fmtNum(p.RPM), EPM: fmtNum(p.EPM), Waiting: strconv.Itoa(p.Waiting), Busy: strconv.Itoa(p.Busy),
				Hung: fmtInt(p.Hung), Headroom: fmtPct(p.HeadroomPct), P95: fmtSeconds(p.P95),
				Live: livePoolURL(c.Customer, p.Pool), URLs: urlsPoolURL(c.Customer, p.Pool) + rng}}
			op.RPMSpark, op.Backlog = spark(p.SparkRPM), spark(p.SparkBacklog)
			for _, i := range p.Instances {
				b.Instances++
				op.Instances = append(op.Instances, ovRow{Name: i.Instance, Note: "on " + i.Host, Trouble: i.Trouble,
					Match: strings.ToLower(i.Host + "\n" + i.Instance), Target: c.Customer + "/" + i.Instance + "@" + i.Host,
					RPM: fmtNum(i.RPM), EPM: fmtNum(i.EPM), Waiting: strconv.Itoa(i.Waiting), Busy: strconv.Itoa(i.Busy),
					Hung: fmtInt(i.Hung), Headroom: fmtPct(i.HeadroomPct), P95: fmtSeconds(i.P95), LastSeen: s.fmtSeen(i.LastSeen, o.Now),
					Live: liveURL(i.Host, c.Customer, i.Instance), URLs: urlsURL(i.Host, c.Customer, i.Instance) + rng})
			}
			oc.Pools = append(oc.Pools, op)
		}
		b.Customers = append(b.Customers, oc)
	}
	s.render(w, r, http.StatusOK, "overview", viewData{Title: "Overview", Flash: s.sessions.PopString(r.Context(), "flash"), Time: pt, Body: b})
}

func spark(vals []float64) sparkView {
	d, top := overview.SparkPath(vals)
	return sparkView{Path: template.HTML(d), Top: strconv.FormatFloat(top, 'f', -1, 64)}
}

// fmtNum shows a rate; "–" when there is no data.
func fmtNum(v *float64) string {
	if v == nil {
		return "–"
	}
	if *v >= 100 || *v == float64(int64(*v)) {
		return strconv.FormatFloat(*v, 'f', 0, 64)
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func fmtPct(v *float64) string {
	if v == nil {
		return "–"
	}
	return strconv.FormatFloat(*v, 'f', 0, 64) + "%"
}

// fmtSeconds shows an app time: milliseconds below 10 s.
func fmtSeconds(v *float64) string {
	switch {
	case v == nil:
		return "–"
	case *v < 10:
		return strconv.FormatFloat(*v*1000, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + " s"
}

// fmtInt shows a level; "–" until the data exists (hung: issue 21).
func fmtInt(v *int) string {
	if v == nil {
		return "–"
	}
	return strconv.Itoa(*v)
}

// fmtSeen says how long ago the newest record was.
func (s *Server) fmtSeen(t *int64, now int64) string {
	if t == nil {
		return "no record in the range"
	}
	d := time.Duration(max(now-*t, 0)) * time.Second
	return "last record " + time.Unix(*t, 0).In(s.loc).Format("15:04:05") + " (" + d.String() + " ago)"
}

// handleTracelogs goes to the user's most recently changed tracelog page
// (what "/" did before the overview).
func (s *Server) handleTracelogs(w http.ResponseWriter, r *http.Request) {
	s.redirectHome(w, r, tracelogKind)
}
