package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

// The Graphite query API (issue 16) lives in web/graphite; this file
// mounts it and lets it in with a session or an API token.

// graphitePaths are the API's routes: exact paths (/metrics itself stays
// the metrics UI page).
func isGraphitePath(p string) bool {
	switch p {
	case "/render", "/metrics/find", "/metrics/expand", "/metrics/index.json", "/functions", "/version",
		"/tags/autoComplete/tags", "/tags/autoComplete/values":
		return true
	}
	return strings.HasPrefix(p, "/functions/")
}

func (s *Server) graphiteRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.apiAccess)
		s.graphite.Routes(func(pattern string, h http.HandlerFunc) {
			r.Get(pattern, h)
			if pattern == "/render" || strings.HasPrefix(pattern, "/metrics/") {
				r.Post(pattern, h)
			}
		})
	})
}

// apiAccess lets a request in with "Authorization: Bearer TOKEN", with
// Basic user name and token, or with a session. Bad tokens are throttled
// like failed logins, per address and per named user.
func (s *Server) apiAccess(next http.Handler) http.Handler {
	session := s.sessions.LoadAndSave(s.requireAPISession(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			session.ServeHTTP(w, r)
			return
		}
		var user, tok string
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			tok = strings.TrimSpace(t)
		} else if u, p, ok := r.BasicAuth(); ok {
			user, tok = strings.ToLower(u), p
			if len(user) > 64 {
				user = user[:64]
			}
		} else {
			unauthorized(w, "unsupported Authorization scheme")
			return
		}
		// As for logins: failures from an address slow that address (for
		// the account named and for all), never another one.
		addr := remoteIP(r)
		pair := user + "\x00" + addr
		wait := s.addrLimit.wait(addr)
		if user != "" { // Bearer names no account
			wait = max(wait, s.pairLimit.wait(pair))
		}
		if wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
			http.Error(w, "too many failed attempts", http.StatusTooManyRequests)
			return
		}
		name, ok, err := s.db.TokenUser(r.Context(), tok)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !ok || user != "" && user != name {
			s.addrLimit.fail(addr)
			if user != "" {
				s.pairLimit.fail(pair)
			}
			s.stats.loginFailures.Add(1)
			s.loginLog.Log(s.log, "token "+user, "API token refused (repeats logged once a minute)", "user", user, "addr", addr)
			unauthorized(w, "bad API token")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, name)))
	})
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="graphmetrics", charset="UTF-8"`)
	http.Error(w, msg, http.StatusUnauthorized)
}

// requireAPISession is requireUser for API clients: 401, not a redirect.
func (s *Server) requireAPISession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.serveSessionUser(w, r, next) {
			return
		}
		unauthorized(w, "log in, or send an API token (graphmetrics user token NAME)")
	})
}
