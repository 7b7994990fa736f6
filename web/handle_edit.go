package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"graphmetrics/web/storage"
)

var errNoChart = errors.New("no such chart")

// pageKind is what differs between the pages of "/" (tracelog charts) and
// of "/metrics" (metric charts): both are stored in the pages table under
// their kind and edited by the same machinery.
type pageKind struct {
	name   string // pages.kind
	prefix string // URL of a page: prefix + owner + "/" + page
}

var (
	tracelogKind = &pageKind{name: kindTracelog, prefix: "/u/"}
	metricsKind  = &pageKind{name: kindMetrics, prefix: "/metrics/u/"}
)

func (k *pageKind) url(owner, name string) string { return pageURLIn(k.prefix, owner, name) }

// charted is a saved chart type: every chart has an id on its page.
type charted interface {
	Chart | MetricChart
	chartID() int
}

func (c Chart) chartID() int       { return c.ID }
func (c MetricChart) chartID() int { return c.ID }

func decodeList[T any](b []byte) ([]T, error) {
	var cs []T
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("decode charts: %w", err)
	}
	return cs, nil
}

func encodeList[T any](cs []T) ([]byte, error) {
	if cs == nil {
		cs = []T{}
	}
	b, err := json.Marshal(cs)
	if err != nil {
		return nil, fmt.Errorf("encode charts: %w", err)
	}
	return b, nil
}

// ownPage checks that the page in the URL belongs to the user; only then
// may it be changed. It also parses the form of the change.
func (s *Server) ownPage(w http.ResponseWriter, r *http.Request) (owner, name string, ok bool) {
	owner, name = chi.URLParam(r, "owner"), chi.URLParam(r, "page")
	if owner != userFrom(r.Context()) {
		s.log.Warn("refused change of another user's page", "user", userFrom(r.Context()), "page", owner+"/"+name)
		s.fail(w, r, http.StatusForbidden, "This page belongs to "+owner+": you can view it, and \"save as\" makes a copy you can change.")
		return "", "", false
	}
	if err := storage.CheckPageName(name); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	return owner, name, true
}

// editList applies edit to a page's charts and saves the page; a user's
// mistake is flashed on the page, which the browser is sent back to, at
// the chart *anchor if set (edit may set it).
func editList[T charted](s *Server, w http.ResponseWriter, r *http.Request, k *pageKind, owner, name string,
	anchor *int, edit func(cs []T, nextID *int) ([]T, error)) {
	var userErr error
	err := s.savePage(r.Context(), owner, k.name, name, func(p *page) error {
		cs, err := decodeList[T](p.Charts)
		if err != nil {
			return err
		}
		if cs, userErr = edit(cs, &p.NextID); userErr != nil {
			return userErr
		}
		p.Charts, err = encodeList(cs)
		return err
	})
	at := 0
	switch {
	case userErr != nil:
		s.sessions.Put(r.Context(), "flash", userErr.Error())
	case errors.Is(err, errLimit):
		s.sessions.Put(r.Context(), "flash", "Not saved: "+err.Error()+".")
	case err != nil:
		s.internalError(w, r, err)
		return
	case anchor != nil:
		at = *anchor
	}
	s.backToPage(w, r, k, owner, name, at)
}

// backToPage sends the browser back to the page after a change, at chart
// anchor if > 0; a /metrics page keeps the builder's search.
func (s *Server) backToPage(w http.ResponseWriter, r *http.Request, k *pageKind, owner, name string, anchor int) {
	target := k.url(owner, name)
	if q := r.PostFormValue("q"); q != "" && k == metricsKind {
		target += "?q=" + url.QueryEscape(q)
	}
	target = keepRange(r, target)
	if anchor > 0 {
		target += "#chart-" + strconv.Itoa(anchor)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// chartIndex finds the chart of the URL's id.
func chartIndex[T charted](cs []T, r *http.Request) (int, error) {
	id, _ := strconv.Atoi(chi.URLParam(r, "id"))
	i := slices.IndexFunc(cs, func(c T) bool { return c.chartID() == id })
	if i < 0 {
		return 0, errNoChart
	}
	return i, nil
}

// urlID is the chart id of the URL, as an anchor for editList.
func urlID(r *http.Request) *int {
	id, _ := strconv.Atoi(chi.URLParam(r, "id"))
	return &id
}

// removeChart handles POST <page>/charts/{id}/delete.
func removeChart[T charted](s *Server, k *pageKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner, name, ok := s.ownPage(w, r)
		if !ok {
			return
		}
		editList(s, w, r, k, owner, name, nil, func(cs []T, _ *int) ([]T, error) {
			i, err := chartIndex(cs, r)
			if err != nil {
				return nil, err
			}
			return slices.Delete(cs, i, i+1), nil
		})
	}
}

// handleSaveAs copies any page (one's own or another user's) into a new
// page of one's own.
func (s *Server) handleSaveAs(k *pageKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		me, owner, name := userFrom(ctx), chi.URLParam(r, "owner"), chi.URLParam(r, "page")
		src, err := s.db.GetPage(ctx, owner, k.name, name)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !src.Exists && owner != me {
			s.fail(w, r, http.StatusNotFound, "No such page.")
			return
		}
		s.saveCopy(w, r, k, k.url(owner, name), owner+"/"+name, src.Charts, src.NextID)
	}
}

// saveCopy saves charts as the user's new page named in the form, and
// shows it; back is where a refusal is shown.
func (s *Server) saveCopy(w http.ResponseWriter, r *http.Request, k *pageKind, back, from string, charts []byte, nextID int) {
	ctx := r.Context()
	me, to := userFrom(ctx), r.PostFormValue("name")
	if err := storage.CheckPageName(to); err != nil {
		s.sessions.Put(ctx, "flash", "Not saved: "+err.Error())
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	charts, err := withOverrides(k, charts, r.PostForm, s.loc)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	replace := r.PostFormValue("replace") == "1"
	err = s.savePage(ctx, me, k.name, to, func(p *page) error {
		if p.Exists && !replace {
			return storage.ErrPageExists
		}
		p.Charts, p.NextID = charts, nextID
		return nil
	})
	if errors.Is(err, storage.ErrPageExists) {
		// Asked before replacing one's own page; the answer posts the same
		// form again, with replace=1.
		s.render(w, r, http.StatusConflict, "confirm", viewData{Title: "Replace " + to + "?", Body: confirmBody{
			Question: fmt.Sprintf("You already have a page %q. Replace it with this copy?", to),
			Action:   r.URL.Path, Fields: keptParams(r.PostForm), Back: back, Yes: "replace " + to}})
		return
	}
	if errors.Is(err, errLimit) {
		s.sessions.Put(ctx, "flash", "Not saved: "+err.Error()+".")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.log.Info("page saved as", "user", me, "kind", k.name, "from", from, "to", to)
	http.Redirect(w, r, k.url(me, to), http.StatusSeeOther)
}

func (s *Server) handleDeletePage(k *pageKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner, name, ok := s.ownPage(w, r)
		if !ok {
			return
		}
		if err := s.db.DeletePage(r.Context(), owner, k.name, name); err != nil {
			s.internalError(w, r, err)
			return
		}
		s.sessions.Put(r.Context(), "flash", fmt.Sprintf("Deleted page %q.", name))
		http.Redirect(w, r, "/pages", http.StatusSeeOther)
	}
}
