package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// BenchmarkImportLegacy imports 1,000 legacy files of a year of minutes
// each into an empty data_dir: with the daemon stopped (import), and
// through a running daemon that ingests syslog lines for 100 of those
// instances all along (daemon: the ingest rate in the 10 s before the
// import and during it, same run); against copying the same files (copy:
// the disk's floor for reading and writing them).
//
//	go test ./daemon -run '^$' -bench ImportLegacy -benchtime 1x -count 3
func BenchmarkImportLegacy(b *testing.B) {
	now := time.Now().Unix()
	end := now - now%60 - 15*60
	src := filepath.Join(b.TempDir(), "h__c__i.rrd")
	makeLegacyFile(b, src, end, 366*1440)
	const n, live = 1000, 100
	var names []string
	for k := range n {
		if k < live {
			names = append(names, fmt.Sprint("sys-", k)) // the syslog sender's
		} else {
			names = append(names, fmt.Sprint("i", k))
		}
	}
	dir := legacyDir(b, src, names)
	b.Run("copy", func(b *testing.B) {
		for range b.N {
			dst := b.TempDir()
			if out, err := exec.Command("cp", "-r", dir, dst).CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			exec.Command("sync").Run()
		}
	})
	b.Run("import", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			dataDir := b.TempDir()
			cfg := filepath.Join(b.TempDir(), "gm.toml")
			os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)
			b.StartTimer()
			out, err := exec.Command(graphmetricsBin(b), "import-legacy", "-config", cfg, dir).CombinedOutput()
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			b.StopTimer()
			os.RemoveAll(dataDir)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("daemon", func(b *testing.B) {
		var idle, during ingest
		for range b.N {
			b.StopTimer()
			dataDir := b.TempDir()
			d := startDaemon(b, dataDir, testConfig(dataDir, ""))
			sent := &syslogCounts{requests: map[string]map[int64]int{}}
			stop := startSyslogSender(b, d.UDP, live, 10, sent)
			testwait.For(b, 30*time.Second, "every live file", func() bool {
				for k := range live {
					if _, err := os.Stat(tracelogPath(dataDir, fmt.Sprint("sys-", k))); err != nil {
						return false
					}
				}
				return true
			})
			idle = measureIngest(b, d, func() { time.Sleep(10 * time.Second) }) // a window, not a wait
			b.StartTimer()
			during = measureIngest(b, d, func() {
				out, err := exec.Command(graphmetricsBin(b), "import-legacy", "-config", d.Config, dir).CombinedOutput()
				if err != nil || !strings.Contains(string(out), fmt.Sprintf("imported=%d", n)) {
					b.Fatalf("%v\n%s", err, out)
				}
			})
			b.StopTimer()
			stop()
			d.Stop()
			os.RemoveAll(dataDir)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		b.ReportMetric(idle.lines, "lines/s-before")
		b.ReportMetric(during.lines, "lines/s-during")
		b.ReportMetric(idle.rows, "rows/s-before")
		b.ReportMetric(during.rows, "rows/s-during")
		b.ReportMetric(idle.lag, "max-lag-s-before")
		b.ReportMetric(during.lag, "max-lag-s-during")
	})
}

// ingest is what a daemon took in over a window: syslog lines and RRD rows
// a second, and the longest a live second took to reach its file (the
// wall clock less the last update of four of the live files, sampled every
// 500 ms; lateness and flush_interval make about 3 s of it).
type ingest struct{ lines, rows, lag float64 }

func measureIngest(b *testing.B, d *daemon, fn func()) ingest {
	b.Helper()
	var age float64 // the sampler's until stop returns
	var last time.Time
	stop := genLoop(func(now time.Time) {
		if now.Sub(last) < 500*time.Millisecond {
			return
		}
		last = now
		for _, k := range []int{0, 33, 66, 99} {
			lag := float64(now.UnixMilli())/1e3 - float64(lastUpdate(tracelogPath(d.DataDir, fmt.Sprint("sys-", k))))
			age = max(age, lag)
		}
	})
	_, h0 := d.Health()
	t0 := time.Now()
	fn()
	_, h1 := d.Health()
	secs := time.Since(t0).Seconds()
	stop()
	return ingest{
		lines: float64(h1.Detail.Inputs["syslog"].Lines-h0.Detail.Inputs["syslog"].Lines) / secs,
		rows:  float64(h1.Detail.Writer.Rows-h0.Detail.Writer.Rows) / secs,
		lag:   age,
	}
}
