//go:build cgo

// The kinesalite tests write real RRD files (store/rrdfile, librrd).

package kinesis

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/daemon/kinesis/kinesalitetest"
	"graphmetrics/store"
	"graphmetrics/store/rrdfile"
)

// startKinesalite runs the shared kinesalite server for the test and
// gives the Consumer's SDK client (the standard AWS chain) dummy keys
// through the environment.
func startKinesalite(t testing.TB) *kinesalitetest.Server {
	t.Helper()
	k := kinesalitetest.Start(t)
	kinesalitetest.SetAWSEnv(t)
	return k
}

func kinesaliteOpts(t testing.TB, k *kinesalitetest.Server, sink Sink, streams ...Stream) Options {
	o := fastOpts(t, nil, sink, streams...)
	o.Region, o.Endpoint = "us-east-1", k.URL
	o.IdleInterval, o.MinInterval = 50*time.Millisecond, 20*time.Millisecond
	o.ListInterval = 200 * time.Millisecond
	return o
}

// countSink passes everything to a rrdfile.Writer and counts the points,
// so a test can tell a replay from a record read once.
type countSink struct {
	w  *rrdfile.Writer
	mu sync.Mutex
	n  int
}

func (c *countSink) WriteMetric(path []string, step time.Duration, pts []store.Point) error {
	c.mu.Lock()
	c.n += len(pts)
	c.mu.Unlock()
	return c.w.WriteMetric(path, step, pts)
}

func (c *countSink) Sync(ctx context.Context) error { return c.w.Sync(ctx) }

func (c *countSink) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func newStoreWriter(t testing.TB, dataDir string) *rrdfile.Writer {
	t.Helper()
	w, err := rrdfile.NewWriter(rrdfile.WriterOptions{DataDir: dataDir, RRD: rrdfile.LibRRD{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w
}

func closeWriter(t testing.TB, w *rrdfile.Writer) {
	t.Helper()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// fetch returns the AVERAGE rows of a metric file at 60 s resolution, read
// with the rrdtool CLI (independent of the librrd binding that wrote it).
func fetch(t testing.TB, file string, start, end int64) map[int64]string {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", file, "AVERAGE", "-r", "60",
		"-s", fmt.Sprint(start), "-e", fmt.Sprint(end)).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch %s: %v: %s", file, err, out)
	}
	rows := map[int64]string{}
	for _, line := range strings.Split(string(out), "\n") {
		ts, v, ok := strings.Cut(line, ":")
		var tm int64
		if !ok || func() bool { _, err := fmt.Sscan(ts, &tm); return err != nil }() {
			continue
		}
		rows[tm] = strings.TrimSpace(v)
	}
	return rows
}

// checkRRD fails unless file holds exactly want (time of the point ->
// value) in (from, to]: a point stamped on a step boundary T is the row at
// T (rrdtool update's convention), and every other row is unknown.
func checkRRD(t testing.TB, file string, from, to int64, want map[int64]float64) {
	t.Helper()
	rows := fetch(t, file, from, to)
	for ts := from + 60; ts <= to; ts += 60 {
		got, ok := rows[ts]
		if !ok {
			t.Errorf("%s: no row %d", file, ts)
			continue
		}
		v, has := want[ts] // a point stamped ts is the update at ts
		var gv float64
		_, err := fmt.Sscan(got, &gv)
		switch {
		case !has && !strings.Contains(strings.ToLower(got), "nan"):
			t.Errorf("%s: row %d = %s, want unknown", file, ts, got)
		case has && (err != nil || gv != v):
			t.Errorf("%s: row %d = %s, want %v", file, ts, got, v)
		}
	}
}
