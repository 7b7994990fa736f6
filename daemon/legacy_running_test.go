package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// legacyDir makes a directory of copies of the legacy file src, one per
// instance name, for host 127.0.0.1 and customer acme.
func legacyDir(t testing.TB, src string, insts []string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, in := range insts {
		if err := os.WriteFile(filepath.Join(dir, "127.0.0.1__acme__"+in+".rrd"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tracelogPath(dataDir, inst string) string {
	return filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", inst+".rrd")
}

// waitLanded waits until every second sent has been written (the files'
// last updates reach the newest second of each instance).
func waitLanded(t *testing.T, dataDir string, sent *syslogCounts) {
	t.Helper()
	sent.mu.Lock()
	want := map[string]int64{}
	for inst, secs := range sent.requests {
		for s := range secs {
			want[inst] = max(want[inst], s+1)
		}
	}
	sent.mu.Unlock()
	testwait.For(t, 60*time.Second, "every sent second in the files", func() bool {
		for inst, last := range want {
			if lastUpdate(tracelogPath(dataDir, inst)) < last {
				return false
			}
		}
		return true
	})
}

// checkExactlyOnce compares every second of every instance's file with the
// requests sent for it: none lost, none counted twice.
func checkExactlyOnce(t *testing.T, dataDir string, sent *syslogCounts) (seconds int) {
	t.Helper()
	for inst, secs := range sent.requests {
		lo, hi := int64(math.MaxInt64), int64(0)
		for s := range secs {
			lo, hi = min(lo, s), max(hi, s)
		}
		rows := rrdFetch(t, tracelogPath(dataDir, inst), "AVERAGE", 1, lo-2, hi+2)
		for s := lo; s <= hi; s++ {
			got, want := rows[s+1]["requests"], float64(secs[s])
			if math.IsNaN(got) {
				got = 0
			}
			if got != want {
				t.Fatalf("%s second %d: %v requests in the file, %v sent", inst, s, got, want)
			}
			seconds++
		}
	}
	return seconds
}

// import-legacy against a running daemon that receives syslog lines for
// the imported instances and for others throughout: every legacy minute
// and hour comes back, and every second sent is in the files exactly once.
func TestImportLegacyRunning(t *testing.T) {
	// The history ends an hour before the live data's hour: the writer
	// pads a new file's first hour with zeros before the first live
	// second, and history goes only before those.
	now := time.Now().Unix()
	end := now - now%3600 - 3600
	src := filepath.Join(t.TempDir(), "h__c__i.rrd")
	makeLegacyFile(t, src, end, 366*1440)
	// Many live instances with history, each sending a request a second:
	// the writer gets rows for files while they are leased.
	const live, liveOnly, historyOnly = 250, 20, 50
	var insts []string
	for i := range live {
		insts = append(insts, fmt.Sprint("sys-", i)) // the sender's names
	}
	for i := range historyOnly {
		insts = append(insts, fmt.Sprint("old-", i))
	}
	dir := legacyDir(t, src, insts)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, ""))
	sent := &syslogCounts{requests: map[string]map[int64]int{}}
	stopSender := startSyslogSender(t, d.UDP, live+liveOnly, 1, sent)
	defer stopSender()
	// Some files exist before their import (live first), others are
	// created by it while their seconds wait.
	testwait.For(t, 20*time.Second, "a first live file", func() bool {
		_, err := os.Stat(tracelogPath(dataDir, "sys-0"))
		return err == nil
	})
	sent.mu.Lock()
	before := sent.records
	sent.mu.Unlock()
	out := runLegacyCmd(t, d.Config, dir)
	sent.mu.Lock()
	during := sent.records - before
	sent.mu.Unlock()
	if !strings.Contains(out, "the import runs in it") ||
		!regexp.MustCompile(fmt.Sprintf(`import-legacy done" files=%d imported=%d unchanged=0 skipped=0 minutes=[1-9]`, len(insts), len(insts))).MatchString(out) {
		t.Fatalf("import through the daemon:\n%s", out)
	}
	_, h := d.Health()
	w := h.Detail.Writer
	t.Logf("%d syslog records sent during the import; writer: %d leases, %d rows waited for a release", during, w.Leases, w.LeaseHeld)
	if during == 0 || w.Leases < uint64(len(insts)) || w.LeaseHeld == 0 {
		t.Fatalf("no traffic during the import, or files not leased: %d records, %+v", during, w)
	}
	// Live seconds continue after the import.
	testwait.For(t, 20*time.Second, "live seconds after the import", func() bool {
		return lastUpdate(tracelogPath(dataDir, "sys-1")) > time.Now().Unix()-5
	})
	stopSender()
	waitLanded(t, dataDir, sent)
	_, h = d.Health()
	d.Stop()
	if w := h.Detail.Writer; w.Dropped != 0 || w.Errors != 0 || w.Skipped != 0 {
		t.Errorf("writer: %+v", w)
	}
	for _, bad := range []string{"rrd write failed", "level=ERROR"} {
		if strings.Contains(d.Log(), bad) {
			t.Errorf("daemon log has %q:\n%.3000s", bad, d.Log())
		}
	}
	n := checkExactlyOnce(t, dataDir, sent)
	t.Logf("%d seconds of %d instances compared", n, len(sent.requests))
	for _, in := range []string{"sys-0", fmt.Sprint("sys-", live-1), "old-0"} {
		checkLegacyRows(t, src, tracelogPath(dataDir, in), end, end)
	}
	rrds, other := tracelogRRDs(t, dataDir)
	if len(rrds) != len(insts)+liveOnly || len(other) != 0 {
		t.Errorf("%d files, leftovers %v", len(rrds), other)
	}
	// The daemon again, idle: a second import changes nothing.
	d.Start()
	out = runLegacyCmd(t, d.Config, dir)
	if !strings.Contains(out, fmt.Sprintf("imported=0 unchanged=%d skipped=0 minutes=0 hours=0", len(insts))) {
		t.Errorf("second import:\n%s", out)
	}
	d.Stop()
}

// SIGKILL of the daemon in the middle of an import leaves every file whole;
// after a restart a second import finishes the job, and a third is a
// no-op. Stopping the CLI (SIGINT, SIGKILL) or the daemon (SIGTERM) stops
// the daemon's import, which a next run resumes.
func TestImportLegacyRunningKill(t *testing.T) {
	now := time.Now().Unix()
	end := now - now%60 - 15*60
	src := filepath.Join(t.TempDir(), "h__c__i.rrd")
	makeLegacyFile(t, src, end, 30*1440)
	const n = 150
	dir := copyLegacy(t, src, n)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, ""))

	startImport := func() (*exec.Cmd, *strings.Builder) {
		var out strings.Builder
		cmd := exec.Command(graphmetricsBin(t), "import-legacy", "-config", d.Config, dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	imported := func(k int) func() bool {
		return func() bool {
			rrds, _ := tracelogRRDs(t, dataDir)
			return len(rrds) >= k
		}
	}
	cmd, out := startImport()
	testwait.For(t, 60*time.Second, "some files imported", imported(5))
	d.Kill()
	if err := cmd.Wait(); err == nil || !strings.Contains(out.String(), "without a result") {
		t.Errorf("the CLI when the daemon was killed: %v\n%s", err, out)
	}
	rrds, _ := tracelogRRDs(t, dataDir)
	if len(rrds) == n {
		t.Fatal("the import finished before the kill; nothing tested")
	}
	checkWhole(t, rrds)

	d.Start()
	cmd, out = startImport()
	testwait.For(t, 60*time.Second, "more files imported", imported(len(rrds)+5))
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	m := regexp.MustCompile(`import-legacy done" files=(\d+)`).FindStringSubmatch(out.String())
	if err == nil || m == nil || m[1] == fmt.Sprint(n) || !strings.Contains(out.String(), "stopped by the client") {
		t.Fatalf("Ctrl-C of the CLI: %v\n%s", err, out)
	}
	rrds, _ = tracelogRRDs(t, dataDir)
	cmd, _ = startImport()
	testwait.For(t, 60*time.Second, "files imported after the Ctrl-C", imported(len(rrds)+5))
	cmd.Process.Kill()
	cmd.Wait()
	testwait.For(t, 60*time.Second, "the daemon ends an import whose CLI was killed", func() bool {
		return strings.Count(d.Log(), `msg="import-legacy done"`) == 2
	})
	// SIGTERM of the daemon ends its import first, and exits 0.
	rrds, _ = tracelogRRDs(t, dataDir)
	cmd, out = startImport()
	testwait.For(t, 60*time.Second, "files imported before the SIGTERM", imported(len(rrds)+5))
	d.Stop()
	if err := cmd.Wait(); err == nil || !strings.Contains(out.String(), "the daemon is shutting down") ||
		!strings.Contains(out.String(), `msg="import-legacy done"`) {
		t.Errorf("the CLI when the daemon stopped: %v\n%s", err, out)
	}
	done, _ := tracelogRRDs(t, dataDir)
	checkWhole(t, done)
	d.Start()

	res := runLegacyCmd(t, d.Config, dir)
	m = regexp.MustCompile(`files=(\d+) imported=(\d+) unchanged=(\d+) skipped=0`).FindStringSubmatch(res)
	if m == nil || m[1] != fmt.Sprint(n) || m[3] != fmt.Sprint(len(done)) {
		t.Fatalf("import after the kills (%d files were done):\n%s", len(done), res)
	}
	res = runLegacyCmd(t, d.Config, dir)
	if !strings.Contains(res, fmt.Sprintf("imported=0 unchanged=%d skipped=0", n)) {
		t.Errorf("third import:\n%s", res)
	}
	d.Stop()
	rrds, other := tracelogRRDs(t, dataDir)
	if len(rrds) != n || len(other) != 0 {
		t.Fatalf("%d files, leftovers %v", len(rrds), other)
	}
	checkLegacyRows(t, src, rrds[0], end, end)
	checkLegacyRows(t, src, rrds[n-1], end, end)
}
