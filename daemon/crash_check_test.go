package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/histstore"
	"graphmetrics/store/urlstore"
)

// Checks of the crash tests: the kill itself, and what is on disk after.

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

// checkRRDFiles runs `rrdtool info` on every RRD file under dataDir, also
// right after a kill: a file torn by it, or left empty by a create cut
// short, fails. It returns the number of files, not counting _self/.
func checkRRDFiles(t *testing.T, dataDir string) (n int) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dataDir, "rrd"), func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".rrd") {
			return err
		}
		if !strings.Contains(p, string(filepath.Separator)+"_self"+string(filepath.Separator)) {
			n++ // the daemon's own metrics appear once it has run a self interval
		}
		if out, err := exec.Command("rrdtool", "info", p).CombinedOutput(); err != nil {
			t.Errorf("rrdtool info %s: %v\n%s", p, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
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
		// The app-time histograms too: no second counted twice or lost.
		hrel := strings.TrimSuffix(strings.TrimPrefix(rel, filepath.Join("rrd", "tracelog")+string(filepath.Separator)), ".rrd")
		for _, step := range []int64{1, 60} {
			ha, hb := histText(t, filepath.Join(histstore.Root(ref), hrel), from, to, step), histText(t, filepath.Join(histstore.Root(dataDir), hrel), from, to, step)
			if ha == "" || ha != hb {
				t.Errorf("%s: app-time histograms at %d s differ from the import's (or are empty):\n  import: %.300s\n  daemon: %.300s", hrel, step, ha, hb)
			}
		}
		// And the URL statistics, minute by minute.
		el := strings.Split(filepath.ToSlash(hrel), "/")
		k := store.Key{Host: el[0], Customer: el[1], Instance: el[2]}
		ua, ub := urlText(t, ref, k, from, to), urlText(t, dataDir, k, from, to)
		if !strings.Contains(ua, "/site/page") || ua != ub {
			t.Errorf("%s: URL statistics differ from the import's (or are empty):\n  import: %.300s\n  daemon: %.300s", hrel, ua, ub)
		}
	}
}

// urlText prints an instance's URL statistics, minute by minute.
func urlText(t *testing.T, dataDir string, k store.Key, from, to int64) string {
	t.Helper()
	var b strings.Builder
	for m := from - from%60; m < to; m += 60 {
		rows, err := urlstore.Table(dataDir, []store.Key{k}, m, m+60)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(rows, func(x, y *urlstore.Row) int { return strings.Compare(x.URL, y.URL) })
		for _, r := range rows {
			fmt.Fprintf(&b, "%d %s %d/%d/%d %d %.6f %x\n", m, r.URL, r.Count, r.Errors, r.Hangs, int64(math.Round(r.TotalS*1e6)), r.MaxS, r.Hist.AppendEncode(nil))
		}
	}
	return b.String()
}

// histText prints an instance's app-time histograms, row by row.
func histText(t *testing.T, dir string, from, to, step int64) string {
	t.Helper()
	sr, err := histstore.ReadDir(dir, from, to, step)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, h := range sr.H {
		if h != nil {
			fmt.Fprintf(&b, "%d:%x ", sr.Start+int64(i)*sr.Step, h.AppendEncode(nil))
		}
	}
	return b.String()
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
