package web

import (
	"net/http"
	"net/url"

	"graphmetrics/web/timerange"
)

// pageTime is a page's time range, read from its URL's from and until, and
// what the picker at the top of the page shows. Every chart of the page
// that does not pin its own range shows this one.
type pageTime struct {
	Range       timerange.Range
	Label, Zone string
	TZ          string // the zone's name, for the browser charts' time axis
	From, Until string // the picker's inputs
	Presets     []presetLink
	Keep        []keptParam // other query values the picker keeps (a search)
	Trailing    bool
	Error       string
}

type presetLink struct {
	Label, URL string
	Active     bool
}

type keptParam struct{ Name, Value string }

// pageTime reads the page's range from r's query; def is the range of a
// URL without one. A range that does not parse is reported on the page,
// which then shows def.
func (s *Server) pageTime(r *http.Request, def timerange.Range) *pageTime {
	q := r.URL.Query()
	rg, err := timerange.FromQuery(q, s.loc)
	if err == nil {
		_, _, err = rg.Resolve(s.now())
	}
	t := &pageTime{Zone: s.loc.String(), TZ: s.loc.String()}
	if err != nil {
		t.Error = err.Error()
		rg = timerange.Range{}
	}
	if rg.IsZero() {
		rg = def
	}
	t.Range, t.Label, t.Trailing = rg, rg.Label(s.loc), rg.Trailing()
	t.From, t.Until = rg.From.Format(s.loc), rg.Until.Format(s.loc)
	if z := s.now().In(s.loc).Format("MST"); z != t.Zone {
		t.Zone += " (" + z + ")"
	}
	rest := url.Values{}
	for k, vs := range q {
		if k != "from" && k != "until" {
			rest[k] = vs
			for _, v := range vs {
				t.Keep = append(t.Keep, keptParam{k, v})
			}
		}
	}
	active := rg.Preset()
	for _, p := range timerange.Presets {
		pr, _ := timerange.Parse(p.From, "", s.loc)
		t.Presets = append(t.Presets, presetLink{Label: p.Label, URL: r.URL.Path + pr.With(rest, s.loc), Active: p.Label == active})
	}
	return t
}

// keepRange adds the page range of the page the browser came from (its
// Referer, on this server) to target, so an edit does not lose the view.
func keepRange(r *http.Request, target string) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host {
		return target
	}
	q := ref.Query()
	v := url.Values{}
	for _, k := range []string{"from", "until"} {
		if s := q.Get(k); s != "" && len(s) <= 40 {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	tq := u.Query()
	for k := range v {
		tq.Set(k, v.Get(k))
	}
	u.RawQuery = tq.Encode()
	return u.String()
}
