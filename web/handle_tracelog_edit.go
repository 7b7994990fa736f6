package web

import (
	"fmt"
	"net/http"
)

func (s *Server) handleAddChart(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.ownPage(w, r)
	if !ok {
		return
	}
	c, err := parseChart(r.PostForm, s.loc)
	if err == nil {
		_, err = resolve(s.tree, &c)
	}
	if err != nil {
		s.sessions.Put(r.Context(), "flash", "Chart not added: "+err.Error())
		s.backToPage(w, r, tracelogKind, owner, name, 0)
		return
	}
	editList(s, w, r, tracelogKind, owner, name, nil, func(cs []Chart, next *int) ([]Chart, error) {
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
	editList(s, w, r, tracelogKind, owner, name, urlID(r), func(cs []Chart, _ *int) ([]Chart, error) {
		i, err := chartIndex(cs, r)
		if err != nil {
			return nil, err
		}
		if err := s.changeTracelog(&cs[i], r.PostForm, false); err != nil {
			return nil, fmt.Errorf("chart not changed: %w", err)
		}
		if r.PostForm.Get("all") != "" {
			for j := range cs {
				copyControls(&cs[j].Controls, cs[i].Controls)
			}
		}
		return cs, nil
	})
}
