package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"
)

var errNoChart = errors.New("no such chart")

// ownPage checks that the page in the URL belongs to the user; only then
// may it be changed.
func (s *Server) ownPage(w http.ResponseWriter, r *http.Request) (owner, name string, ok bool) {
	owner, name = chi.URLParam(r, "owner"), chi.URLParam(r, "page")
	if owner != userFrom(r.Context()) {
		s.log.Warn("refused change of another user's page", "user", userFrom(r.Context()), "page", owner+"/"+name)
		s.fail(w, r, http.StatusForbidden, "This page belongs to "+owner+": you can view it, and \"save as\" makes a copy you can change.")
		return "", "", false
	}
	if err := checkPageName(name); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	return owner, name, true
}

// editCharts applies edit to the page's charts and saves the page; a
// user's mistake is flashed on the page, which the browser is sent back to.
func (s *Server) editCharts(w http.ResponseWriter, r *http.Request, owner, name string, anchor int,
	edit func(cs []Chart, nextID *int) ([]Chart, error)) {
	var userErr error
	err := editPage(r.Context(), s.db, owner, kindTracelog, name, func(p *page) error {
		cs, err := decodeCharts(p.Charts)
		if err != nil {
			return err
		}
		if cs, userErr = edit(cs, &p.NextID); userErr != nil {
			return userErr
		}
		p.Charts, err = encodeCharts(cs)
		return err
	})
	target := pageURL(owner, name)
	switch {
	case userErr != nil:
		s.sessions.Put(r.Context(), "flash", userErr.Error())
	case err != nil:
		s.internalError(w, r, err)
		return
	case anchor > 0:
		target += "#chart-" + strconv.Itoa(anchor)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) handleAddChart(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	c, err := parseChart(r.PostForm, s.loc)
	if err == nil {
		_, err = resolve(s.tree, &c)
	}
	if err != nil {
		s.sessions.Put(r.Context(), "flash", "Chart not added: "+err.Error())
		http.Redirect(w, r, pageURL(owner, name), http.StatusSeeOther)
		return
	}
	s.editCharts(w, r, owner, name, 0, func(cs []Chart, next *int) ([]Chart, error) {
		c.ID = *next
		*next++
		return append(cs, c), nil
	})
}

func (s *Server) handleChangeChart(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	id, _ := strconv.Atoi(chi.URLParam(r, "id"))
	s.editCharts(w, r, owner, name, id, func(cs []Chart, _ *int) ([]Chart, error) {
		i := slices.IndexFunc(cs, func(c Chart) bool { return c.ID == id })
		if i < 0 {
			return nil, errNoChart
		}
		// What is shown stays; only the controls come from the form.
		v := r.PostForm
		for _, k := range []string{"customer", "host", "instance", "gkind", "group", "view"} {
			v.Del(k)
		}
		for k, vs := range cs[i].target() {
			v[k] = vs
		}
		c, err := parseChart(v, s.loc)
		if err != nil {
			return nil, fmt.Errorf("chart not changed: %w", err)
		}
		c.ID = id
		cs[i] = c
		return cs, nil
	})
}

func (s *Server) handleRemoveChart(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	id, _ := strconv.Atoi(chi.URLParam(r, "id"))
	s.editCharts(w, r, owner, name, 0, func(cs []Chart, _ *int) ([]Chart, error) {
		i := slices.IndexFunc(cs, func(c Chart) bool { return c.ID == id })
		if i < 0 {
			return nil, errNoChart
		}
		return slices.Delete(cs, i, i+1), nil
	})
}

// handleSaveAs copies any page (one's own or another user's) into a new
// page of one's own.
func (s *Server) handleSaveAs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, owner, name := userFrom(ctx), chi.URLParam(r, "owner"), chi.URLParam(r, "page")
	to := r.PostFormValue("name")
	back := pageURL(owner, name)
	if err := checkPageName(to); err != nil {
		s.sessions.Put(ctx, "flash", "Not saved: "+err.Error())
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	src, err := getPage(ctx, s.db, owner, kindTracelog, name)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !src.Exists && owner != me {
		s.fail(w, r, http.StatusNotFound, "No such page.")
		return
	}
	err = editPage(ctx, s.db, me, kindTracelog, to, func(p *page) error {
		if p.Exists {
			return errPageExists
		}
		p.Charts, p.NextID = src.Charts, src.NextID
		return nil
	})
	if errors.Is(err, errPageExists) {
		s.sessions.Put(ctx, "flash", fmt.Sprintf("Not saved: you already have a page %q.", to))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.log.Info("page saved as", "user", me, "from", owner+"/"+name, "to", to)
	http.Redirect(w, r, pageURL(me, to), http.StatusSeeOther)
}

func (s *Server) handleDeletePage(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	if err := deletePage(r.Context(), s.db, owner, kindTracelog, name); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), "flash", fmt.Sprintf("Deleted page %q.", name))
	http.Redirect(w, r, "/pages", http.StatusSeeOther)
}
