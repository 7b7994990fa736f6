package rrdfile

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"graphmetrics/store"
)

// smallRRAs keep the fault tests' files small (about 280 KB) and fast;
// the coarsest row is a minute.
var smallRRAs = []store.Archive{{CF: "AVERAGE", Step: time.Second, Span: time.Hour}, {CF: "AVERAGE", Step: time.Minute, Span: 24 * time.Hour}}

// mountTmpfs mounts a tmpfs of the given size on a fresh directory.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("disk-full test skipped: mounting a tmpfs needs root with CAP_SYS_ADMIN (mount: %v)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := fh.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	for {
		// Then what is left of the last 64 KB, a page at a time.
		if _, err := fh.Write(chunk[:4096]); err != nil {
			break
		}
	}
}

// checkRows fetches the 1 s rows of file and compares them with buckets.
func checkRows(t *testing.T, file string, bs []store.Bucket) {
	t.Helper()
	rows := fetch(t, file, "AVERAGE", 1, bs[0].Time-1, bs[len(bs)-1].Time+2)
	for _, b := range bs {
		if got := rows[b.Time+1]; !sameValues(got, bucketValues(b)) {
			t.Fatalf("%s row %d = %v, want bucket %v", filepath.Base(file), b.Time+1, got, bucketValues(b))
		}
	}
}

// A full disk stops new files (existing RRD files are preallocated, so
// their updates go on): rows wait in memory up to MaxQueued, the oldest
// are dropped beyond it, no broken file is left, and everything queued
// lands once there is space again.
func TestWriterDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "2m")
	var logs logBuf
	w := newTestWriter(t, WriterOptions{DataDir: mnt, RRD: LibRRD{}, TracelogRRAs: smallRRAs,
		Workers: 1, MaxQueued: 50, RetryInterval: time.Hour, Logger: logs.logger()})
	m := at("2026-03-01 12:00:00")
	kA := store.Key{Host: "h1", Customer: "cust", Instance: "a"}
	kB := store.Key{Host: "h2", Customer: "cust", Instance: "b"}
	fileA, fileB := store.TracelogFile(mnt, kA), store.TracelogFile(mnt, kB)
	all := testBuckets(m, 80)
	w.WriteBuckets(kA, all[:10])
	syncW(t, w)

	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)
	w.WriteBuckets(kA, all[10:20])
	w.WriteBuckets(kB, all[:40])
	w.WriteBuckets(kB, all[40:])
	if err := w.Sync(context.Background()); err == nil {
		t.Fatal("Sync hid rows waiting for space")
	}
	st := w.Stats()
	if st.Errors == 0 || st.DiskFull == 0 || st.Queued != 50 || st.Dropped != 30 || st.Creates != 1 || st.Rows != 20 {
		t.Fatalf("stats on a full disk: %+v", st)
	}
	if ents, err := os.ReadDir(filepath.Dir(fileB)); err != nil || len(ents) != 0 {
		t.Fatalf("a failed create left files behind: %v %v", ents, err)
	}
	// Several failed writes and drops, one line each (rate-limited).
	if f, d := logs.count("rrd write failed"), logs.count("queue full"); st.Errors < 3 || f != 1 || d != 1 || logs.count("disk_full=true") != 1 {
		t.Errorf("%d errors; %d write-failure and %d drop lines, want 1 each:\n%s", st.Errors, f, d, logs.b.String())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	syncW(t, w) // the barrier retries the queued rows
	st = w.Stats()
	if st.Queued != 0 || st.Creates != 2 || st.Rows != 70 || st.Corrupt != 0 {
		t.Fatalf("stats after space came back: %+v", st)
	}
	checkRows(t, fileA, all[:20])
	checkRows(t, fileB, all[30:])
	// The 30 dropped seconds are unknown, never zeros.
	rows := fetch(t, fileB, "AVERAGE", 1, m, m+31)
	for ts := m + 1; ts <= m+30; ts++ {
		if !math.IsNaN(rows[ts][0]) {
			t.Fatalf("dropped second %d = %v, want unknown", ts, rows[ts])
		}
	}
}

