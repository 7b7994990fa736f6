package web

import (
	"context"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"graphmetrics/web/storage"
)

// cliToken makes a token as `graphmetrics user token NAME` does (the
// command itself is tested in daemon).
func cliToken(t *testing.T, e *env, name string) string {
	t.Helper()
	tok, err := e.db.NewToken(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var sampleRender = url.Values{"target": {"sumSeries(tracelog.*.acme.app-8080.rpm)"}, "format": {"json"},
	"from": {"15:47_20090730"}, "until": {"15:55_20090730"}, "maxDataPoints": {"4"}}

func TestGraphiteAPIAccess(t *testing.T) {
	e := newEnv(t, Options{})
	tok := cliToken(t, e, "alice")
	if !strings.HasPrefix(tok, storage.TokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	c := e.client()
	path := "/render?" + sampleRender.Encode()

	// No credentials: 401, not a redirect to the login page.
	r := c.get(path)
	wantStatus(t, r, http.StatusUnauthorized)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no WWW-Authenticate")
	}
	// Bearer.
	r = c.do("GET", path, nil, "Authorization", "Bearer "+tok)
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.body, `[{"target": "sumSeries(tracelog.*.acme.app-8080.rpm)", "tags": {`) || !strings.Contains(r.body, `"datapoints": [[`) {
		t.Errorf("render: %.300s", r.body)
	}
	// PNG through the render workers.
	pq := url.Values{"target": {"tracelog.*.acme.app-8080.rpm", "constantLine(100)"}, "from": {"15:47_20090730"},
		"until": {"15:55_20090730"}, "width": {"500"}, "height": {"300"}, "title": {"rpm"}}
	r = c.do("GET", "/render?"+pq.Encode(), nil, "Authorization", "Bearer "+tok)
	wantStatus(t, r, http.StatusOK)
	if img, err := png.Decode(strings.NewReader(r.body)); err != nil || img.Bounds().Dx() != 500 || img.Bounds().Dy() != 300 {
		t.Errorf("png: %v %v", err, r.Header)
	}
	pq.Set("width", "5")
	wantStatus(t, c.do("GET", "/render?"+pq.Encode(), nil, "Authorization", "Bearer "+tok), http.StatusBadRequest)
	if r.Header.Get("Set-Cookie") != "" {
		t.Errorf("token request got a cookie: %s", r.Header.Get("Set-Cookie"))
	}
	// Basic with the user name and the token; a POST form from another
	// origin (Grafana's server, a script) needs no CSRF token.
	req := func(method, p string, form url.Values, h ...string) resp { return c.do(method, p, form, h...) }
	basic := func(user, pw string) string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pw)
		return r.Header.Get("Authorization")
	}
	r = req("POST", "/render", sampleRender, "Authorization", basic("alice", tok), "Origin", "http://grafana.example", "Sec-Fetch-Site", "cross-site")
	wantStatus(t, r, http.StatusOK)
	for _, p := range []string{"/metrics/find?query=tracelog.*", "/metrics/expand?query=tracelog.*.*.*.rpm", "/metrics/index.json", "/functions", "/functions/sumSeries", "/version", "/tags/autoComplete/tags"} {
		wantStatus(t, req("GET", p, nil, "Authorization", "Bearer "+tok), http.StatusOK)
	}
	// Another user's name with alice's token is refused.
	wantStatus(t, req("GET", path, nil, "Authorization", basic("bob", tok)), http.StatusUnauthorized)
	// A session works too (the browser), and /metrics stays the UI page.
	s := e.loggedIn("bob", bobPW)
	wantStatus(t, s.get(path), http.StatusOK)
	wantStatus(t, s.get("/metrics"), http.StatusFound)
	// A cross-site POST with only the session cookie is refused.
	wantStatus(t, s.do("POST", "/render", sampleRender, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)

	// Bad tokens are throttled like logins: 20 per address (bob's above
	// was one), then waits.
	for range 19 {
		wantStatus(t, req("GET", path, nil, "Authorization", "Bearer gmt_wrong"), http.StatusUnauthorized)
	}
	r = req("GET", path, nil, "Authorization", "Bearer "+tok)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
	e.clock.Add(time.Hour)
	wantStatus(t, req("GET", path, nil, "Authorization", "Bearer "+tok), http.StatusOK)

	// Revoked tokens stop working.
	if n, err := e.db.RevokeTokens(context.Background(), "alice"); err != nil || n != 1 {
		t.Errorf("revoke: %d %v", n, err)
	}
	wantStatus(t, req("GET", path, nil, "Authorization", "Bearer "+tok), http.StatusUnauthorized)
	if _, err := e.db.NewToken(context.Background(), "nobody"); err == nil {
		t.Errorf("token for a missing user")
	}
	// Deleting a user deletes their tokens.
	tok2 := cliToken(t, e, "bob")
	wantStatus(t, req("GET", path, nil, "Authorization", "Bearer "+tok2), http.StatusOK)
	if err := e.db.DeleteUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, req("GET", path, nil, "Authorization", "Bearer "+tok2), http.StatusUnauthorized)
}
