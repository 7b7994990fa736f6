package rrdfile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/store"
)

func newTestWriter(t testing.TB, o WriterOptions) *Writer {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.RRD == nil {
		o.RRD = LibRRD{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w, err := NewWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}

func syncW(t testing.TB, w *Writer) {
	t.Helper()
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// fetch runs the rrdtool CLI (independent of librrd's Go binding) and
// returns rows by timestamp; unknown values are NaN.
func fetch(t testing.TB, path, cf string, res, start, end int64) map[int64][]float64 {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", path, cf, "-r", strconv.FormatInt(res, 10),
		"-s", strconv.FormatInt(start, 10), "-e", strconv.FormatInt(end, 10)).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch: %v: %s", err, out)
	}
	rows := make(map[int64][]float64)
	for _, line := range strings.Split(string(out), "\n") {
		ts, vals, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		tm, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil {
			t.Fatalf("fetch line %q", line)
		}
		var vs []float64
		for _, f := range strings.Fields(vals) {
			v, err := strconv.ParseFloat(f, 64)
			if strings.Contains(f, "nan") {
				v, err = math.NaN(), nil
			}
			if err != nil {
				t.Fatalf("fetch value %q", f)
			}
			vs = append(vs, v)
		}
		rows[tm] = vs
	}
	return rows
}

func bucketValues(b store.Bucket) []float64 {
	return []float64{float64(b.Requests), float64(b.Errors), b.AppSum, float64(b.AppN),
		float64(b.Waiting), float64(b.Busy), float64(b.Starts), float64(b.Hung)}
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

// testBuckets are n seconds from start with distinct values per field.
func testBuckets(start int64, n int) []store.Bucket {
	bs := make([]store.Bucket, n)
	for i := range bs {
		bs[i] = store.Bucket{Time: start + int64(i), Requests: uint32(i % 7), Errors: uint32(i % 3 / 2),
			AppSum: float64(i) * 0.125, AppN: uint32(i % 5), Waiting: int32(i % 11), Busy: int32(i % 4), Starts: uint32(i / 100 % 2), Hung: int32(i % 3)}
	}
	return bs
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestWriterTracelogRRD(t *testing.T) {
	w := newTestWriter(t, WriterOptions{RowsPerUpdate: 50})
	m := at("2026-03-01 12:00:00") // a minute boundary
	bs := testBuckets(m, 180)
	if err := w.WriteBuckets(testKey, bs); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	path := store.TracelogFile(w.opts.DataDir, testKey)
	if want := filepath.Join(w.opts.DataDir, "rrd/tracelog/h1/cust/app-8080.rrd"); path != want {
		t.Fatalf("path %s, want %s", path, want)
	}
	out, err := exec.Command("rrdtool", "info", path).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"step = 1\n", `ds[requests].type = "GAUGE"`, `ds[starts].index = 6`,
		"rra[0].rows = 10800", "rra[2].cf = \"MAX\"", "rra[2].pdp_per_row = 60", "rra[4].rows = 9600",
		"last_update = " + strconv.FormatInt(m+180, 10)} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rrdtool info lacks %q", want)
		}
	}
	// The bucket of second [t, t+1) is the row at t+1.
	rows := fetch(t, path, "AVERAGE", 1, m-10, m+190)
	for _, b := range bs {
		if got := rows[b.Time+1]; !sameValues(got, bucketValues(b)) {
			t.Fatalf("row %d = %v, want bucket %d %v", b.Time+1, got, b.Time, bucketValues(b))
		}
	}
	if !math.IsNaN(rows[m][0]) || !math.IsNaN(rows[m+181][0]) {
		t.Errorf("rows outside the data are known: %v %v", rows[m], rows[m+181])
	}
	// The 1-minute row at M+60 is exactly minute M: average and max.
	for _, cf := range []string{"AVERAGE", "MAX"} {
		rows := fetch(t, path, cf, 60, m-60, m+180)
		for k := range int64(3) {
			want := make([]float64, len(store.DataSources))
			for _, b := range bs[k*60 : k*60+60] {
				for i, v := range bucketValues(b) {
					if cf == "AVERAGE" {
						want[i] += v / 60
					} else {
						want[i] = math.Max(want[i], v)
					}
				}
			}
			if got := rows[m+60*k+60]; !sameValues(got, want) {
				t.Errorf("%s row %d = %v, want minute %d %v", cf, m+60*k+60, got, m+60*k, want)
			}
		}
	}

	// Replaying the same buckets changes nothing.
	before := fileHash(t, path)
	if err := w.WriteBuckets(testKey, bs); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	if fileHash(t, path) != before {
		t.Error("replay changed the file")
	}
	if st := w.Stats(); st.Rows != 180 || st.Skipped != 180 || st.Creates != 1 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	// A new writer (a restart) reads the last update from the file.
	w2 := newTestWriter(t, WriterOptions{DataDir: w.opts.DataDir})
	more := testBuckets(m+170, 20) // 10 old, 10 new
	if err := w2.WriteBuckets(testKey, more); err != nil {
		t.Fatal(err)
	}
	syncW(t, w2)
	if st := w2.Stats(); st.Rows != 10 || st.Skipped != 10 {
		t.Errorf("restart stats %+v", st)
	}
	rows = fetch(t, path, "AVERAGE", 1, m+175, m+195)
	if got, want := rows[m+181], bucketValues(more[10]); !sameValues(got, want) {
		t.Errorf("row after restart %v, want %v", got, want)
	}
}