// logBuf collects a writer's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// A file deleted while the daemon runs (or its whole directory) is
// noticed at the next update and created again at once, logged once (not
// as a failed write).
func TestWriterFileDeleted(t *testing.T) {
	var logs logBuf
	w := newTestWriter(t, WriterOptions{TracelogRRAs: smallRRAs, RetryInterval: time.Hour, Workers: 1, Logger: logs.logger()})
	m := at("2026-03-01 12:00:00")
	file := store.TracelogFile(w.opts.DataDir, testKey)
	all := testBuckets(m, 30)
	w.WriteBuckets(testKey, all[:10])
	syncW(t, w)

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	w.WriteBuckets(testKey, all[10:20])
	syncW(t, w)
	if st := w.Stats(); st.Recreated != 1 || st.Creates != 2 || st.Rows != 20 || st.Queued != 0 {
		t.Fatalf("stats: %+v", st)
	}
	checkRows(t, file, all[10:20])

	if err := os.RemoveAll(filepath.Join(w.opts.DataDir, "rrd", "tracelog", testKey.Host)); err != nil {
		t.Fatal(err)
	}
	w.WriteBuckets(testKey, all[20:])
	syncW(t, w)
	if st := w.Stats(); st.Recreated != 2 || st.Creates != 3 || st.Rows != 30 || st.Corrupt != 0 {
		t.Fatalf("stats: %+v", st)
	}
	checkRows(t, file, all[20:])

	// A metric file too.
	path := []string{"s", "host", "load"}
	mfile := store.MetricFile(w.opts.DataDir, path)
	w.WriteMetric(path, time.Minute, []store.Point{{Time: m + 1, Value: 1}}) // row m+60
	syncW(t, w)
	os.Remove(mfile)
	w.WriteMetric(path, time.Minute, []store.Point{{Time: m + 61, Value: 2}})
	syncW(t, w)
	if rows := fetch(t, mfile, "AVERAGE", 60, m+60, m+120); rows[m+120][0] != 2 {
		t.Fatalf("metric rows after deletion: %v", rows)
	}
	if st := w.Stats(); st.Recreated != 3 {
		t.Fatalf("stats: %+v", st)
	}
	if n, f := logs.count("rrd file deleted while in use"), logs.count("rrd write failed"); n != 1 || f != 0 {
		t.Errorf("%d deletion lines (want 1, rate-limited), %d write failures (want 0):\n%s", n, f, logs.b.String())
	}
}

var corruptName = regexp.MustCompile(`^(.+\.rrd)\.corrupt-\d{8}T\d{6}Z$`)

