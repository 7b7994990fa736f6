package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"graphmetrics/web/render"
	"graphmetrics/web/tree"
)

type pageBody struct {
	Owner, Name, Base string
	Mine, Exists      bool
	Charts            []chartView
	Tree              *tree.Snapshot
	TreeOpen          bool // few instances: show them all unfolded
	SuggestName       string
}

// chartView is a chart with what its figure and edit form show.
type chartView struct {
	Chart
	Title, Img, RangeText            string
	HoursInput                       int
	StartInput, EndInput             string
	MinInput, MaxInput               string
	Steps                            []option
	MaxHours, MinW, MaxW, MinH, MaxH int
}

type option struct {
	Value    int
	Label    string
	Selected bool
}

var stepOptions = []option{{0, "auto", false}, {1, "1 s", false}, {10, "10 s", false}, {60, "1 min", false},
	{300, "5 min", false}, {3600, "1 h", false}, {86400, "1 day", false}}

func pageURL(owner, name string) string {
	return "/u/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	me := userFrom(r.Context())
	name, err := defaultPage(r.Context(), s.db, me, kindTracelog)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, pageURL(me, name), http.StatusFound)
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, owner, name := userFrom(ctx), chi.URLParam(r, "owner"), chi.URLParam(r, "page")
	if checkUserName(owner) != nil || checkPageName(name) != nil {
		s.fail(w, r, http.StatusNotFound, "No such page.")
		return
	}
	p, err := getPage(ctx, s.db, owner, kindTracelog, name)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	mine := owner == me
	if !p.Exists && !mine {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("%s has no page %q.", owner, name))
		return
	}
	charts, err := decodeCharts(p.Charts)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	b := pageBody{Owner: owner, Name: name, Base: pageURL(owner, name), Mine: mine, Exists: p.Exists,
		SuggestName: name}
	if !mine {
		b.SuggestName = owner + "-" + name
	}
	if mine {
		b.Tree = s.tree.Get()
		b.TreeOpen = len(b.Tree.Instances) <= 30
	}
	for _, c := range charts {
		b.Charts = append(b.Charts, s.chartView(c))
	}
	s.render(w, r, http.StatusOK, "page", viewData{Title: owner + "/" + name,
		Flash: s.sessions.PopString(ctx, "flash"), Body: b})
}

func (s *Server) chartView(c Chart) chartView {
	v := chartView{Chart: c, Title: c.Title(), Img: "/graph/tracelog.png?" + c.Query().Encode(),
		HoursInput: c.Hours, MaxHours: maxHours,
		MinW: render.MinWidth, MaxW: render.MaxWidth, MinH: render.MinHeight, MaxH: render.MaxHeight}
	start, end := c.timeRange(s.now())
	v.StartInput = time.Unix(start, 0).In(s.loc).Format(dateLayout)
	v.EndInput = time.Unix(end, 0).In(s.loc).Format(dateLayout)
	if c.Trailing() {
		v.RangeText = fmt.Sprintf("last %d hours", c.Hours)
	} else {
		v.HoursInput = defaultHours
		const show = "2006-01-02 15:04 MST"
		v.RangeText = time.Unix(start, 0).In(s.loc).Format(show) + " to " + time.Unix(end, 0).In(s.loc).Format(show)
	}
	if c.Min != nil {
		v.MinInput = strconv.FormatFloat(*c.Min, 'g', -1, 64)
	}
	if c.Max != nil {
		v.MaxInput = strconv.FormatFloat(*c.Max, 'g', -1, 64)
	}
	found := false
	for _, o := range stepOptions {
		o.Selected = o.Value == c.Step
		found = found || o.Selected
		v.Steps = append(v.Steps, o)
	}
	if !found {
		v.Steps = append(v.Steps, option{c.Step, strconv.Itoa(c.Step) + " s", true})
	}
	return v
}

type pagesBody struct {
	Pages []page
	Me    string
}

func (s *Server) handlePages(w http.ResponseWriter, r *http.Request) {
	ps, err := listPages(r.Context(), s.db, kindTracelog, "")
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "pages", viewData{Title: "Pages",
		Flash: s.sessions.PopString(r.Context(), "flash"), Body: pagesBody{Pages: ps, Me: userFrom(r.Context())}})
}

// handleNewPage only redirects: the page is saved by its first chart.
func (s *Server) handleNewPage(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if err := checkPageName(name); err != nil {
		s.sessions.Put(r.Context(), "flash", err.Error())
		http.Redirect(w, r, "/pages", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, pageURL(userFrom(r.Context()), name), http.StatusSeeOther)
}

func decodeCharts(b []byte) ([]Chart, error) {
	var cs []Chart
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("decode charts: %w", err)
	}
	return cs, nil
}

func encodeCharts(cs []Chart) ([]byte, error) {
	if cs == nil {
		cs = []Chart{}
	}
	b, err := json.Marshal(cs)
	if err != nil {
		return nil, fmt.Errorf("encode charts: %w", err)
	}
	return b, nil
}