// Seconds missing between two writes are never filled with the next
// second's counts: inside a row of the coarsest archive (1 h) they are
// zeros, so consolidated rows are exact sums; whole hours between are
// unknown.
func TestWriterGaps(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	m := at("2026-03-01 12:00:00")
	w.WriteBuckets(testKey, testBuckets(m+5, 10))
	later := testBuckets(m+18, 3)
	later[0].Requests = 99
	w.WriteBuckets(testKey, later)
	syncW(t, w)
	file := store.TracelogFile(w.opts.DataDir, testKey)
	rows := fetch(t, file, "AVERAGE", 1, m, m+30)
	for _, ts := range []int64{m + 1, m + 5, m + 16, m + 17, m + 18} {
		if rows[ts][0] != 0 {
			t.Errorf("row %d = %v, want zeros", ts, rows[ts])
		}
	}
	if rows[m+19][0] != 99 || rows[m+15][0] != 2 {
		t.Errorf("rows %v %v", rows[m+15], rows[m+19])
	}
	// The 1-minute row of 12:00 sums exactly: 10+3 buckets of 2 requests,
	// one of them 99.
	mins := fetch(t, file, "AVERAGE", 60, m, m+120)
	if got, want := mins[m+60][0]*60, float64(12*2+99); math.Abs(got-want) > 1e-9 {
		t.Errorf("12:00 requests %v, want %v", got, want)
	}
	// The 1-second archive keeps 3 h: check the seconds before moving on.
	far := testBuckets(m+3*3600+7, 2) // two whole hours later
	w.WriteBuckets(testKey, far)
	syncW(t, w)
	hours := fetch(t, file, "AVERAGE", 3600, m, m+4*3600)
	if !math.IsNaN(hours[m+2*3600][0]) || !math.IsNaN(hours[m+3*3600][0]) {
		t.Errorf("whole hours of the gap are not unknown: %v %v", hours[m+2*3600], hours[m+3*3600])
	}
	if got := fetch(t, file, "AVERAGE", 1, m+3*3600, m+3*3600+10); got[m+3*3600+1][0] != 0 || !sameValues(got[m+3*3600+9], bucketValues(far[1])) {
		t.Errorf("hour of the late buckets not padded: %v", got)
	}
}

