package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/kinesis/kinesalitetest"
	"graphmetrics/parser/testwait"
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
				// Seconds into the minute vary, 1 to 59: the point is the
				// row at the minute's end (a point stamped on the boundary
				// would be the row at its start, rrdtool update's rule).
				ts := time.Unix(ms.base+int64(i)*60+1+int64(s%59), 0)
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

// files counts the RRD files under the stream's directory (the daemon's
// own metrics under _self are not counted: they appear after self.interval).
func (ms *metricSet) files(dataDir string) (n int) {
	filepath.WalkDir(filepath.Join(dataDir, "rrd", "metrics", crashStream), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".rrd") {
			n++
		}
		return nil
	})
	return n
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
	testwait.For(t, 30*time.Second, "the first records in RRD", func() bool { return ms.landed(dataDir) })
	ms.check(t, dataDir)

	// A large put with 40 new series; the kill comes once a quarter of
	// their files exist and the others do not, that is while a batch is
	// being written and before its checkpoint. The other three quarters
	// are held back, not raced: a plain file stands where their agent's
	// directory goes, so their files cannot be made, the batch cannot be
	// synced, and its checkpoint cannot be written until it is removed.
	const fresh = 40
	firstNew := len(ms.paths)
	ms.add("new", fresh/4, 30)
	ms.add("held", fresh-fresh/4, 30)
	newDir := filepath.Dir(ms.file(dataDir, firstNew))
	blocker := filepath.Dir(filepath.Dir(ms.file(dataDir, len(ms.paths)-1)))
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	k.PutRecords(t, crashStream, ms.records(270))
	testwait.For(t, 30*time.Second, "a quarter of the new files made, the rest failing", func() bool {
		// Finished files only: a create in progress is a hidden temporary
		// name in the same directory.
		made, _ := filepath.Glob(filepath.Join(newDir, "[^.]*.rrd"))
		_, h := d.Health()
		return len(made) == fresh/4 && h.Detail.Writer.Errors > 0
	})
	d.Kill()
	checkRRDFiles(t, dataDir)
	if n := ms.files(dataDir); n != len(ms.paths)-(fresh-fresh/4) {
		t.Fatalf("killed with %d of the series' RRD files, want %d", n, len(ms.paths)-(fresh-fresh/4))
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}

	// Back up; more records arrive; nothing is lost or doubled.
	d = startDaemon(t, dataDir, cfg)
	k.PutRecords(t, crashStream, ms.records(300))
	testwait.For(t, 30*time.Second, "every record in RRD after the restart", func() bool { return ms.landed(dataDir) })
	_, h := d.Health()
	t.Logf("after the restart: %d records read, writer skipped %d points already written (the replay)",
		h.Detail.Kinesis.Stats.Records, h.Detail.Writer.Skipped)
	d.Stop()
	ms.check(t, dataDir)
	checkRRDFiles(t, dataDir)
	if n := ms.files(dataDir); n != len(ms.paths) {
		t.Errorf("%d RRD files for %d series", n, len(ms.paths))
	}
	// A kill mid-create leaves no broken file: nothing is moved aside.
	if c := corruptFiles(t, dataDir); len(c) != 0 || h.Detail.Writer.Corrupt != 0 {
		t.Errorf("files moved aside as corrupt: %v (writer counted %d), want none", c, h.Detail.Writer.Corrupt)
	}
}

