package graphite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/web/internal/testrrd"
	"graphmetrics/web/series"
)

// The shared data set: four tracelog instances of synthetic traffic for
// four hours from t0, and a few metric files at a 60 s step.
const (
	t0      = 1699999200 // a whole hour
	tSpan   = 4 * 3600
	tracelg = "tracelog"
)

var instances = []struct{ host, cust, inst string }{
	{"h1", "acme", "app-8080"}, {"h1", "acme", "app-8081"}, {"h2", "acme", "app-8080"}, {"h2", "beta", "worker1"},
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixture returns the data_dir of the shared data set, made once.
func fixture(t testing.TB) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "graphite-fixture-")
		if fixtureErr != nil {
			return
		}
		fixtureErr = makeFixture(fixtureDir)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureDir
}

func makeFixture(dir string) error {
	for i, in := range instances {
		f := filepath.Join(dir, "rrd", "tracelog", in.host, in.cust, in.inst+".rrd")
		if err := testrrd.Make(f, testrrd.Synthetic(t0, tSpan, uint64(i+1))); err != nil {
			return err
		}
	}
	// disk free of three hosts, with gaps; a counter that resets.
	for h := 1; h <= 3; h++ {
		v := make([]float64, 240)
		for i := range v {
			v[i] = float64(1000*h) - float64(i)*1.5 + math.Sin(float64(i)/7)*float64(h)
			if (i+h)%17 == 0 {
				v[i] = math.NaN()
			}
		}
		if err := testrrd.MakeMetric(filepath.Join(dir, "rrd", "metrics", "disk", fmt.Sprintf("web%d", h), "free.rrd"), 60, t0, v); err != nil {
			return err
		}
	}
	c := make([]float64, 240)
	for i := range c {
		c[i] = float64((i % 50) * 120)
	}
	if err := testrrd.MakeMetric(filepath.Join(dir, "rrd", "metrics", "counter.rrd"), 60, t0, c); err != nil {
		return err
	}
	// A host name with dots, for the escape.
	return testrrd.MakeMetric(filepath.Join(dir, "rrd", "metrics", "kin", "db.example.com", "load.rrd"), 60, t0, []float64{1, 2, 3})
}

// newAPI serves the API over dir on a loopback test server.
func newAPI(t testing.TB, dir string, o Options) (*API, *httptest.Server) {
	t.Helper()
	idx, err := series.New(series.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close(context.Background()) })
	o.Index = idx
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Unix(t0+tSpan, 0) }
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(func(p string, h http.HandlerFunc) { mux.HandleFunc(p, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return a, srv
}

func get(t testing.TB, srv *httptest.Server, path string, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// jsonSeries is one series of a /render?format=json answer.
type jsonSeries struct {
	Target     string            `json:"target"`
	Tags       map[string]any    `json:"tags"`
	Datapoints [][2]*json.Number `json:"datapoints"`
}

func decodeRender(t testing.TB, body string) []jsonSeries {
	t.Helper()
	var out []jsonSeries
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		t.Fatalf("decode %.300s: %v", body, err)
	}
	return out
}

func render(t testing.TB, srv *httptest.Server, target string, extra url.Values) []jsonSeries {
	t.Helper()
	q := url.Values{"target": {target}, "format": {"json"}, "from": {fmt.Sprint(t0 + 600)}, "until": {fmt.Sprint(t0 + 1200)}}
	for k, v := range extra {
		q[k] = v
	}
	code, body := get(t, srv, "/render", q)
	if code != 200 {
		t.Fatalf("render %s: %d %s", target, code, body)
	}
	return decodeRender(t, body)
}
