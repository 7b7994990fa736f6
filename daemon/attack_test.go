package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
	"graphmetrics/store"
)

// Attacks of issue 11 end to end: the real daemon, real sockets. Each test
// replays a row of the table and failed on the code before it.

// attackConfig is daemontest.Config with more [syslog] and [tracelog] keys.
func attackConfig(dataDir, syslog, tracelog string) string {
	return daemontest.ConfigKeys(dataDir, syslog, tracelog, "")
}

// sendUDP sends each message as one datagram from 127.0.0.1.
func sendUDP(t *testing.T, addr string, msgs []string) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, m := range msgs {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if i%200 == 199 {
			time.Sleep(time.Millisecond) // pace: the point is not to overrun the socket
		}
	}
}

func stamp(tm time.Time) string { return tm.UTC().Format("2006-01-02 15:04:05.000000") }

func tracelogFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dataDir, "rrd", "tracelog"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".rrd") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func syslogInput(t *testing.T, d *daemon) inputStatus {
	t.Helper()
	_, h := d.Health()
	return h.Detail.Inputs["syslog"]
}

// awayFromMinuteEnd waits, if needed, so that a burst sent now falls in
// one minute of the new-instance limit.
func awayFromMinuteEnd() {
	if left := time.Minute - time.Duration(time.Now().UnixNano())%time.Minute; left < 10*time.Second {
		time.Sleep(left)
	}
}

// Row 1 and the PROCID runaway: 400 datagrams, each a valid record of a
// new instance. Before: 400 files (1.16 GB with default archives). Now
// new_instances_per_minute of them, the rest counted and logged; and
// after a restart the instances that have files are known, never refused.
func TestAttackNewInstances(t *testing.T) {
	data := t.TempDir()
	cfg := attackConfig(data, "", `new_instances_per_minute = 50
archives = ["AVERAGE:1s:10m"]`)
	d := startDaemon(t, data, cfg)
	awayFromMinuteEnd()
	now := time.Now()
	var msgs []string
	for i := range 400 {
		msgs = append(msgs, fmt.Sprintf("<14>evil i%d A 1 %s 200 1", i, stamp(now)))
	}
	sendUDP(t, d.UDP, msgs)
	testwait.For(t, 20*time.Second, "400 records handled", func() bool {
		in := syslogInput(t, d)
		return in.Aggregator.Records+in.Aggregator.RefusedInstances == 400
	})
	if in := syslogInput(t, d); in.Aggregator.RefusedInstances != 350 || in.Aggregator.Instances != 50 {
		t.Fatalf("refused %d (want 350), instances %d (want 50)", in.Aggregator.RefusedInstances, in.Aggregator.Instances)
	}
	testwait.For(t, 20*time.Second, "50 files", func() bool { return len(tracelogFiles(t, data)) == 50 })
	if !strings.Contains(d.Log(), `msg="new instance refused: its records are dropped"`) ||
		!strings.Contains(d.Log(), "customer=evil instance=i") {
		t.Errorf("no log line naming a refused instance:\n%s", d.Log())
	}
	d.Stop()

	// A restart: the 50 have files, so they are known; of new ones, only
	// new_instances_per_minute get in.
	cfg = attackConfig(data, "", `new_instances_per_minute = 5
archives = ["AVERAGE:1s:10m"]`)
	d = startDaemon(t, data, cfg)
	// A graceful stop keeps the syslog aggregator's state (state/syslog.state),
	// so the instances live at the stop are live again.
	restored := syslogInput(t, d).Aggregator.Instances
	awayFromMinuteEnd()
	msgs = msgs[:0]
	now = time.Now()
	for i := range 60 {
		msgs = append(msgs, fmt.Sprintf("<14>evil i%d A 2 %s 200 1", i, stamp(now)))
	}
	files := map[string]bool{}
	for _, f := range tracelogFiles(t, data) {
		files[filepath.Base(f)] = true
	}
	known := 0
	for i := range 60 {
		if files[fmt.Sprintf("i%d.rrd", i)] {
			known++
		}
	}
	sendUDP(t, d.UDP, msgs)
	testwait.For(t, 20*time.Second, "60 records handled", func() bool {
		in := syslogInput(t, d)
		return in.Aggregator.Records+in.Aggregator.RefusedInstances == 60
	})
	in := syslogInput(t, d)
	admitted := min(5, 60-known) // new instances a minute
	wantIn, wantRefused := max(int(restored), known)+admitted, uint64(60-known-admitted)
	if in.Aggregator.Instances != int64(wantIn) || in.Aggregator.RefusedInstances != wantRefused {
		t.Errorf("after restart: instances %d (want %d: %d restored, %d known + %d new), refused %d (want %d)",
			in.Aggregator.Instances, wantIn, restored, known, admitted, in.Aggregator.RefusedInstances, wantRefused)
	}
	d.Stop()
}

