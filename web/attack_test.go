package web

// The web rows of issue 11's attack table, replayed: each test failed on
// the code before the fix. The export and /healthz rows run the real
// daemon (attack_daemon_test.go).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientFrom is a client whose connections come from ip (any 127.x.y.z
// is this machine), so the server sees another address.
func (e *env) clientFrom(ip string) *client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &client{e: e, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Row 3: /login?next=/%09/evil.example/x and a correct login answered
// "Location: /<TAB>/evil.example/x", which a browser reads as
// //evil.example/x. Every known form of it must now land on "/".
func TestAttackOpenRedirect(t *testing.T) {
	e := newEnv(t, Options{})
	hostile := []string{
		"//evil.example/x", "///evil.example/x", "/\\evil.example/x", "\\\\evil.example/x", "\\/evil.example/x",
		"/\t/evil.example/x", "/\n/evil.example/x", "/\r\n/evil.example/x", "\t//evil.example/x", " //evil.example/x",
		"/%09/evil.example/x", "/%0a/evil.example/x", "/%0D%0A/evil.example/x",
		"/%2F/evil.example/x", "/%2f/evil.example/x", "/%5C/evil.example/x", "/%5c%5cevil.example/x",
		"/%252F/evil.example/x", "/%25252f/evil.example/x", "%2F%2Fevil.example/x", "/%2F%2Fevil.example",
		"https:evil.example", "HTTPS:evil.example", "https://evil.example/", "hTtP://evil.example/",
		"javascript:alert(1)", "/\x00/evil.example", "/\x7f/evil.example", "evil.example/x", "",
	}
	for _, next := range hostile {
		// The form carries no such target.
		r := e.client().get("/login?next=" + url.QueryEscape(next))
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, `name="next" value=""`) {
			t.Errorf("login form keeps next=%q", next)
		}
		// Nor does the redirect after a correct login.
		r = e.client().post("/login", url.Values{"user": {"alice"}, "password": {alicePW}, "next": {next}})
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q: Location %q, want /", next, loc)
		}
	}
	// The issue's own request, as a browser sends it.
	r := e.client().get("/login?next=/%09/evil.example/x")
	if !strings.Contains(r.body, `name="next" value=""`) {
		t.Errorf("login form of /login?next=/%%09/evil.example/x: %s", r.body)
	}
	// Paths of this site still work, with their queries and escapes.
	for _, next := range []string{"/pages", "/u/alice/main#chart-2", "/metrics/u/alice/main?q=app+8080",
		"/metrics/u/alice/main?q=a%2Fb", "/u/alice/x%2Dy", "/"} {
		r := e.client().post("/login", url.Values{"user": {"alice"}, "password": {alicePW}, "next": {next}})
		if loc := r.Header.Get("Location"); loc != next {
			t.Errorf("next=%q: Location %q", next, loc)
		}
	}
}

// Row 6: five wrong passwords for an account refused its right password,
// from anywhere, for up to 15 minutes.
func TestAttackLoginLockout(t *testing.T) {
	const spacing = 100 * time.Millisecond
	e := newEnv(t, Options{loginSpacing: spacing})
	attacker := e.clientFrom("127.0.0.2")
	for i := range 30 {
		r := attacker.login("alice", fmt.Sprintf("guess-%d", i))
		if want := map[bool]int{true: 401, false: 429}[i < 5]; r.StatusCode != want {
			t.Fatalf("guess %d: status %d, want %d", i, r.StatusCode, want)
		}
	}
	// The attacker's address is slowed, even with the right password.
	r := attacker.login("alice", alicePW)
	wantStatus(t, r, http.StatusTooManyRequests)
	if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Alice, elsewhere, gets in at once.
	start := time.Now()
	wantStatus(t, e.clientFrom("127.0.0.3").login("alice", alicePW), http.StatusSeeOther)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("alice waited %v", d)
	}

	// Twenty addresses guess at once: the account's checks are paced (at
	// most one per spacing), those beyond the queue are told to come back
	// within seconds, never minutes.
	var (
		mu      sync.Mutex
		checked []time.Time
		retries []int
		wg      sync.WaitGroup
	)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.clientFrom(fmt.Sprintf("127.0.0.%d", 10+i)).login("alice", "distributed-guess")
			mu.Lock()
			defer mu.Unlock()
			switch r.StatusCode {
			case http.StatusUnauthorized:
				checked = append(checked, time.Now())
			case http.StatusTooManyRequests:
				s, _ := strconv.Atoi(r.Header.Get("Retry-After"))
				retries = append(retries, s)
			default:
				t.Errorf("distributed guess: status %d", r.StatusCode)
			}
		}()
	}
	wg.Wait()
	if len(checked) < 5 {
		t.Fatalf("only %d of 20 guesses were checked", len(checked))
	}
	first, last := checked[0], checked[0]
	for _, c := range checked {
		if c.Before(first) {
			first = c
		}
		if c.After(last) {
			last = c
		}
	}
	if span := last.Sub(first); span < time.Duration(len(checked)-2)*spacing {
		t.Errorf("%d guesses checked within %v: not paced at %v", len(checked), span, spacing)
	}
	for _, s := range retries {
		if s < 1 || s > 10 {
			t.Errorf("Retry-After %d s for a paced account", s)
		}
	}
	// And alice still gets in from yet another address, in seconds.
	start = time.Now()
	wantStatus(t, e.clientFrom("127.0.0.50").login("alice", alicePW), http.StatusSeeOther)
	if d := time.Since(start); d > 10*spacing+5*time.Second {
		t.Fatalf("alice waited %v while the account is guessed", d)
	}
	t.Logf("distributed: %d checked over %v, %d told to retry", len(checked), last.Sub(first), len(retries))
	// The built-in page's counters see it.
	if st := e.s.Stats(); st.LoginFailures != uint64(5+len(checked)) || st.LoginsThrottled != uint64(25+1+len(retries)) {
		t.Errorf("stats %+v: want %d failures, %d throttled", st, 5+len(checked), 25+1+len(retries))
	}
}

