package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// The daemon's own counters land in rrd/metrics/_self/ like any metric.
func TestSelfMetrics(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, "[self]\ninterval = \"1s\"\n"))
	start := time.Now().Unix()
	lines := sampleLines(t)
	file := filepath.Join(dataDir, "rrd", "metrics", "_self", "input", "syslog", "lines.rrd")
	// Each send is followed by a tick that writes the file (the first
	// tick only sets the baseline, so the file appears at the second).
	last := int64(-1)
	for i := 0; i < 3; i++ {
		sendPython(t, "udp", d.UDP, "acme self ", lines)
		sendPython(t, "udp", d.UDP, "", []string{"garbage without a record"})
		testwait.For(t, 10*time.Second, "a self-metrics tick written after the send", func() bool {
			if u := rrdLastUpdate(file); u > last {
				last = u
				return true
			}
			return false
		})
	}
	d.Stop()
	var sum float64
	for _, row := range rrdFetch(t, file, "AVERAGE", 1, start-1, time.Now().Unix()) {
		if v := row["value"]; !math.IsNaN(v) {
			sum += v
		}
	}
	// Rates per second over 1-second steps: their sum is the lines counted
	// after the first sample (the first tick only sets the baseline).
	if sum < 1 || sum > 3*210 {
		t.Errorf("lines/s summed over the run = %v, want between 1 and %d", sum, 3*210)
	}
	for _, p := range []string{"input/syslog/instances", "input/syslog/rejected/malformed_syslog", "input/syslog/nonexistent_time", "process/rss_bytes", "process/goroutines", "writer/flush_age_seconds", "writer/queued_rows"} {
		if _, err := os.Stat(filepath.Join(dataDir, "rrd", "metrics", "_self", p+".rrd")); err != nil {
			t.Errorf("self-metric %s: %v", p, err)
		}
	}
}

// /healthz answers 200 while every input runs, and 503 when one is down
// (here a Kinesis stream whose server does not answer).
func TestHealthzInputDown(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, ""))
	if code, h := d.Health(); code != 200 || !h.OK {
		t.Fatalf("healthy daemon: %d %+v", code, h)
	}
	d.Stop()

	dataDir = t.TempDir()
	cfg := testConfig(dataDir, `[kinesis]
endpoint = "http://127.0.0.1:9"
fail_after = "2s"
[[kinesis.streams]]
name = "down"
start = "latest"
step = "60s"
`)
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	d = startDaemon(t, dataDir, cfg)
	testwait.For(t, 30*time.Second, "healthz 503 with Kinesis down", func() bool {
		code, h := d.Health()
		return code == 503 && !h.OK && h.Detail.Kinesis != nil && !h.Detail.Kinesis.Running
	})
	d.Stop()
}