// Row 1, memory: 30,000 datagrams, each a new instance, then quiet.
// Before, they made 30,000 files and RSS stayed at its flood size (the
// writer's per-file map was never pruned). Now the limits let 600 in, once
// idle the aggregator and the writer forget them, and the daemon hands the
// memory back: RSS returns within 10% of its baseline. Both sides are the
// least of several samples, so a garbage collection that happens to be due
// does not decide.
func TestAttackFloodMemory(t *testing.T) {
	data := t.TempDir()
	cfg := attackConfig(data, "", `idle_timeout = "3s"
archives = ["AVERAGE:1s:1m"]`)
	d := startDaemon(t, data, cfg)
	// Warm up with a real instance, so the baseline has every part running.
	sendUDP(t, d.UDP, []string{fmt.Sprintf("<14>acme app-8080 A 1 %s 200 1", stamp(time.Now()))})
	testwait.For(t, 20*time.Second, "the first file", func() bool { return len(tracelogFiles(t, data)) == 1 })
	testwait.For(t, 30*time.Second, "the warm-up instance forgotten", func() bool {
		return syslogInput(t, d).Aggregator.Instances == 0
	})
	least := func(rss func() int64) int64 {
		m := rss()
		for range 9 {
			time.Sleep(200 * time.Millisecond)
			m = min(m, rss())
		}
		return m
	}
	base, baseAnon := least(d.RSS), least(d.RSSAnon)

	const n = 30000
	awayFromMinuteEnd()
	now := time.Now()
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf("<14>evil i%d A 1 %s 200 1", i, stamp(now))
	}
	sendUDP(t, d.UDP, msgs)
	testwait.For(t, 60*time.Second, "the flood handled", func() bool {
		in := syslogInput(t, d)
		return in.Aggregator.Records+in.Aggregator.RefusedInstances >= n*9/10
	})
	peak := d.RSS()
	testwait.For(t, 60*time.Second, "the memory handed back", func() bool {
		return strings.Contains(d.Log(), "flood of instances over: memory returned to the OS")
	})
	after, afterAnon := least(d.RSS), least(d.RSSAnon)
	files := len(tracelogFiles(t, data))
	t.Logf("RSS: baseline %.1f MB, flood %.1f MB, after %.1f MB (anonymous: %.1f → %.1f MB); %d files",
		mb(base), mb(peak), mb(after), mb(baseAnon), mb(afterAnon), files)
	if float64(after) > 1.1*float64(base) {
		t.Errorf("RSS %.1f MB did not return within 10%% of its baseline %.1f MB (flood: %.1f MB)", mb(after), mb(base), mb(peak))
	}
	if files < 600 || files > 601 {
		t.Errorf("%d files, want 600 or 601 (new_instances_per_minute 600, and the warm-up)", files)
	}
	d.Stop()
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// Row 2: data_dir 0755 and graphmetrics.db 0644 let any local user copy
// the sessions table. Now data_dir and everything under it is owner-only;
// looser modes found at start are tightened with a log line.
func TestAttackDataDirModes(t *testing.T) {
	data := filepath.Join(t.TempDir(), "var")
	if err := os.MkdirAll(filepath.Join(data, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "state", "old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, data, attackConfig(data, "", ""))
	d.AddUser("eve", "a long enough password")
	sendUDP(t, d.UDP, []string{fmt.Sprintf("<14>acme app-8080 A 1 %s 200 1", stamp(time.Now()))})
	testwait.For(t, 20*time.Second, "the RRD file", func() bool { return len(tracelogFiles(t, data)) == 1 })
	if !strings.Contains(d.Log(), "data_dir was readable by others: made owner-only") {
		t.Errorf("no log line for the tightened modes:\n%s", d.Log())
	}
	seen := map[string]bool{}
	filepath.WalkDir(data, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil
		}
		seen[filepath.Base(p)] = true
		want := os.FileMode(0o600)
		if e.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm()&0o077 != 0 || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	for _, f := range []string{"graphmetrics.db", "graphmetrics.db-wal", "graphmetrics.db-shm", "app-8080.rrd", "old"} {
		if !seen[f] {
			t.Errorf("%s not found under data_dir", f)
		}
	}
	d.Stop()
}

// Rows 5 and 10 through the daemon: request ids of 50 KB are bad records
// (before: kept in memory, RSS to 406 MB for 4,000 of them); instances
// "coll:x" and "coll_x" get two files and both keep their seconds (before:
// one file, and one of them refused).
func TestAttackRequestIDsAndNames(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data, attackConfig(data, "", ""))
	now := time.Now()
	var msgs []string
	for i := range 200 {
		msgs = append(msgs, fmt.Sprintf("<14>acme app-8080 B %d%s %s GET /", i, strings.Repeat("r", 50<<10), stamp(now)))
	}
	msgs = append(msgs,
		fmt.Sprintf("<14>coll coll:x A 1 %s 200 1", stamp(now)),
		fmt.Sprintf("<14>coll coll_x A 1 %s 200 1", stamp(now)))
	sendUDP(t, d.UDP, msgs)
	testwait.For(t, 20*time.Second, "two files", func() bool { return len(tracelogFiles(t, data)) == 2 })
	in := syslogInput(t, d)
	if in.Rejected["bad_record"] != 200 {
		t.Errorf("bad_record %d, want 200", in.Rejected["bad_record"])
	}
	d.Stop()
	sec := now.Unix()
	for _, inst := range []string{"coll:x", "coll_x"} {
		f := store.TracelogFile(data, store.Key{Host: "127.0.0.1", Customer: "coll", Instance: inst})
		rows := rrdFetch(t, f, "AVERAGE", 1, sec-5, sec+5)
		if got := rows[sec+1]["requests"]; got != 1 {
			t.Errorf("%s: requests %v in its second, want 1", inst, got)
		}
	}
}
