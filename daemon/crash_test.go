package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/kinesis/kinesalitetest"
	"graphmetrics/store"
)

// Crash tests (SPEC §8, issue 7): the daemon is killed with SIGKILL while
// it works and restarted on the same data_dir. Replayable inputs (Kinesis,
// tailed files) must end up exactly as if nothing happened; direct syslog
// may lose only the seconds that were not flushed yet.

const crashStream = "crash.metrics"

func kinesisCrashConfig(dataDir, endpoint, extra string) string {
	return testConfig(dataDir, fmt.Sprintf(`[kinesis]
region = %q
endpoint = %q
[[kinesis.streams]]
name = %q
start = "trim_horizon"
step = "60s"
`, kinesalitetest.Region, endpoint, crashStream)+extra)
}

// metricSet is a family of series put into the stream: series s holds the
// value 1000·s + i at minute i (base + 60·i), so a point that is missing,
// misplaced or from another series shows in rrdtool fetch.
type metricSet struct {
	base  int64
	paths [][]string // [stream, agent, file, metric] of each series
	from  []int      // first minute of each series
	next  []int      // next minute to put
}

func newMetricSet(base int64) *metricSet { return &metricSet{base: base} }

// add makes n series of agent, starting at minute from.
func (ms *metricSet) add(agent string, n, from int) {
	for i := range n {
		ms.paths = append(ms.paths, []string{crashStream, agent, "load", fmt.Sprint("m", len(ms.paths), "-", i)})
		ms.from = append(ms.from, from)
		ms.next = append(ms.next, from)
	}
}

func (ms *metricSet) name(s int) string {
	p := ms.paths[s]
	return "//" + p[1] + "/" + p[2] + "#" + p[3]
}

// records advances every series to minute upto (exclusive), minute by
// minute, and returns the records in that order.
func (ms *metricSet) records(upto int) []kinesalitetest.Record {
	var recs []kinesalitetest.Record
	for {
		added := false
		for s := range ms.paths {
			if i := ms.next[s]; i < upto {
				// Seconds into the minute vary: the point still belongs to
				// minute i (the step [base+60i, base+60i+60)).
				ts := time.Unix(ms.base+int64(i)*60+int64(s%60), 0)
				recs = append(recs, kinesalitetest.Record{Time: ts, Name: ms.name(s), Value: float64(1000*s + i), Units: "x"})
				ms.next[s]++
				added = true
			}
		}
		if !added {
			return recs
		}
	}
}

func (ms *metricSet) file(dataDir string, s int) string {
	return store.MetricFile(dataDir, ms.paths[s])
}

// landed reports whether every series' last point put is in its file.
func (ms *metricSet) landed(dataDir string) bool {
	for s := range ms.paths {
		if rrdLastUpdate(ms.file(dataDir, s)) != ms.base+int64(ms.next[s])*60 {
			return false
		}
	}
	return true
}

// check reads every series back with rrdtool fetch: each minute put holds
// its value, and the minutes around them are unknown.
func (ms *metricSet) check(t *testing.T, dataDir string) {
	t.Helper()
	bad := 0
	for s := range ms.paths {
		file := ms.file(dataDir, s)
		lo, hi := ms.from[s]-2, ms.next[s]+2
		rows := rrdFetch(t, file, "AVERAGE", 60, ms.base+int64(lo)*60, ms.base+int64(hi)*60)
		for i := lo; i < hi; i++ {
			row, ok := rows[ms.base+int64(i+1)*60] // minute i is the row at its end
			got, want := math.NaN(), math.NaN()
			if ok {
				got = row["value"]
			}
			if i >= ms.from[s] && i < ms.next[s] {
				want = float64(1000*s + i)
			}
			if !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
				if bad++; bad <= 20 {
					t.Errorf("%s minute %d = %v, want %v", ms.name(s), i, got, want)
				}
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d wrong minutes in all", bad)
	}
}

// rrdLastUpdate is `rrdtool last`, or -1 when the file cannot be read.
func rrdLastUpdate(file string) int64 {
	out, err := exec.Command("rrdtool", "last", file).Output()
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// checkRRDFiles runs `rrdtool info` on every RRD file under dataDir: a
// file torn by a kill fails it. It returns the number of files. Right
// after a kill (afterKill), empty files are returned instead of failing:
// the store creates a file as an empty placeholder that librrd then
// replaces, so a kill in between leaves one; the restarted daemon moves it
// aside as corrupt when it next writes there.
func checkRRDFiles(t *testing.T, dataDir string, afterKill bool) (n int, empty []string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dataDir, "rrd"), func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".rrd") {
			return err
		}
		n++
		if fi, err := e.Info(); afterKill && err == nil && fi.Size() == 0 {
			empty = append(empty, p)
			return nil
		}
		if out, err := exec.Command("rrdtool", "info", p).CombinedOutput(); err != nil {
			t.Errorf("rrdtool info %s: %v\n%s", p, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, empty
}

// corruptFiles lists the files the daemon moved aside as corrupt.
func corruptFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dataDir, "rrd"), func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.Contains(e.Name(), ".rrd.corrupt-") {
			out = append(out, p)
		}
		return err
	})
	return out
}