// The crash test under load (issue 7): a directory file appended at a
// steady rate, a Kinesis stream being filled and direct syslog over UDP,
// all at once; SIGKILL right as a flush hands its buckets to the writer,
// restart on the same data_dir, go on, stop. Then every RRD file is
// readable; the tailed file's seconds equal an import of the same file;
// the Kinesis values are exact; direct syslog lost only requests of the
// seconds within flush_interval + lateness before its newest record at the
// kill.
func TestCrashUnderLoad(t *testing.T) {
	const (
		flushWindow = 3 * time.Second // testConfig: flush_interval 1s + lateness 2s, of event time
		tailInsts   = 12
		syslogInsts = 40
	)
	k := kinesalitetest.Start(t)
	kinesalitetest.SetAWSEnv(t)
	k.CreateStream(t, crashStream, 2)
	logs := t.TempDir()
	tailFile := filepath.Join(logs, "trace-crash.log")
	dataDir := t.TempDir()
	cfg := kinesisCrashConfig(dataDir, k.URL,
		fmt.Sprintf("[tail]\npaths = [%q]\npoll_interval = \"100ms\"\n", filepath.Join(logs, "trace-*.log")))

	ms := newMetricSet(time.Now().Add(-24 * time.Hour).Truncate(time.Hour).Unix())
	ms.add("fleet", 12, 0)
	stopKinesis := startKinesisProducer(t, k, ms)
	stopTail := startDirWriter(t, tailFile, tailInsts, 6)
	defer stopKinesis()
	defer stopTail()
	sent := &syslogCounts{requests: map[string]map[int64]int{}}

	d := startDaemon(t, dataDir, cfg)
	started := time.Now()
	stopSyslog := startSyslogSender(t, d.UDP, syslogInsts, 10, sent)
	var sysFiles []string
	for i := range syslogInsts {
		sysFiles = append(sysFiles, filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", fmt.Sprint("sys-", i, ".rrd")))
	}
	testwait.For(t, 20*time.Second, "every syslog instance's file", func() bool {
		for _, f := range sysFiles {
			if _, err := os.Stat(f); err != nil {
				return false
			}
		}
		return true
	})
	time.Sleep(2*time.Second + time.Duration(rand.Int64N(int64(3*time.Second))))
	var newest int64 // the last syslog record's time when it was killed
	killAt, before := killMidFlush(t, d, sysFiles, func() {
		sent.mu.Lock()
		newest = sent.newest
		sent.mu.Unlock()
	})
	stopSyslog()
	t.Logf("killed %v after the start, as the syslog input handed over a flush; writer before: %+v",
		killAt.Sub(started).Round(time.Millisecond), before.Detail.Writer)
	if in := before.Detail.Inputs; in["tail"].Lines == 0 || in["syslog"].Lines == 0 || before.Detail.Kinesis.Stats.Records == 0 {
		t.Fatalf("an input had nothing before the kill: %+v", before.Detail)
	}
	// The instances send in step: a flush cut short leaves their files
	// ending at different seconds.
	lasts := map[int64]int{}
	for _, f := range sysFiles {
		lasts[rrdLastUpdate(f)]++
	}
	t.Logf("last updates of the syslog files after the kill (time: files): %v", lasts)
	checkRRDFiles(t, dataDir)

	time.Sleep(time.Second) // the file and the stream grow while it is down
	d = startDaemon(t, dataDir, cfg)
	restartAt := time.Now()
	stopSyslog = startSyslogSender(t, d.UDP, syslogInsts, 10, sent)
	time.Sleep(5 * time.Second)
	stopSyslog()
	stopTail()
	stopKinesis()
	testwait.For(t, 30*time.Second, "the inputs caught up", func() bool {
		_, h := d.Health()
		return ms.landed(dataDir) && h.Detail.Tail != nil && h.Detail.Tail.CaughtUp && h.Detail.Tail.Backlog == 0
	})
	d.Stop()

	if n := checkRRDFiles(t, dataDir); n < tailInsts+syslogInsts+len(ms.paths) {
		t.Errorf("%d RRD files", n)
	}
	t.Run("kinesis", func(t *testing.T) { ms.check(t, dataDir) })
	t.Run("tail", func(t *testing.T) { checkTailAgainstImport(t, dataDir, tailFile, tailInsts) })
	// Lost: the seconds not final yet (within lateness of the newest
	// record) and those final since the last complete flush; the margin
	// is the running flush's own time and the sender's 100 ms steps.
	lossFrom := time.UnixMicro(newest).Add(-flushWindow - 250*time.Millisecond)
	t.Run("syslog", func(t *testing.T) { checkSyslogLoss(t, dataDir, sent, lossFrom, restartAt) })
}
