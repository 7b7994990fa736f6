package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type ctxKey struct{}

// userFrom returns the logged-in user's name, or "".
func userFrom(ctx context.Context) string {
	u, _ := ctx.Value(ctxKey{}).(string)
	return u
}

// requireUser lets a request through only with a session of a user who
// still exists and has not changed password since logging in.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		name, err := s.sessionUser(ctx)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if name != "" {
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, name)))
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		http.Error(w, "log in first", http.StatusUnauthorized)
	})
}

// sessionUser is the session's user if that user still exists and has not
// changed password since logging in, else "" (and a stale session ends).
func (s *Server) sessionUser(ctx context.Context) (string, error) {
	name := s.sessions.GetString(ctx, "user")
	if name == "" {
		return "", nil
	}
	gen, ok, err := s.db.UserGeneration(ctx, name)
	if err != nil {
		return "", err
	}
	if ok && gen == s.sessions.GetInt64(ctx, "gen") {
		return name, nil
	}
	s.sessions.Destroy(ctx)
	return "", nil
}

type loginData struct {
	User, Next, Error string
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", viewData{Title: "Log in",
		Body: loginData{Next: localPath(r.URL.Query().Get("next"))}})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("user")))
	if len(name) > 64 {
		name = name[:64] // no user name is longer; bounds the throttle's keys
	}
	pw := r.PostFormValue("password")
	d := loginData{User: name, Next: localPath(r.PostFormValue("next"))}
	addr := remoteIP(r)
	if wait := max(s.acctLimit.wait(name), s.addrLimit.wait(addr)); wait > 0 {
		secs := int(wait.Seconds() + 0.999)
		s.log.Warn("login throttled", "user", name, "addr", addr, "wait_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		d.Error = fmt.Sprintf("Too many failed attempts. Try again in %d seconds.", secs)
		s.render(w, r, http.StatusTooManyRequests, "login", viewData{Title: "Log in", Body: d})
		return
	}
	gen, ok, err := s.db.CheckLogin(ctx, name, pw)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !ok {
		s.acctLimit.fail(name)
		s.addrLimit.fail(addr)
		s.log.Warn("login failed", "user", name, "addr", addr)
		d.Error = "Wrong user name or password."
		s.render(w, r, http.StatusUnauthorized, "login", viewData{Title: "Log in", Body: d})
		return
	}
	s.acctLimit.reset(name)
	// A new token on login, so a token planted before login is worthless.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.sessions.Put(ctx, "user", name)
	s.sessions.Put(ctx, "gen", gen)
	s.log.Info("login", "user", name, "addr", addr)
	next := d.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath keeps a redirect target on this site: a path, not "//host".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return ""
	}
	return p
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
