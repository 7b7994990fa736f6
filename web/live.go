package web

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"graphmetrics/store"
)

// The live pages (issue 12): the requests in flight of an instance or a
// pool, from the aggregators' own state, which the daemon hands in as a
// LiveSource (web does not import the daemon).

// LiveSource gives the requests in flight of instances, in the order of
// keys (store.Aggregator.Live, over every input's aggregator).
type LiveSource interface {
	Live(ctx context.Context, keys []store.Key) ([]store.LiveInstance, error)
}

// liveRefresh is how often a live page reloads itself (seconds).
const liveRefresh = 2

// liveShownURL bounds a URL as shown in a page's table (runes).
const liveShownURL = 200

type liveJSON struct {
	Instance string        `json:"instance"`
	Now      float64       `json:"now"`
	Requests []liveRequest `json:"requests"`
}

type liveRequest struct {
	Instance string  `json:"instance,omitempty"` // pool view only
	RID      string  `json:"rid"`
	Method   string  `json:"method"`
	URL      string  `json:"url"`
	State    string  `json:"state"`
	Started  float64 `json:"started"`
	AgeS     float64 `json:"age_s"`
	Hung     bool    `json:"-"`
}

type liveBody struct {
	Title, Self, JSON, URLs string
	Pool                    bool
	HungAfter               time.Duration
	Now                     time.Time
	Requests                []liveRequest
}

// serveLive serves /live/{host}/{customer}/{instance}[.json] and
// /live/pool/{customer}/{pool}[.json] (onTarget).
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, t target) {
	if s.o.Live == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "No live data: this server has no tracelog input.")
		return
	}
	g, pool, title, self := t.g, t.pool, t.title, "/live"+t.path
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	lives, err := s.o.Live.Live(ctx, t.keys())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := liveJSON{Instance: title, Requests: []liveRequest{}}
	for i, li := range lives {
		if !li.Found {
			continue
		}
		out.Now = max(out.Now, float64(li.Now)/1e6)
		for _, q := range li.Requests {
			lr := liveRequest{RID: q.RID, Method: q.Method, URL: q.URL, State: q.State,
				Started: float64(q.Started) / 1e6, AgeS: float64(li.Now-q.Started) / 1e6,
				Hung: q.State == store.StateRunning && q.Running != 0 && li.Now-q.Running >= s.o.HungAfter.Microseconds()}
			if pool {
				lr.Instance = g.Label(g.Instances[i])
			}
			out.Requests = append(out.Requests, lr)
		}
	}
	slices.SortStableFunc(out.Requests, func(a, b liveRequest) int { return cmp.Compare(b.AgeS, a.AgeS) })
	if t.asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(append(b, '\n'))
		return
	}
	body := liveBody{Title: title, Self: self, JSON: self + ".json", URLs: "/urls" + t.path, Pool: pool, HungAfter: s.o.HungAfter,
		Now: time.UnixMicro(int64(out.Now * 1e6)).In(s.loc), Requests: out.Requests}
	for i := range body.Requests {
		q := &body.Requests[i]
		q.RID, q.Method, q.URL = shown(q.RID, 64), shown(q.Method, 16), shown(q.URL, liveShownURL)
	}
	s.render(w, r, http.StatusOK, "live", viewData{Title: "live " + title, Refresh: liveRefresh, Body: body})
}

// shown makes untrusted text fit a table cell: valid UTF-8, control
// characters as U+FFFD, at most n runes (an ellipsis marks the cut).
// html/template escapes the rest.
func shown(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i == n {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
