package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLoggedOutRedirectsToLogin(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.client()
	for _, path := range []string{"/", "/pages", "/u/alice/main", "/graph/tracelog.png?customer=acme&host=h1&instance=app-8080"} {
		r := c.get(path)
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/login?next="+url.QueryEscape(path) {
			t.Errorf("GET %s redirects to %q", path, loc)
		}
	}
	wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusUnauthorized)
	if len(e.charts("alice", "main")) != 0 {
		t.Fatal("a chart was added without a session")
	}
	r := c.get("/login")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("login page has no password field: %s", r.body)
	}
	// After login the user lands where they were going.
	r = c.post("/login", url.Values{"user": {"alice"}, "password": {alicePW}, "next": {"/pages"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/pages" {
		t.Fatalf("after login: redirect to %q", loc)
	}
	// "next" cannot send the user to another site.
	r = c.post("/login", url.Values{"user": {"alice"}, "password": {alicePW}, "next": {"//evil.example/"}})
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Fatalf("open redirect: %q", loc)
	}
	// The cookie is HttpOnly and SameSite=Lax (Secure only under TLS).
	ck := r.Header.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || strings.Contains(ck, "Secure") {
		t.Fatalf("session cookie attributes: %s", ck)
	}
	// "/" is the overview; /tracelogs goes to the user's default page.
	wantStatus(t, c.get("/"), http.StatusOK)
	r = c.get("/tracelogs")
	wantStatus(t, r, http.StatusFound)
	if loc := r.Header.Get("Location"); loc != "/u/alice/main" {
		t.Fatalf("/tracelogs redirects to %q", loc)
	}
	// Logout ends the session.
	wantStatus(t, c.post("/logout", nil), http.StatusSeeOther)
	wantStatus(t, c.get("/pages"), http.StatusSeeOther)
}

func TestWrongPasswordRefusedAndThrottled(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.client()
	for i := range 5 {
		r := c.login("alice", "wrong-password")
		wantStatus(t, r, http.StatusUnauthorized)
		if !strings.Contains(r.body, "Wrong user name or password") {
			t.Fatalf("attempt %d: %s", i, r.body)
		}
	}
	wantStatus(t, c.get("/pages"), http.StatusSeeOther)
	// Now even the right password waits.
	r := c.login("alice", alicePW)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many failed attempts") {
		t.Fatalf("throttled answer: %v %s", r.Header, r.body)
	}
	// Another account from the same address is not yet throttled.
	wantStatus(t, e.client().login("bob", bobPW), http.StatusSeeOther)
	// After the delay the right password works again, and resets the count.
	e.clock.Add(2 * time.Second)
	wantStatus(t, c.login("alice", alicePW), http.StatusSeeOther)
	wantStatus(t, e.client().login("alice", "wrong-again"), http.StatusUnauthorized)
	wantStatus(t, e.client().login("alice", alicePW), http.StatusSeeOther)

	// Per address: many accounts guessed from one address (starting afresh).
	e.clock.Add(time.Hour)
	for i := range 20 {
		wantStatus(t, c.login(fmt.Sprintf("nobody%d", i), "x-password"), http.StatusUnauthorized)
	}
	wantStatus(t, c.login("bob", bobPW), http.StatusTooManyRequests)
	// An unknown user name is answered like a wrong password.
	e.clock.Add(time.Hour)
	r = c.login("nosuchuser", "whatever-pw")
	wantStatus(t, r, http.StatusUnauthorized)
}

func TestCrossOriginPostRejected(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	cases := [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "http://evil.example"},
		{"Sec-Fetch-Site", "same-site", "Origin", "http://other." + strings.Split(e.s.Addr(), ":")[0]},
	}
	for _, h := range cases {
		r := c.do("POST", "/u/alice/main/charts", instanceForm, h...)
		wantStatus(t, r, http.StatusForbidden)
		r = c.do("POST", "/logout", url.Values{}, h...)
		wantStatus(t, r, http.StatusForbidden)
		r = e.client().do("POST", "/login", url.Values{"user": {"alice"}, "password": {alicePW}}, h...)
		wantStatus(t, r, http.StatusForbidden)
	}
	if n := len(e.charts("alice", "main")); n != 0 {
		t.Fatalf("cross-origin posts added %d charts", n)
	}
	// The same request from our own page goes through.
	wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	if n := len(e.charts("alice", "main")); n != 1 {
		t.Fatalf("same-origin add: %d charts", n)
	}
}

