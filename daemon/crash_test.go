package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	waitFor(t, 20*time.Second, "every syslog instance's file", func() bool {
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
	_, empty := checkRRDFiles(t, dataDir, true)
	if len(empty) > 0 {
		t.Logf("empty placeholders left by the kill (store creates files in place): %v", empty)
	}

	time.Sleep(time.Second) // the file and the stream grow while it is down
	d = startDaemon(t, dataDir, cfg)
	restartAt := time.Now()
	stopSyslog = startSyslogSender(t, d.UDP, syslogInsts, 10, sent)
	time.Sleep(5 * time.Second)
	stopSyslog()
	stopTail()
	stopKinesis()
	waitFor(t, 30*time.Second, "the inputs caught up", func() bool {
		_, h := d.Health()
		return ms.landed(dataDir) && h.Detail.Tail != nil && h.Detail.Tail.CaughtUp && h.Detail.Tail.Backlog == 0
	})
	d.Stop()

	if n, _ := checkRRDFiles(t, dataDir, false); n < tailInsts+syslogInsts+len(ms.paths) {
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

// killMidFlush watches the modification times of files that every flush
// of an input writes, and sends SIGKILL once some of them have been
// written since the last complete flush and others not yet: the writer is
// in the middle of that flush (or of an update: librrd sets the time as it
// begins writing). It returns the time of the kill and the
// last health report before it.
func killMidFlush(t *testing.T, d *daemon, files []string, onKill func()) (time.Time, healthBody) {
	t.Helper()
	_, h := d.Health()
	mtimes := func() []time.Time {
		out := make([]time.Time, len(files))
		for i, f := range files {
			if fi, err := os.Stat(f); err == nil {
				out[i] = fi.ModTime()
			}
		}
		return out
	}
	// Armed once a whole flush has been seen: the first look may fall
	// inside one, whose rest would pass for a partial flush.
	base, armed := mtimes(), false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		now := mtimes()
		moved := 0
		for i := range now {
			if !now[i].Equal(base[i]) {
				moved++
			}
		}
		switch {
		case moved == len(files):
			base, armed = now, true
			_, h = d.Health()
		case moved > 0 && armed:
			at := time.Now()
			onKill()
			d.Kill()
			t.Logf("killed with %d of %d files of a flush written", moved, len(files))
			return at, h
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatalf("no flush in 10s:\n%s", d.Log())
	return time.Time{}, h
}

// checkTailAgainstImport imports the complete tailed file into a fresh
// data_dir with `graphmetrics import -dir` and compares, with rrdtool
// fetch, every second and minute of each instance with the daemon's.
func checkTailAgainstImport(t *testing.T, dataDir, file string, insts int) {
	ref := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	if err := os.WriteFile(cfg, []byte(testConfig(ref, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	runImportCmd(t, cfg, "-dir", file)
	want, _ := filepath.Glob(filepath.Join(ref, "rrd", "tracelog", "*", "acme", "app-*.rrd"))
	if len(want) != insts {
		t.Fatalf("import made %d files, want %d", len(want), insts)
	}
	var last int64
	for _, w := range want {
		last = max(last, rrdLastUpdate(w))
	}
	from, to := last-600, last+60 // the whole run
	for _, w := range want {
		rel, _ := filepath.Rel(ref, w)
		a, b := fetchText(t, w, from, to), fetchText(t, filepath.Join(dataDir, rel), from, to)
		if a != b {
			al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
			for i := range min(len(al), len(bl)) {
				if al[i] != bl[i] {
					t.Errorf("%s: the daemon's differs from the import's at line %d:\n  import: %s\n  daemon: %s", rel, i+1, al[i], bl[i])
					break
				}
			}
		}
	}
}

// fetchText is rrdtool fetch of a tracelog file's 1 s archive and its
// 1 min AVERAGE and MAX archives.
func fetchText(t *testing.T, file string, from, to int64) string {
	t.Helper()
	var b strings.Builder
	for _, a := range [][2]string{{"AVERAGE", "1"}, {"AVERAGE", "60"}, {"MAX", "60"}} {
		out, err := exec.Command("rrdtool", "fetch", file, a[0], "-r", a[1],
			"-s", strconv.FormatInt(from, 10), "-e", strconv.FormatInt(to, 10)).CombinedOutput()
		if err != nil {
			t.Fatalf("rrdtool fetch %s: %v\n%s", file, err, out)
		}
		b.Write(out)
	}
	return b.String()
}

// checkSyslogLoss compares, second by second, the requests in each direct
// syslog instance's file with those sent: never more; fewer only in the
// seconds that end after lossFrom and begin before the restart.
func checkSyslogLoss(t *testing.T, dataDir string, sent *syslogCounts, lossFrom, restart time.Time) {
	var total, lost float64
	var lostSecs []int64
	for inst, secs := range sent.requests {
		lo, hi := int64(math.MaxInt64), int64(0)
		for s := range secs {
			lo, hi = min(lo, s), max(hi, s)
		}
		file := filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", inst+".rrd")
		rows := rrdFetch(t, file, "AVERAGE", 1, lo-2, hi+2)
		got := func(s int64) float64 { // second s is the row at s+1
			if v := rows[s+1]["requests"]; !math.IsNaN(v) {
				return v
			}
			return 0
		}
		inWindow := func(s int64) bool { return float64(s+1) > float64(lossFrom.UnixMicro())/1e6 && s < restart.Unix() }
		var errs []string
		for s := lo; s <= hi; s++ {
			g, w := got(s), float64(secs[s])
			total += w
			switch {
			case g > w:
				errs = append(errs, fmt.Sprintf("second %d: %v requests, only %v sent", s, g, w))
			case g < w && !inWindow(s):
				errs = append(errs, fmt.Sprintf("second %d: %v requests of %v sent, outside the flush window %s..%s",
					s, g, w, lossFrom.Format("15:04:05.000"), restart.Format("15:04:05")))
			case g < w:
				lost += w - g
				lostSecs = append(lostSecs, s)
			}
		}
		if len(errs) == 0 {
			continue
		}
		// Name the known way to get here: a kill inside librrd's update
		// leaves the archive's row pointer advanced and its last update
		// time not, so the rows written before read one step early.
		// (The torn second itself then reads as a gap.)
		checked, off := 0, 0
		for s := lo - 1; s < hi && !inWindow(s) && s < restart.Unix(); s++ {
			checked++
			if got(s) != float64(secs[s+1]) {
				off++
			}
		}
		early := checked > 2 && off <= 1
		if early {
			errs = append(errs, "the file's rows are one second early: an update torn by the kill (librrd advanced the row pointer, not last_update)")
		}
		var seq []string
		for s := lo - 1; s <= hi; s++ {
			seq = append(seq, fmt.Sprintf("%d:%v/%d", s%100, got(s), secs[s]))
		}
		errs = append(errs, "second mod 100: in file/sent: "+strings.Join(seq, " "))
		t.Errorf("%s:\n  %s", file, strings.Join(errs, "\n  "))
	}
	slices.Sort(lostSecs)
	t.Logf("direct syslog: %v requests sent, %v lost, in seconds %v (window from %s)",
		total, lost, slices.Compact(lostSecs), lossFrom.Format("15:04:05.000"))
	if total == 0 {
		t.Error("no syslog requests sent")
	}
}
