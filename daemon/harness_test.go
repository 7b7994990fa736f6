package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/store/sampletest"
)

func graphmetricsBin(t testing.TB) string { return daemontest.Bin(t) }

func testConfig(dataDir, extra string) string { return daemontest.Config(dataDir, extra) }

// daemon is a graphmetrics process, with /healthz decoded into the
// daemon's own types.
type daemon struct{ *daemontest.Daemon }

// startDaemon runs graphmetrics with config text cfg (see testConfig) and
// waits until it is serving.
func startDaemon(t testing.TB, dataDir, cfg string) *daemon {
	t.Helper()
	d := &daemon{daemontest.New(t, dataDir, cfg)}
	d.Start()
	return d
}

// Health fetches and decodes /healthz.
func (d *daemon) Health() (int, healthBody) {
	var h healthBody
	code := d.HealthInto(&h)
	return code, h
}

type healthBody struct {
	OK     bool         `json:"ok"`
	Detail healthStatus `json:"detail"`
}

// rrdFetch returns rrdtool fetch output as time -> DS -> value for the
// resolution res and range (start, end].
func rrdFetch(t testing.TB, file, cf string, res, start, end int64) map[int64]map[string]float64 {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", file, cf, "-r", strconv.FormatInt(res, 10),
		"-s", strconv.FormatInt(start, 10), "-e", strconv.FormatInt(end, 10)).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch %s: %v\n%s", file, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	names := strings.Fields(lines[0])
	rows := map[int64]map[string]float64{}
	for _, l := range lines[1:] {
		ts, vals, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		tm, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil {
			continue
		}
		row := map[string]float64{}
		for i, v := range strings.Fields(vals) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				f = nan
			}
			row[names[i]] = f
		}
		rows[tm] = row
	}
	return rows
}

func sampleLines(t testing.TB) []string { return sampletest.Lines(t) }

// sendPython sends lines through Python's SysLogHandler (see
// daemontest.SendPython).
func sendPython(t testing.TB, network, addr, prefix string, lines []string) {
	t.Helper()
	daemontest.SendPython(t, network, addr, prefix, lines)
}

// freePorts returns n ports free for TCP and UDP (daemontest.FreePorts).
func freePorts(t *testing.T, n int) []string { return daemontest.FreePorts(t, n) }

// syslogNG runs a real syslog-ng with a copy of a contrib configuration
// whose @define values are replaced by defs (see daemontest.SyslogNG).
func syslogNG(t *testing.T, conf string, defs map[string]string) {
	t.Helper()
	daemontest.SyslogNG(t, filepath.Join("..", "contrib", "syslog-ng", conf), defs)
}