// Row 9: log in as eve, `user delete eve`, `user add eve`: the old cookie
// was logged in as the new eve. The user commands run as the operator runs
// them: the graphmetrics binary on the same database.
func TestAttackDeletedUserSession(t *testing.T) {
	e := newEnv(t, Options{})
	cli := newUserCLI(t, e.dir)
	cli.run("eve-password-1\n", "add", "eve")
	eve := e.loggedIn("eve", "eve-password-1")
	wantStatus(t, eve.get("/pages"), http.StatusOK)
	wantStatus(t, eve.post("/u/eve/main/charts", instanceForm), http.StatusSeeOther)

	cli.run("", "delete", "eve")
	// Her sessions are gone from the database at once...
	if n := e.sessionsOf("eve"); n != 0 {
		t.Errorf("%d sessions of eve left after user delete", n)
	}
	// ...and a new eve is someone else: the old cookie is not hers.
	cli.run("new-eve-password\n", "add", "eve")
	wantStatus(t, eve.get("/pages"), http.StatusSeeOther)
	wantStatus(t, eve.post("/u/eve/main/charts", instanceForm), http.StatusUnauthorized)
	if n := len(e.charts("eve", "main")); n != 0 {
		t.Fatalf("the new eve inherited %d charts", n)
	}
	wantStatus(t, e.loggedIn("eve", "new-eve-password").get("/pages"), http.StatusOK)
}

// sessionsOf counts the stored sessions logged in as user.
func (e *env) sessionsOf(user string) int {
	e.t.Helper()
	n, err := e.db.SessionsOf(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// "At most 100 charts a page and 1000 pages a user, with clear errors."
func TestAttackPageLimits(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	for i := range 100 {
		wantStatus(t, c.post("/u/alice/main/charts", instanceForm), http.StatusSeeOther)
		if i == 0 {
			c.get("/u/alice/main") // shows and clears the flash
		}
	}
	r := c.post("/u/alice/main/charts", instanceForm)
	wantStatus(t, r, http.StatusSeeOther)
	if n := len(e.charts("alice", "main")); n != 100 {
		t.Fatalf("%d charts on the page, want 100", n)
	}
	r = c.get("/u/alice/main")
	if !strings.Contains(r.body, "at most 100 charts") || !strings.Contains(r.body, "max_page_charts") {
		t.Fatalf("no clear error for the 101st chart: %.2000s", r.body)
	}
	// Removing and changing charts of a full page still works.
	id := strconv.Itoa(e.charts("alice", "main")[0].ID)
	wantStatus(t, c.post("/u/alice/main/charts/"+id+"/delete", url.Values{}), http.StatusSeeOther)
	if n := len(e.charts("alice", "main")); n != 99 {
		t.Fatalf("%d charts after a removal", n)
	}
	bob := e.loggedIn("bob", bobPW)

	// Pages: bob has 999 (made directly), the 1000th is allowed, the next
	// refused, by a new chart and by "save as" alike.
	ctx := context.Background()
	for i := range 999 {
		if err := e.db.EditPage(ctx, "bob", kindMetrics, fmt.Sprintf("p%d", i), func(*page) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	wantStatus(t, bob.post("/u/bob/last/charts", instanceForm), http.StatusSeeOther)
	if len(e.charts("bob", "last")) != 1 {
		t.Fatal("the 1000th page was refused")
	}
	wantStatus(t, bob.post("/u/bob/one-more/charts", instanceForm), http.StatusSeeOther)
	wantStatus(t, bob.post("/u/alice/main/saveas", url.Values{"name": {"copy"}}), http.StatusSeeOther)
	for _, p := range []string{"one-more", "copy"} {
		if pg, _ := e.db.GetPage(ctx, "bob", kindTracelog, p); pg.Exists {
			t.Fatalf("bob's page %s was saved past the limit", p)
		}
	}
	r = bob.get("/u/alice/main")
	if !strings.Contains(r.body, "1000 pages") || !strings.Contains(r.body, "max_user_pages") {
		t.Fatalf("no clear error for the 1001st page: %.2000s", r.body)
	}
	if n := e.s.Stats().LimitRefusals; n != 3 {
		t.Errorf("%d refusals counted, want 3", n)
	}
}

// Exports in flight are bounded ([web] max_exports): one more waits for a
// slot, and is told to come back when none frees in time.
func TestAttackExportSlots(t *testing.T) {
	e := newEnv(t, Options{MaxExports: 1, exportWait: 200 * time.Millisecond})
	c := e.loggedIn("alice", alicePW)
	u := "/export/tracelog.csv?" + (&Chart{Customer: "acme", Host: "h1", Instance: "app-8080",
		Controls: Controls{Start: sampleHour, End: sampleHour + 3600, Width: 800, Height: 250}}).Query().Encode()
	wantStatus(t, c.get(u), http.StatusOK)
	e.s.exports <- struct{}{} // an export in flight
	r := c.get(u)
	wantStatus(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(r.body, "max_exports") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("busy answer: %v %s", r.Header, r.body)
	}
	// Once the slot is free, exports go ahead again.
	<-e.s.exports
	wantStatus(t, c.get(u), http.StatusOK)
	if st := e.s.Stats(); st.ExportsBusy != 1 {
		t.Errorf("stats %+v", st)
	}
}
