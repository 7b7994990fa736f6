package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
	"graphmetrics/store/rrdraw"
)

func runLegacyCmd(t *testing.T, cfg string, dirs ...string) string {
	t.Helper()
	out, err := exec.Command(graphmetricsBin(t), append([]string{"import-legacy", "-config", cfg}, dirs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("import-legacy: %v\n%s", err, out)
	}
	return string(out)
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// legacyView is what the charts show of a tracelog row: rpm, epm,
// waiting, max rpm, restarts (per minute).
func legacyView(r map[string]float64) [5]float64 {
	spr := math.NaN()
	if r["app_sum"] > 0 {
		spr = 60 * r["app_n"] / r["app_sum"]
	}
	return [5]float64{r["requests"] * 60, r["errors"] * 60, r["waiting"], spr, r["starts"] * 60}
}

func legacyRowVals(r map[string]float64) [5]float64 {
	return [5]float64{r["rpm"], r["epm"], r["bl"], r["spr"], r["start"]}
}

// A year of legacy minutes is imported into the 1-minute and 1-hour
// archives (AVERAGE and MAX) and reads back equal; bad files are skipped
// with a reason; a second import changes nothing; live data sent over
// syslog afterwards lands after the history.
func TestImportLegacy(t *testing.T) {
	legacyDir, dataDir := t.TempDir(), t.TempDir()
	now := time.Now().Unix()
	end := now - now%60 - 15*60
	src := filepath.Join(legacyDir, "127.0.0.1__acme__inst1.rrd")
	makeLegacyFile(t, src, end, 366*1440)
	os.WriteFile(filepath.Join(legacyDir, "zope1__acme.rrd"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(legacyDir, "zope1__acme__junk.rrd"), []byte("RRD\x000003 garbage"), 0o644)
	if out, err := exec.Command("rrdtool", "create", filepath.Join(legacyDir, "zope1__acme__other.rrd"),
		"--step", "60", "DS:rpm:GAUGE:120:U:U", "RRA:AVERAGE:0.5:1:10").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)

	out := runLegacyCmd(t, cfg, legacyDir)
	for _, want := range []string{
		`zope1__acme.rrd.*does not split`, `zope1__acme__junk.rrd.*not an RRD file of a known layout`,
		`zope1__acme__other.rrd.*data sources \[rpm\]`,
		`import-legacy done" files=3 imported=1 unchanged=0 skipped=3 minutes=1[0-9]{4} hours=[0-9]{4}`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	dst := filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", "inst1.rrd")
	checkLegacyRows(t, src, dst, end, end)
	before, _ := os.ReadFile(dst)

	out = runLegacyCmd(t, cfg, legacyDir)
	if !strings.Contains(out, "imported=0 unchanged=1 skipped=3 minutes=0 hours=0") {
		t.Errorf("second import:\n%s", out)
	}
	if after, _ := os.ReadFile(dst); string(after) != string(before) {
		t.Error("second import changed the file")
	}

	d := startDaemon(t, dataDir, testConfig(dataDir, ""))
	checkLegacyExport(t, d.LogIn("alice", "legacy-password-1", true), d.Web, src, end)
	// Next to a running daemon the import runs in it: a second import
	// there too changes nothing, and says the same.
	out = runLegacyCmd(t, cfg, legacyDir)
	if !strings.Contains(out, "the import runs in it") || !strings.Contains(out, "imported=0 unchanged=1 skipped=3 minutes=0 hours=0") ||
		!regexp.MustCompile(`zope1__acme__other.rrd.*data sources \[rpm\]`).MatchString(out) {
		t.Errorf("second import through the daemon:\n%s", out)
	}
	// Live data after the history: the sample, moved to the last minutes
	// (Python sends no host name: the host is the source address).
	// inst2 is live before its history is imported.
	sendPython(t, "udp", d.UDP, "acme inst1 ", shiftedSample(t, now-9*60))
	sendPython(t, "udp", d.UDP, "acme inst2 ", shiftedSample(t, now-9*60))
	dst2 := filepath.Join(filepath.Dir(dst), "inst2.rrd")
	for _, f := range []string{dst, dst2} {
		testwait.For(t, 20*time.Second, "live rows in "+f, func() bool { return lastUpdate(f) > end+5*60 })
	}
	d.Stop()
	checkLegacyRows(t, src, dst, end, end)
	out = runLegacyCmd(t, cfg, legacyDir)
	if !strings.Contains(out, "imported=0 unchanged=1 skipped=3") {
		t.Errorf("import after live data:\n%s", out)
	}

	// History into a file with live data: only before its first known
	// second, the live rows untouched.
	b, _ := os.ReadFile(dst2)
	f, err := rrdraw.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	firstLive := f.FirstKnown()
	liveBefore := rrdFetch(t, dst2, "AVERAGE", 60, firstLive, now)
	dir2 := t.TempDir()
	legacy2, _ := os.ReadFile(src)
	src2 := filepath.Join(dir2, "127.0.0.1__acme__inst2.rrd")
	os.WriteFile(src2, legacy2, 0o644)
	out = runLegacyCmd(t, cfg, dir2)
	if !strings.Contains(out, "imported=1") {
		t.Errorf("import into a live file:\n%s", out)
	}
	checkLegacyRows(t, src2, dst2, end, firstLive)
	for tm, r := range rrdFetch(t, dst2, "AVERAGE", 60, firstLive, now) {
		got, was := legacyView(r), legacyView(liveBefore[tm])
		for i := range got {
			if tm > firstLive && !near(got[i], was[i]) {
				t.Fatalf("live row %d changed: %v, was %v", tm, r, liveBefore[tm])
			}
		}
	}
	live := rrdFetch(t, dst, "AVERAGE", 60, end, now)
	var reqs float64
	for tm, r := range live {
		if tm > end && r["requests"] > 0 {
			reqs += r["requests"] * 60
		}
	}
	if reqs == 0 {
		t.Error("no live requests after the history")
	}
}

func lastUpdate(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	f, err := rrdraw.Parse(b)
	if err != nil {
		return 0
	}
	return f.Last
}

// shiftedSample is the sample tracelog with its times moved to start at
// from.
func shiftedSample(t *testing.T, from int64) []string {
	re := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	var first time.Time
	var out []string
	for _, l := range sampleLines(t) {
		out = append(out, re.ReplaceAllStringFunc(l, func(s string) string {
			tm, _ := time.Parse(time.DateTime, s)
			if first.IsZero() {
				first = tm
			}
			return time.Unix(from, 0).UTC().Add(tm.Sub(first)).Format(time.DateTime)
		}))
	}
	return out
}

// checkLegacyRows compares every minute and hour the new file's archives
// hold up to the legacy end (and upTo) with the legacy file's rows, through rrdtool
// fetch of both.
func checkLegacyRows(t *testing.T, src, dst string, end, upTo int64) {
	t.Helper()
	const day = 86400
	// The legacy archives, each fetched over the span only it covers.
	l1 := rrdFetch(t, src, "AVERAGE", 60, end-1600*60, end)
	l5 := rrdFetch(t, src, "AVERAGE", 300, end-2880*300, end)
	l60 := rrdFetch(t, src, "AVERAGE", 3600, end-9600*3600, end)
	minute := func(tm int64) ([5]float64, bool) {
		if r, ok := l1[tm]; ok {
			return legacyRowVals(r), true
		}
		if r, ok := l5[(tm+299)/300*300]; ok {
			return legacyRowVals(r), true
		}
		r, ok := l60[(tm+3599)/3600*3600]
		return legacyRowVals(r), ok
	}
	var compared, gaps, unknownSpr, restarts int
	for _, cf := range []string{"AVERAGE", "MAX"} {
		// Within the 1-minute archive, which ends at the file's last
		// update (else rrdtool fetch answers from the hourly one).
		from := max(end-8*day+3600, lastUpdate(dst)-8*day+120)
		for tm, r := range rrdFetch(t, dst, cf, 60, from, end) {
			want, ok := minute(tm)
			if !ok || tm > min(end, upTo) {
				continue
			}
			got := legacyView(r)
			for i := range want {
				if !near(got[i], want[i]) {
					t.Fatalf("%s %s minute %d: got %v, legacy %v", dst, cf, tm, got, want)
				}
			}
			compared++
			if math.IsNaN(want[0]) {
				gaps++
			} else if math.IsNaN(want[3]) {
				unknownSpr++
			}
			if want[4] > 0 {
				restarts++
			}
		}
		for tm, r := range rrdFetch(t, dst, cf, 3600, end-399*day, end) {
			lr, ok := l60[tm]
			if !ok || tm > min(end, upTo) {
				continue
			}
			want, got := legacyRowVals(lr), legacyView(r)
			for i := range want {
				if !near(got[i], want[i]) {
					t.Fatalf("%s hour %d: got %v, legacy %v", cf, tm, got, want)
				}
			}
			compared++
		}
	}
	if compared < 2*(8*1440+390*24)*9/10 || gaps == 0 || unknownSpr == 0 || restarts == 0 {
		t.Errorf("compared %d rows (%d gaps, %d unknown spr, %d restarts): too few", compared, gaps, unknownSpr, restarts)
	}
}
