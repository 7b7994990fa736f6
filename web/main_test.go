package web

import (
	"context"
	"fmt"
	"graphmetrics/daemon/daemontest"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/web/internal/testrrd"
	"graphmetrics/web/render"
	"graphmetrics/web/storage"
)

// TestMain doubles as the render worker: the pool runs this test binary
// with render.EnvWorker set.
func TestMain(m *testing.M) {
	if os.Getenv(render.EnvWorker) == "1" {
		if err := RenderWorkerMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	daemontest.RemoveBin()
	os.Exit(code)
}

const (
	sampleHour = 1248966000 // 2009-07-30 15:00:00 UTC
	alicePW    = "alice-password-1"
	bobPW      = "bob-password-22"
)

// clock is a settable time source shared with the server's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     testing.TB
	s     *Server
	db    *storage.DB
	dir   string
	base  string
	clock *clock
}

// sampleBuckets are the SPEC §3 buckets of the shared sample, read as UTC.
func sampleBuckets(t testing.TB) []store.Bucket {
	return testrrd.Sample(t)
}

// rrdFile is where the store puts an instance's RRD file (SPEC §4).
func rrdFile(dir, host, customer, instance string) string {
	return filepath.Join(dir, "rrd", "tracelog", host, customer, instance+".rrd")
}

// newEnv starts a server over a data directory holding the sample as
// h1/acme/app-8080 and h2/acme/app-8080, with users alice and bob.
func newEnv(t testing.TB, o Options) *env {
	t.Helper()
	return newEnvWith(t, o, nil)
}

// newEnvWith is newEnv with prepare run on the data directory before the
// server starts (so its series index finds what prepare makes).
func newEnvWith(t testing.TB, o Options, prepare func(dir string)) *env {
	t.Helper()
	dir := t.TempDir()
	bs := sampleBuckets(t)
	for _, h := range []string{"h1", "h2"} {
		if err := testrrd.Make(rrdFile(dir, h, "acme", "app-8080"), bs); err != nil {
			t.Fatal(err)
		}
	}
	if prepare != nil {
		prepare(dir)
	}
	db, err := storage.Open(filepath.Join(dir, storage.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for user, pw := range map[string]string{"alice": alicePW, "bob": bobPW} {
		if err := db.AddUser(context.Background(), user, pw); err != nil {
			t.Fatal(err)
		}
	}
	return startEnv(t, dir, db, o)
}

func startEnv(t testing.TB, dir string, db *storage.DB, o Options) *env {
	t.Helper()
	o.Listen = "127.0.0.1:0"
	o.DataDir, o.DB = dir, db
	if o.RenderCommand == nil {
		o.RenderCommand = []string{os.Args[0]}
	}
	if o.RenderWorkers == 0 {
		o.RenderWorkers = 2
	}
	o.Location = time.UTC
	if o.Logger == nil {
		// Shown when the test fails.
		logs := &syncBuffer{}
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", logs.String())
			}
		})
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	s.now = clk.Now
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return &env{t: t, s: s, db: db, dir: dir, base: "http://" + s.Addr(), clock: clk}
}

// client is a browser-like HTTP client that does not follow redirects, so
// tests see them.
type client struct {
	e *env
	c *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	*http.Response
	body string
}

func (c *client) do(method, path string, form url.Values, hdr ...string) resp {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.base+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp{r, string(b)}
}

func (c *client) get(path string) resp { return c.do("GET", path, nil) }

// post sends a form as a same-origin browser form would.
func (c *client) post(path string, form url.Values) resp {
	return c.do("POST", path, form, "Origin", c.e.base, "Sec-Fetch-Site", "same-origin")
}

func (c *client) login(user, pw string) resp {
	return c.post("/login", url.Values{"user": {user}, "password": {pw}})
}

func (e *env) loggedIn(user, pw string) *client {
	e.t.Helper()
	c := e.client()
	if r := c.login(user, pw); r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", user, r.StatusCode, r.body)
	}
	return c
}

func wantStatus(t testing.TB, r resp, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body: %.300s", r.Request.Method, r.Request.URL, r.StatusCode, code, r.body)
	}
}

// charts returns the charts saved on a page.
func (e *env) charts(owner, name string) []Chart {
	e.t.Helper()
	p, err := e.db.GetPage(context.Background(), owner, kindTracelog, name)
	if err != nil {
		e.t.Fatal(err)
	}
	cs, err := decodeList[Chart](p.Charts)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

var instanceForm = url.Values{"customer": {"acme"}, "host": {"h1"}, "instance": {"app-8080"}}
