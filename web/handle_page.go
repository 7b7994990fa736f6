package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"graphmetrics/web/storage"
	"graphmetrics/web/timerange"
	"graphmetrics/web/tree"
)

// pageHead is what every page shows above its charts: whose it is, save
// as, delete.
type pageHead struct {
	Owner, Name, Base string
	Keep              []keptParam // a viewer's changes and the range, which forms keep
	Mine, Exists      bool
	SuggestName       string
	Builtin           bool // a built-in page: nobody's, only "save as"
}

type pageBody struct {
	pageHead
	Targets  []string // what a chart can be pointed at (its change form)
	Charts   []chartView
	Tree     *tree.Snapshot
	TreeOpen bool // few instances: show them all unfolded
}

// chartView is a chart with what its figure and edit form show.
type chartView struct {
	Chart
	Target                string // targetValue
	Title, Img, CSV, JSON string
	Sizes                 string // the image's column (imgSizes)
	Series                string // drawing styles for the browser chart (chartStyles)
	Live                  string // the live page of the chart's instance or group
	URLs                  string // its URL statistics over the page's range
	Ctl                   controlsView
}

func pageURLIn(prefix, owner, name string) string {
	return prefix + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// redirectHome sends the user to their most recently changed page of k.
func (s *Server) redirectHome(w http.ResponseWriter, r *http.Request, k *pageKind) {
	me := userFrom(r.Context())
	name, err := s.db.DefaultPage(r.Context(), me, k.name)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, k.url(me, name), http.StatusFound)
}

// loadPage reads the page of the URL for viewing; ok is false when an
// answer was sent.
func (s *Server) loadPage(w http.ResponseWriter, r *http.Request, k *pageKind) (*page, pageHead, bool) {
	ctx := r.Context()
	me, owner, name := userFrom(ctx), chi.URLParam(r, "owner"), chi.URLParam(r, "page")
	if storage.CheckUserName(owner) != nil || storage.CheckPageName(name) != nil {
		s.fail(w, r, http.StatusNotFound, "No such page.")
		return nil, pageHead{}, false
	}
	p, err := s.db.GetPage(ctx, owner, k.name, name)
	if err != nil {
		s.internalError(w, r, err)
		return nil, pageHead{}, false
	}
	mine := owner == me
	if !p.Exists && !mine {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("%s has no page %q.", owner, name))
		return nil, pageHead{}, false
	}
	h := pageHead{Owner: owner, Name: name, Base: k.url(owner, name), Mine: mine, Exists: p.Exists, SuggestName: name,
		Keep: keptParams(overrideParams(r.URL.Query()))}
	if !mine {
		h.SuggestName = owner + "-" + name
	}
	return p, h, true
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	p, head, ok := s.loadPage(w, r, tracelogKind)
	if !ok {
		return
	}
	charts, err := decodeList[Chart](p.Charts)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if previewEdit(s, w, r, head.Base, charts, s.changeTracelog) {
		return
	}
	applyOverrides(charts, r.URL.Query(), s.loc)
	b := pageBody{pageHead: head, Targets: targets(s.tree.Get())}
	if head.Mine {
		b.Tree = s.tree.Get()
		b.TreeOpen = len(b.Tree.Instances) <= 30
	}
	pt := s.pageTime(r, timerange.Range{})
	sizes := imgSizes(0)
	if head.Mine {
		sizes = imgSizes(18) // aside.tree
	}
	for _, c := range charts {
		c.Page = pt.Range
		q := c.Query().Encode()
		b.Charts = append(b.Charts, chartView{Chart: c, Target: targetValue(&c), Title: c.Title(), Img: "/graph/tracelog.png?" + q, Sizes: sizes,
			Series: s.pageStyles(&c),
			CSV:    "/export/tracelog.csv?" + q, JSON: "/export/tracelog.json?" + q, Live: chartLiveURL(c),
			URLs: chartURLsURL(c, s.rangeQuery(pt)), Ctl: s.controlsView(c.Controls)})
	}
	s.render(w, r, http.StatusOK, "page", viewData{Title: head.Owner + "/" + head.Name,
		Flash: s.sessions.PopString(r.Context(), "flash"), Time: pt, Body: b})
}

type pagesBody struct {
	Tracelog, Metrics []pageRow
	Builtin           string // URL of the built-in metrics page
}

type pageRow struct {
	page
	URL  string
	Mine bool
}

func (s *Server) handlePages(w http.ResponseWriter, r *http.Request) {
	me := userFrom(r.Context())
	b := pagesBody{Builtin: builtinURL}
	for _, k := range []*pageKind{tracelogKind, metricsKind} {
		ps, err := s.db.ListPages(r.Context(), k.name, "")
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		rows := make([]pageRow, len(ps))
		for i, p := range ps {
			rows[i] = pageRow{page: p, URL: k.url(p.Owner, p.Name), Mine: p.Owner == me}
		}
		if k == tracelogKind {
			b.Tracelog = rows
		} else {
			b.Metrics = rows
		}
	}
	s.render(w, r, http.StatusOK, "pages", viewData{Title: "Pages",
		Flash: s.sessions.PopString(r.Context(), "flash"), Body: b})
}

// handleNewPage only redirects: the page is saved by its first chart.
func (s *Server) handleNewPage(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if err := storage.CheckPageName(name); err != nil {
		s.sessions.Put(r.Context(), "flash", err.Error())
		http.Redirect(w, r, "/pages", http.StatusSeeOther)
		return
	}
	k := tracelogKind
	if r.URL.Query().Get("kind") == kindMetrics {
		k = metricsKind
	}
	http.Redirect(w, r, k.url(userFrom(r.Context()), name), http.StatusSeeOther)
}

// Head is the page head, for the "pagehead" template.
func (h pageHead) Head() pageHead { return h }

// chartURLsURL is the URL statistics of the chart's instance or group
// over the page's range (24 hours when it has none, as its charts).
func chartURLsURL(c Chart, q url.Values) string {
	u := urlsURL(c.Host, c.Customer, c.Instance)
	if c.IsGroup() {
		u = urlsPoolURL(c.Customer, c.Group)
	}
	if len(q) == 0 {
		q = url.Values{"from": {"-24h"}}
	}
	return u + "?" + q.Encode()
}

func chartLiveURL(c Chart) string {
	if c.IsGroup() {
		return livePoolURL(c.Customer, c.Group)
	}
	return liveURL(c.Host, c.Customer, c.Instance)
}