// Kinesis through the whole daemon: CIMAA records in a 2-shard stream land
// with exactly the values put; a SIGKILL while a batch is half written
// (some of its new files made, its checkpoint not yet) loses nothing and
// writes nothing twice once the daemon is back.
func TestCrashKinesis(t *testing.T) {
	k := kinesalitetest.Start(t)
	kinesalitetest.SetAWSEnv(t) // the daemon inherits the environment
	k.CreateStream(t, crashStream, 2)
	dataDir := t.TempDir()
	cfg := kinesisCrashConfig(dataDir, k.URL, "")
	ms := newMetricSet(time.Now().Add(-24 * time.Hour).Truncate(time.Hour).Unix())
	ms.add("old", 8, 0)

	// Straight through: every value put is in RRD.
	k.PutRecords(t, crashStream, ms.records(30))
	d := startDaemon(t, dataDir, cfg)
	waitFor(t, 30*time.Second, "the first records in RRD", func() bool { return ms.landed(dataDir) })
	ms.check(t, dataDir)

	// A large put with 40 new series; the kill comes once a quarter of
	// their files exist and the others do not, that is while a batch is
	// being written and before its checkpoint.
	const fresh = 40
	ms.add("new", fresh, 30)
	k.PutRecords(t, crashStream, ms.records(270))
	newDir := filepath.Dir(ms.file(dataDir, len(ms.paths)-1))
	made := -1
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		es, _ := os.ReadDir(newDir)
		if made = len(es); made >= fresh/4 && made < fresh {
			d.Kill()
			break
		}
		if made == fresh {
			t.Fatalf("all %d new files appeared between two looks: no kill in the middle of the batch", fresh)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new file after 30s:\n%s", d.Log())
		}
	}
	t.Logf("killed with %d of %d new files made", made, fresh)
	_, empty := checkRRDFiles(t, dataDir, true)
	if len(empty) > 0 {
		t.Logf("empty placeholders left by the kill (store creates files in place): %v", empty)
	}

	// Back up; more records arrive; nothing is lost or doubled.
	d = startDaemon(t, dataDir, cfg)
	k.PutRecords(t, crashStream, ms.records(300))
	waitFor(t, 30*time.Second, "every record in RRD after the restart", func() bool { return ms.landed(dataDir) })
	_, h := d.Health()
	t.Logf("after the restart: %d records read, writer skipped %d points already written (the replay)",
		h.Detail.Kinesis.Stats.Records, h.Detail.Writer.Skipped)
	d.Stop()
	ms.check(t, dataDir)
	if n, _ := checkRRDFiles(t, dataDir, false); n != len(ms.paths) {
		t.Errorf("%d RRD files for %d series", n, len(ms.paths))
	}
	// Only the placeholders were moved aside, nothing with data.
	if c := corruptFiles(t, dataDir); len(c) != len(empty) || h.Detail.Writer.Corrupt != uint64(len(empty)) {
		t.Errorf("files moved aside as corrupt: %v (writer counted %d), want the %d empty placeholders",
			c, h.Detail.Writer.Corrupt, len(empty))
	}
}