func TestWriterMetricRRD(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	m := at("2026-03-01 12:00:00")
	path := []string{"cimaa.metrics", "host.example.com", "disk", "root", "free"}
	// A point stamped T is the update at T: it lands in the row (R-60, R]
	// holding T, so m+60 shares row m+60 with m+5.
	pts := []store.Point{
		{Time: m + 5, Value: 1},
		{Time: m + 70, Value: 2}, {Time: m + 119, Value: 3}, {Time: m + 60, Value: 4}, // one row each: the last by time wins
		{Time: m + 181, Value: math.NaN()},
		{Time: m + 241, Value: 5.5},
	}
	if err := w.WriteMetric(path, time.Minute, pts); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	file := store.MetricFile(w.opts.DataDir, path)
	if want := filepath.Join(w.opts.DataDir, "rrd/metrics/cimaa.metrics/host.example.com/disk/root/free.rrd"); file != want {
		t.Fatalf("path %s, want %s", file, want)
	}
	out, err := exec.Command("rrdtool", "info", file).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"step = 60\n", "ds[value].minimal_heartbeat = 600", "rra[0].rows = 20160",
		"rra[1].pdp_per_row = 60", "rra[1].rows = 17520", `rra[5].cf = "MAX"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rrdtool info lacks %q", want)
		}
	}
	for _, cf := range []string{"AVERAGE", "MIN", "MAX"} {
		rows := fetch(t, file, cf, 60, m, m+300)
		want := map[int64]float64{m + 60: 4, m + 120: 3, m + 180: math.NaN(), m + 240: math.NaN(), m + 300: 5.5}
		for ts, v := range want {
			if got := rows[ts]; len(got) != 1 || !near(got[0], v) {
				t.Errorf("%s row %d = %v, want %v", cf, ts, got, v)
			}
		}
	}
	// Older points, and a point for a step already written, are skipped.
	w.WriteMetric(path, time.Minute, []store.Point{{Time: m + 10, Value: 9}, {Time: m + 250, Value: 9}, {Time: m + 301, Value: 6}})
	syncW(t, w)
	if st := w.Stats(); st.Rows != 5 || st.Skipped != 2+2 {
		t.Errorf("stats %+v", st)
	}
	if rows := fetch(t, file, "AVERAGE", 60, m+240, m+360); rows[m+360][0] != 6 || rows[m+300][0] != 5.5 {
		t.Errorf("rows %v", rows)
	}
}

// While writes fail (disk full) rows stay queued, Sync reports it, and a
// later attempt writes them; beyond MaxQueued the oldest are dropped.
func TestWriterRetryAndQueueBound(t *testing.T) {
	fake := newFakeRRD()
	w := newTestWriter(t, WriterOptions{RRD: fake, Workers: 1, MaxQueued: 100, RetryInterval: time.Hour})
	m := at("2026-03-01 12:00:00")
	path := store.TracelogFile(w.opts.DataDir, testKey)
	fake.setFail(2) // the create and its first retry
	w.WriteBuckets(testKey, testBuckets(m, 30))
	if err := w.Sync(context.Background()); err == nil {
		t.Fatal("Sync hid a failed write")
	}
	if st := w.Stats(); st.Queued != 30 || st.Errors != 2 {
		t.Fatalf("stats %+v", st)
	}
	syncW(t, w) // the retry succeeds
	if rows := fake.rows(path); len(rows) != 30 || !strings.HasPrefix(rows[0], strconv.FormatInt(m+1, 10)+":") {
		t.Fatalf("rows after retry: %d %v", len(rows), rows[:1])
	}
	// A failure halfway: the rows of the failed call stay queued.
	fake.setFail(1000)
	w.WriteBuckets(testKey, testBuckets(m+30, 80))
	w.WriteBuckets(testKey, testBuckets(m+110, 40))
	if err := w.Sync(context.Background()); err == nil {
		t.Fatal("Sync hid a failed write")
	}
	st := w.Stats()
	// A failing file that is still there is never taken for corrupt.
	if st.Queued != 100 || st.Dropped != 20 || st.DiskFull == 0 || st.Corrupt != 0 || st.Recreated != 0 {
		t.Fatalf("bounded queue: %+v", st)
	}
	fake.setFail(0)
	syncW(t, w)
	rows := fake.rows(path)
	// Seconds m+30..m+49 were dropped: the file marks them unknown (an
	// update at m+50), never zeros.
	if len(rows) != 30+1+100 || !strings.HasPrefix(rows[30], strconv.FormatInt(m+50, 10)+":U") {
		t.Fatalf("%d rows, row 30 %q", len(rows), rows[30])
	}
	if st := w.Stats(); st.Queued != 0 || st.Rows != 130 {
		t.Errorf("stats %+v", st)
	}
}

func TestWriterClosed(t *testing.T) {
	w := newTestWriter(t, WriterOptions{RRD: newFakeRRD()})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBuckets(testKey, testBuckets(1, 1)); err != ErrClosed {
		t.Errorf("write after close: %v", err)
	}
	if _, err := NewWriter(WriterOptions{DataDir: "x", RRD: LibRRD{}, TracelogRRAs: []store.Archive{{CF: "AVERAGE", Step: 1500 * time.Millisecond, Span: time.Hour}}}); err == nil {
		t.Error("bad RRA accepted")
	}
}

// SPEC §4: a value stamped 12:00:00 shows at 12:00:00 in rrdtool fetch, as
// an rrdtool update at 12:00:00 would put it, and one stamped 12:00:01 in
// the next row; the same with a file's own archives (WriteMetricRRAs).
func TestWriterMetricTimeConvention(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	noon := at("2026-03-01 12:00:00")
	rras := []store.Archive{{CF: "AVERAGE", Step: 10 * time.Second, Span: time.Hour}, {CF: "MAX", Step: time.Minute, Span: 24 * time.Hour}}
	a, b := []string{"graphite", "a"}, []string{"graphite", "b"}
	if err := w.WriteMetricRRAs(a, 10*time.Second, rras, []store.Point{{Time: noon - 10, Value: 1}, {Time: noon, Value: 2}, {Time: noon + 1, Value: 3}, {Time: noon + 20, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMetric(b, time.Minute, []store.Point{{Time: noon, Value: 7}, {Time: noon + 60, Value: 8}}); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)

	// The same updates by the rrdtool CLI into a file of the same shape.
	ref := filepath.Join(t.TempDir(), "ref.rrd")
	cli := func(args ...string) {
		if out, err := exec.Command("rrdtool", args...).CombinedOutput(); err != nil {
			t.Fatalf("rrdtool %v: %v: %s", args, err, out)
		}
	}
	cli("create", ref, "--step", "10", "--start", strconv.FormatInt(noon-20, 10),
		"DS:value:GAUGE:100:U:U", "RRA:AVERAGE:0.5:1:360", "RRA:MAX:0.5:6:1440")
	for _, p := range []store.Point{{Time: noon - 10, Value: 1}, {Time: noon, Value: 2}, {Time: noon + 10, Value: 3}, {Time: noon + 20, Value: 4}} {
		cli("update", ref, strconv.FormatInt(p.Time, 10)+":"+strconv.FormatFloat(p.Value, 'g', -1, 64))
	}
	got := fetch(t, store.MetricFile(w.opts.DataDir, a), "AVERAGE", 10, noon-20, noon+20)
	want := fetch(t, ref, "AVERAGE", 10, noon-20, noon+20)
	for _, ts := range []int64{noon - 10, noon, noon + 10, noon + 20} {
		if len(got[ts]) != 1 || len(want[ts]) != 1 || got[ts][0] != want[ts][0] {
			t.Errorf("row %d: ours %v, rrdtool update's %v", ts-noon, got[ts], want[ts])
		}
	}
	if v := got[noon]; len(v) != 1 || v[0] != 2 {
		t.Errorf("the point stamped 12:00:00 shows at 12:00:00 as %v, want 2", v)
	}
	if v := got[noon+10]; len(v) != 1 || v[0] != 3 {
		t.Errorf("the point stamped 12:00:01 shows at 12:00:10 as %v, want 3", v)
	}
	info, err := exec.Command("rrdtool", "info", store.MetricFile(w.opts.DataDir, a)).CombinedOutput()
	if err != nil || !bytes.Contains(info, []byte("step = 10\n")) || !bytes.Contains(info, []byte("rra[1].pdp_per_row = 6")) {
		t.Errorf("own archives not used: %v %s", err, info)
	}
	gb := fetch(t, store.MetricFile(w.opts.DataDir, b), "AVERAGE", 60, noon-60, noon+60)
	if v := gb[noon]; len(v) != 1 || v[0] != 7 {
		t.Errorf("60s file: row 12:00 = %v, want 7", v)
	}
	if v := gb[noon+60]; len(v) != 1 || v[0] != 8 {
		t.Errorf("60s file: row 12:01 = %v, want 8", v)
	}
}