func TestOtherUsersPageCannotBeChanged(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.loggedIn("alice", alicePW)
	wantStatus(t, alice.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
	before := e.charts("alice", "main")
	if len(before) != 1 {
		t.Fatalf("alice's page: %+v", before)
	}
	id := fmt.Sprint(before[0].ID)

	bob := e.loggedIn("bob", bobPW)
	r := bob.get("/u/alice/main")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "/graph/tracelog.png?") || strings.Contains(r.body, "/charts/"+id+"/delete") ||
		strings.Contains(r.body, `action="/u/alice/main/charts"`) {
		t.Fatalf("bob's view of alice's page should show charts without edit forms:\n%s", r.body)
	}
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/u/alice/main/charts", instanceForm},
		{"/u/alice/main/charts/" + id, url.Values{"hours": {"2"}, "w": {"300"}}},
		{"/u/alice/main/charts/" + id + "/delete", url.Values{}},
		{"/u/alice/main/delete", url.Values{}},
		{"/u/alice/newpage/charts", instanceForm},
	} {
		wantStatus(t, bob.post(p.path, p.form), http.StatusForbidden)
	}
	after := e.charts("alice", "main")
	if len(after) != 1 || after[0].Hours != before[0].Hours || after[0].Width != before[0].Width {
		t.Fatalf("alice's page changed: %+v", after)
	}
	if p, _ := e.db.GetPage(context.Background(), "alice", kindTracelog, "newpage"); p.Exists {
		t.Fatal("bob created a page for alice")
	}
	// "save as" copies it into bob's own pages, which he may change.
	r = bob.post("/u/alice/main/saveas", url.Values{"name": {"copy"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/u/bob/copy" {
		t.Fatalf("save as redirects to %q", loc)
	}
	if cs := e.charts("bob", "copy"); len(cs) != 1 || cs[0].Instance != "app-8080" {
		t.Fatalf("bob's copy: %+v", cs)
	}
	wantStatus(t, bob.post("/u/bob/copy/charts/"+id+"/delete", url.Values{}), http.StatusSeeOther)
	if len(e.charts("bob", "copy")) != 0 || len(e.charts("alice", "main")) != 1 {
		t.Fatal("bob's change of his copy must not touch alice's page")
	}
	// Saving over an existing page is refused.
	bob.post("/u/alice/main/saveas", url.Values{"name": {"copy"}})
	if len(e.charts("bob", "copy")) != 0 {
		t.Fatal("save as overwrote an existing page")
	}
	// The page list shows whose page is whose.
	r = bob.get("/pages")
	wantStatus(t, r, http.StatusOK)
	for _, s := range []string{`<td>alice</td><td><a href="/u/alice/main">main</a>`, `<td>bob</td><td><a href="/u/bob/copy">copy</a>`} {
		if !strings.Contains(r.body, s) {
			t.Fatalf("page list lacks %s:\n%s", s, r.body)
		}
	}
}

func TestSessionsSurviveRestartAndPasswordChange(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	other := e.loggedIn("alice", alicePW)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e2 := startEnv(t, e.dir, e.db, Options{})
	c.e, other.e = e2, e2
	wantStatus(t, c.get("/pages"), http.StatusOK)

	// A password change ends the user's sessions.
	if err := e.db.SetPassword(ctx, "alice", "new-password-3"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, other.get("/pages"), http.StatusSeeOther)
	wantStatus(t, e2.client().login("alice", alicePW), http.StatusUnauthorized)
	wantStatus(t, e2.client().login("alice", "new-password-3"), http.StatusSeeOther)
}

func TestHealthz(t *testing.T) {
	healthy := true
	e := newEnv(t, Options{Health: func() Health {
		return Health{OK: healthy, Status: map[string]string{"syslog": "running"},
			Detail: map[string]any{"listeners": []string{"udp 10.1.2.3:5514"}, "instances": 42}}
	}})
	c := e.client()
	r := c.get("/healthz")
	wantStatus(t, r, http.StatusOK)
	var h map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &h); err != nil || string(h["ok"]) != "true" ||
		string(h["detail"]) != `{"syslog":"running"}` || len(h) != 2 {
		t.Fatalf("healthz without a session: %v %s", err, r.body)
	}
	healthy = false
	wantStatus(t, c.get("/healthz"), http.StatusServiceUnavailable)
	// With a session: the counters and the renderer's.
	healthy = true
	r = e.loggedIn("alice", alicePW).get("/healthz")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `"instances":42`) || !strings.Contains(r.body, "10.1.2.3") || !strings.Contains(r.body, `"render"`) {
		t.Fatalf("healthz with a session: %s", r.body)
	}
}

func TestTemplateErrorIsCleanServerError(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.views.pages["pages"] = template.Must(template.New("").Parse(`{{define "layout"}}partial output {{.Body.NoSuchField}}{{end}}`))
	r := e.loggedIn("alice", alicePW).get("/pages")
	wantStatus(t, r, http.StatusInternalServerError)
	if strings.Contains(r.body, "partial output") {
		t.Fatalf("half a page was sent: %q", r.body)
	}
}

func TestStartStopReleasesPortAndGoroutines(t *testing.T) {
	e := newEnv(t, Options{})
	addr := e.s.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	for range 3 {
		s, err := New(Options{Listen: addr, DataDir: e.dir, DB: e.db, RenderCommand: []string{"/nonexistent"}, RenderWorkers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after 3 start/stop cycles, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestDeletedUserSessionEnds(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("bob", bobPW)
	wantStatus(t, c.get("/pages"), http.StatusOK)
	if err := e.db.DeleteUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/pages"), http.StatusSeeOther)
}
