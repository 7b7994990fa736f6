package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed templates
var templateFS embed.FS

// views holds every page's template set, parsed once at start-up: each is
// the layout plus the page's own file, which defines "content".
type views struct {
	pages map[string]*template.Template
}

var viewNames = []string{"login", "page", "metrics", "pages", "error", "confirm", "live", "overview", "urls"}

func newViews() (*views, error) {
	funcs := template.FuncMap{
		"when":        func(t time.Time) string { return t.Format("2006-01-02 15:04") },
		"liveURL":     liveURL,
		"livePoolURL": livePoolURL,
		"urlsURL":     urlsURL,
		"urlsPoolURL": urlsPoolURL,
		// edit bundles a chart, its page and a form class for the
		// "editopen" and "editclose" templates.
		"edit":   func(c any, p any, class string) map[string]any { return map[string]any{"C": c, "P": p, "Class": class} },
		"srcset": srcset,
		// pageOf is the page of an "…/charts" URL.
		"pageOf": func(u string) string { return strings.TrimSuffix(u, "/charts") },
	}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, name := range viewNames {
		t, err := base.Clone()
		if err == nil {
			_, err = t.ParseFS(templateFS, "templates/"+name+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		v.pages[name] = t
	}
	return v, nil
}

// viewData is what every template gets; Body is the page's own data.
type viewData struct {
	Title string
	Me    string
	Flash string
	Time  *pageTime // the page's time range and picker, on pages of charts
	// Refresh, when set, reloads the page every Refresh seconds (a meta
	// refresh: it works without JavaScript).
	Refresh int
	Body    any
}

// render executes a template into a buffer first, so a template error is a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d viewData) {
	if d.Me == "" {
		d.Me = userFrom(r.Context())
	}
	var buf bytes.Buffer
	if err := s.views.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("render template", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// fail shows an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", viewData{Title: http.StatusText(status), Body: msg})
}

// internalError logs err and shows a generic 500 page.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong; the error was logged.")
}