// A file librrd cannot read, or one whose data sources do not fit, is
// moved aside as <name>.corrupt-<UTC time> (content untouched) and a new
// one takes the rows: found by a running writer when its next update
// fails, or by a new one (a restart) when it opens the file. A valid file
// of the wrong shape that still takes the rows (same number of data
// sources) is found at the next open only: librrd accepts the update.
func TestWriterCorruptFile(t *testing.T) {
	rrdtool := func(t *testing.T, args ...string) {
		t.Helper()
		if out, err := exec.Command("rrdtool", args...).CombinedOutput(); err != nil {
			t.Fatalf("rrdtool %v: %v: %s", args, err, out)
		}
	}
	corruptions := []struct {
		name      string
		metric    bool
		opensOnly bool // librrd takes the update: found at the next open
		spoil     func(t *testing.T, path string)
	}{
		{"empty", false, false, func(t *testing.T, p string) { os.Truncate(p, 0) }},
		{"truncated", false, false, func(t *testing.T, p string) {
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		}},
		{"garbage", false, false, func(t *testing.T, p string) {
			junk := make([]byte, 4096)
			r := rand.NewChaCha8([32]byte{1})
			r.Read(junk)
			fh, _ := os.OpenFile(p, os.O_WRONLY, 0)
			fh.WriteAt(junk, 0)
			fh.Close()
		}},
		{"wrong data sources", false, false, func(t *testing.T, p string) {
			os.Remove(p)
			rrdtool(t, "create", p, "-s", "1", "-b", "1000000000", "DS:a:GAUGE:5:0:U", "DS:b:GAUGE:5:0:U", "RRA:AVERAGE:0.5:1:100")
		}},
		{"wrong step", false, true, func(t *testing.T, p string) {
			os.Remove(p)
			args := []string{"create", p, "-s", "60", "-b", "1000000000"}
			for _, ds := range store.DataSources {
				args = append(args, "DS:"+ds+":GAUGE:120:0:U")
			}
			rrdtool(t, append(args, "RRA:AVERAGE:0.5:1:100")...)
		}},
		{"metric garbage", true, false, func(t *testing.T, p string) { os.WriteFile(p, bytes.Repeat([]byte("x"), 9000), 0o644) }},
		{"metric data sources", true, true, func(t *testing.T, p string) {
			os.Remove(p)
			rrdtool(t, "create", p, "-s", "60", "-b", "1000000000", "DS:other:GAUGE:600:U:U", "RRA:AVERAGE:0.5:1:100")
		}},
	}
	m := at("2026-03-01 12:00:00")
	mpath := []string{"s", "host", "load"}
	for _, c := range corruptions {
		for _, restart := range []bool{false, true} {
			if c.opensOnly && !restart {
				continue
			}
			name := c.name + map[bool]string{false: " while running", true: " at restart"}[restart]
			t.Run(name, func(t *testing.T) {
				var logs logBuf
				o := WriterOptions{TracelogRRAs: smallRRAs, RetryInterval: time.Hour, Logger: logs.logger()}
				w := newTestWriter(t, o)
				o.DataDir = w.opts.DataDir
				file := store.TracelogFile(o.DataDir, testKey)
				write := func(w *Writer, i int) {
					if c.metric {
						w.WriteMetric(mpath, time.Minute, []store.Point{{Time: m + 1 + 60*int64(i), Value: float64(i)}}) // row m+60(i+1)
					} else {
						w.WriteBuckets(testKey, testBuckets(m+10*int64(i), 10))
					}
					syncW(t, w)
				}
				if c.metric {
					file = store.MetricFile(o.DataDir, mpath)
				}
				write(w, 0)
				c.spoil(t, file)
				spoiled := fileHash(t, file)
				if restart {
					w.Close(context.Background())
					w = newTestWriter(t, o)
				}
				write(w, 1)
				if st := w.Stats(); st.Corrupt != 1 || st.Recreated != 0 || st.Queued != 0 {
					t.Fatalf("stats: %+v", st)
				}
				var aside []string
				ents, _ := os.ReadDir(filepath.Dir(file))
				for _, e := range ents {
					if sm := corruptName.FindStringSubmatch(e.Name()); sm != nil && sm[1] == filepath.Base(file) {
						aside = append(aside, e.Name())
					}
				}
				if len(aside) != 1 || fileHash(t, filepath.Join(filepath.Dir(file), aside[0])) != spoiled {
					t.Fatalf("moved aside: %v (dir %v)", aside, ents)
				}
				if n := logs.count("corrupt rrd file moved aside"); n != 1 || logs.count(aside[0]) != 1 {
					t.Errorf("want one log line naming %s:\n%s", aside[0], logs.b.String())
				}
				out, err := exec.Command("rrdtool", "info", file).CombinedOutput()
				if err != nil {
					t.Fatalf("new file: %v: %s", err, out)
				}
				if c.metric {
					if rows := fetch(t, file, "AVERAGE", 60, m+60, m+120); rows[m+120][0] != 1 {
						t.Fatalf("metric rows: %v", rows)
					}
					return
				}
				if !strings.Contains(string(out), "ds[starts].index = 6") {
					t.Fatalf("new file lacks the tracelog data sources:\n%s", out)
				}
				checkRows(t, file, testBuckets(m+10, 10))
			})
		}
	}
}

// Info tells a missing file, a corrupt one and a good one apart, and
// names the data sources in file order.
func TestLibRRDInfo(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.rrd")
	if err := (LibRRD{}).Create(good, time.Second, 1000, tracelogArgs(5*time.Second, smallRRAs)); err != nil {
		t.Fatal(err)
	}
	info, err := LibRRD{}.Info(good)
	if err != nil || info.Last != 1000 || info.Step != time.Second || !slices.Equal(info.DS, store.DataSources[:]) {
		t.Fatalf("info %+v %v", info, err)
	}
	if _, err := (LibRRD{}).Info(filepath.Join(dir, "none.rrd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.rrd")
	os.WriteFile(bad, []byte("RRD\x000003"), 0o644)
	if _, err := (LibRRD{}).Info(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt file: %v", err)
	}
	if _, err := (LibRRD{}).Info(dir); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("a directory is not a corrupt file: %v", err)
	}
}
