package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"graphmetrics/web/storage"
)

//go:embed static
var staticFS embed.FS

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, securityHeaders, limitBody)
	s.graphiteRoutes(r)
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheFor(3600, http.FileServerFS(static))))
	// The original's page URLs, kept working for old bookmarks.
	r.Get("/{owner}/{page}/", oldPageURL(tracelogKind))
	r.Get("/metrics/{owner}/{page}/", oldPageURL(metricsKind))
	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave)
		r.Get("/healthz", s.handleHealth)
		r.Get("/login", s.handleLoginForm)
		r.Post("/login", s.handleLogin)
		r.Post("/logout", s.handleLogout)
		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			// The overview of a large fleet is a few hundred KB of HTML.
			gz := middleware.Compress(5, "text/html", "application/json")
			r.With(gz).Get("/", s.handleOverview)
			r.With(gz).Get("/overview.json", s.handleOverviewJSON)
			r.Get("/tracelogs", s.handleTracelogs)
			r.Get("/pages", s.handlePages)
			r.Get("/new", s.handleNewPage)
			r.Get("/u/{owner}/{page}", s.handlePage)
			r.Post("/u/{owner}/{page}/charts", s.handleAddChart)
			r.Post("/u/{owner}/{page}/charts/{id}", s.handleChangeChart)
			r.Post("/u/{owner}/{page}/charts/{id}/delete", removeChart[Chart](s, tracelogKind))
			r.Post("/u/{owner}/{page}/saveas", s.handleSaveAs(tracelogKind))
			r.Post("/u/{owner}/{page}/delete", s.handleDeletePage(tracelogKind))

			r.Get("/metrics", s.handleMetricsHome)
			r.Get("/metrics/u/{owner}/{page}", s.handleMetricsPage)
			r.Post("/metrics/u/{owner}/{page}/plots", s.handleAddPlot)
			r.Post("/metrics/u/{owner}/{page}/charts/{id}", s.handleChangeMetricChart)
			r.Post("/metrics/u/{owner}/{page}/charts/{id}/delete", removeChart[MetricChart](s, metricsKind))
			r.Post("/metrics/u/{owner}/{page}/charts/{id}/plots/{n}", s.handleChangePlot)
			r.Post("/metrics/u/{owner}/{page}/charts/{id}/plots/{n}/delete", s.handleRemovePlot)
			r.Post("/metrics/u/{owner}/{page}/saveas", s.handleSaveAs(metricsKind))
			r.Post("/metrics/u/{owner}/{page}/delete", s.handleDeletePage(metricsKind))
			r.Get(builtinURL, s.handleBuiltinPage)
			r.Post(builtinURL+"/saveas", s.handleBuiltinSaveAs)

			r.Get("/graph/metrics.png", s.handleMetricGraph)
			r.Get("/export/{kind}.{format}", s.handleExport)
			r.Get("/graph/tracelog.png", s.handleGraph)
			r.Get("/live/pool/{customer}/{pool}", s.onTarget(true, s.serveLive))
			r.Get("/live/{host}/{customer}/{instance}", s.onTarget(false, s.serveLive))
			r.Get("/urls/pool/{customer}/{pool}", s.onTarget(true, s.serveURLs))
			r.Get("/urls/pool/{customer}/{pool}/over.json", s.onTarget(true, s.serveURLsOver))
			r.Get("/urls/{host}/{customer}/{instance}", s.onTarget(false, s.serveURLs))
			r.Get("/urls/{host}/{customer}/{instance}/over.json", s.onTarget(false, s.serveURLsOver))
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "not found", http.StatusNotFound) })
	// Every state-changing request must come from our own pages: browsers
	// mark cross-site requests (Sec-Fetch-Site, Origin) and those are
	// refused with 403.
	protected := http.NewCrossOriginProtection().Handler(r)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A Graphite API request with a token carries no cookie, so it
		// cannot be forged by another site: no origin check.
		if req.Header.Get("Authorization") != "" && isGraphitePath(req.URL.Path) {
			r.ServeHTTP(w, req)
			return
		}
		protected.ServeHTTP(w, req)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds request bodies: our forms are small.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		next.ServeHTTP(w, r)
	})
}

func cacheFor(seconds int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(seconds))
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic in a handler into a logged line and a 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Health is the daemon's report for /healthz.
type Health struct {
	OK bool
	// Status says how each part is, in a word ("running", "stopped"...):
	// shown to anyone, for load balancers and monitoring.
	Status map[string]string
	// Detail holds counters, addresses and instance counts: shown only
	// with a session, since it tells an outsider what is connected.
	Detail any
}

// handleHealth answers 200 when the daemon says it is healthy, else 503.
// Without a session the body is {"ok", "detail": status words}; with one,
// "detail" holds every counter and "render" the renderer's.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := Health{OK: true, Status: map[string]string{}}
	if s.o.Health != nil {
		h = s.o.Health()
	}
	user, err := s.sessionUser(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	body := map[string]any{"ok": h.OK, "detail": h.Status}
	if user != "" {
		body["detail"], body["render"] = h.Detail, s.pool.Stats()
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.log.Error("healthz", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !h.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write(append(b, '\n'))
}

// oldPageURL redirects the original UI's page URLs (/{user}/{page}/ and
// /metrics/{user}/{page}/) permanently to today's, keeping the query.
func oldPageURL(k *pageKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner, name := chi.URLParam(r, "owner"), chi.URLParam(r, "page")
		if owner == "u" || storage.CheckUserName(owner) != nil || storage.CheckPageName(name) != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		target := k.url(owner, name)
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	}
}
