package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type ctxKey struct{}

// userFrom returns the logged-in user's name, or "".
func userFrom(ctx context.Context) string {
	u, _ := ctx.Value(ctxKey{}).(string)
	return u
}

// serveSessionUser passes r to next with its session's user in the
// context, or answers a failed look-up with a 500; false when the request
// has no logged-in user, for the caller to answer.
func (s *Server) serveSessionUser(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	ctx := r.Context()
	name, err := s.sessionUser(ctx)
	if err != nil {
		s.internalError(w, r, err)
		return true
	}
	if name == "" {
		return false
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, name)))
	return true
}

// requireUser lets a request through only with a session of the very user
// who logged in (not a namesake added after a delete), who has not changed
// password since.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.serveSessionUser(w, r, next) {
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		http.Error(w, "log in first", http.StatusUnauthorized)
	})
}

// sessionUser is the session's user if it is the very user who logged in
// (not a namesake added after a delete) and has not changed password
// since, else "" (and a stale session ends).
func (s *Server) sessionUser(ctx context.Context) (string, error) {
	name := s.sessions.GetString(ctx, "user")
	if name == "" {
		return "", nil
	}
	id, ok, err := s.db.UserIdentity(ctx, name)
	if err != nil {
		return "", err
	}
	if ok && id == s.sessions.GetString(ctx, "id") {
		return name, nil
	}
	return "", s.sessions.Destroy(ctx)
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
	addr, pair := remoteIP(r), name+"\x00"+remoteIP(r)
	// Failures from one address slow that address only: for this account
	// (pairLimit) and for all (addrLimit).
	if wait := max(s.pairLimit.wait(pair), s.addrLimit.wait(addr)); wait > 0 {
		s.refuseLogin(w, r, d, name, addr, wait, "Too many failed attempts from your address.")
		return
	}
	// Many addresses guessing one account are paced, not locked out.
	wait, release, ok := s.pace.turn(name, addr)
	if !ok {
		s.refuseLogin(w, r, d, name, addr, wait, "This account is being guessed from many addresses.")
		return
	}
	defer release()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	id, ok, err := s.db.CheckLogin(ctx, name, pw)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !ok {
		s.pairLimit.fail(pair)
		s.addrLimit.fail(addr)
		s.pace.fail(name)
		s.stats.loginFailures.Add(1)
		s.loginLog.Log(s.log, "failed "+name, "login failed (repeats for the account logged once a minute)", "user", name, "addr", addr)
		d.Error = "Wrong user name or password."
		s.render(w, r, http.StatusUnauthorized, "login", viewData{Title: "Log in", Body: d})
		return
	}
	s.pairLimit.reset(pair)
	// A new token on login, so a token planted before login is worthless.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.sessions.Put(ctx, "user", name)
	s.sessions.Put(ctx, "id", id)
	s.log.Info("login", "user", name, "addr", addr)
	next := d.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// refuseLogin answers 429: the attempt was not checked; come back after wait.
func (s *Server) refuseLogin(w http.ResponseWriter, r *http.Request, d loginData, name, addr string, wait time.Duration, why string) {
	s.stats.loginsThrottled.Add(1)
	secs := int(wait.Seconds() + 0.999)
	s.loginLog.Log(s.log, "throttled "+name, "login throttled (repeats for the account logged once a minute)",
		"user", name, "addr", addr, "wait_s", secs, "why", why)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	d.Error = fmt.Sprintf("%s Try again in %d seconds.", why, secs)
	s.render(w, r, http.StatusTooManyRequests, "login", viewData{Title: "Log in", Body: d})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
