package main

import (
	"fmt"
	"graphmetrics/parser/testwait"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// metricsConfig turns on every metric input on loopback with a 1 s statsd
// flush and 1 s Graphite files for collectd's and statsd's names.
const metricsConfig = `
[graphite]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
[[graphite.schemas]]
pattern = "^(collectd|stats)\\."
step = "1s"
archives = ["AVERAGE:1s:1h", "MAX:1m:1d"]
[statsd]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
flush_interval = "1s"
[metlog]
udp = ["127.0.0.1:0"]
[self]
interval = "1s"
`

// inputAddr is the address an input logged at start ("graphite",
// "statsd", "metlog"), for network "udp" or "tcp".
func inputAddr(t *testing.T, d *daemon, input, network string) string {
	t.Helper()
	m := regexp.MustCompile(input + `="?\[([^\]]*)\]`).FindStringSubmatch(d.Log())
	if m == nil {
		t.Fatalf("no %s addresses in the log:\n%s", input, d.Log())
	}
	for _, a := range strings.Fields(m[1]) {
		if s, ok := strings.CutPrefix(a, network+"://"); ok {
			return s
		}
	}
	t.Fatalf("no %s %s address in %q", input, network, m[1])
	return ""
}

// collectd (Debian collectd-core) with its write_graphite plugin sends the
// load average to our Graphite input; the series reach rrd/metrics/graphite
// with known values, /healthz counts them, /metrics search finds them.
func TestCollectdWriteGraphite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon and collectd")
	}
	dir := t.TempDir()
	d := startDaemon(t, dir, testConfig(dir, metricsConfig))
	host, port, _ := strings.Cut(inputAddr(t, d, "graphite", "tcp"), ":")
	conf := filepath.Join(t.TempDir(), "collectd.conf")
	base := t.TempDir()
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`Hostname "gm-test"
FQDNLookup false
BaseDir %q
PIDFile %q
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin load
LoadPlugin write_graphite
<Plugin write_graphite>
  <Node "graphmetrics">
    Host %q
    Port %q
    Protocol "tcp"
    Prefix "collectd."
  </Node>
</Plugin>
`, base, filepath.Join(base, "collectd.pid"), host, port)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/collectd", "-f", "-C", conf)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	file := filepath.Join(dir, "rrd/metrics/graphite/collectd/gm-test/load/load/shortterm.rrd")
	testwait.For(t, 30*time.Second, "collectd's load in RRD", func() bool {
		if _, err := os.Stat(file); err != nil {
			return false
		}
		now := time.Now().Unix()
		for _, row := range rrdFetch(t, file, "AVERAGE", 1, now-30, now) {
			if v := row["value"]; v == v { // a known value
				return true
			}
		}
		return false
	})
	_, h := d.Health()
	g := h.Detail.Metrics["graphite"]
	if !g.Running {
		t.Errorf("graphite not running in /healthz: %+v", g)
	}
	if st, ok := g.Stats.(map[string]any); !ok || st["points"].(float64) < 3 {
		t.Errorf("graphite stats in /healthz: %+v (collectd log %s)", g.Stats, out)
	}
	d.AddUser("ann", "correct horse")
	searchFinds(t, d, "collectd gm-test shortterm", "graphite/collectd/gm-test/load/load/shortterm")
}

// searchFinds logs in and searches the /metrics builder until want shows.
func searchFinds(t *testing.T, d *daemon, q, want string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	base := "http://" + d.Web
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"user": {"ann"}, "password": {"correct horse"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	r, err = c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	page := r.Request.URL.Path
	if !strings.HasPrefix(page, "/metrics/u/ann/") {
		t.Fatalf("not logged in: landed on %s", page)
	}
	testwait.For(t, 30*time.Second, "search finds "+want, func() bool {
		r, err := c.Get(base + page + "?q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return strings.Contains(string(b), want)
	})
}

// pythonStatsd drives Debian's python3-statsd: UDP and TCP clients, every
// metric type, a pipeline (several metrics per packet).
const pythonStatsd = `
import sys, statsd
host, udp, tcp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = statsd.StatsClient(host, udp, prefix='py')
for i in range(20):
    c.incr('hits')
c.incr('sampled', 3, rate=1)
for ms in (5, 10, 15, 20):
    c.timing('view', ms)
c.gauge('depth', 10)
c.gauge('depth', -3, delta=True)
c.set('users', 'ann')
c.set('users', 'bob')
with c.pipeline() as p:
    p.incr('hits', 5)
    p.timing('view', 25)
t = statsd.TCPStatsClient(host, tcp, prefix='py')
t.incr('hits', 100)
t.close()
c.incr('done')
`

// Debian's python3-statsd sends to our statsd (UDP and TCP); the flushes
// land in rrd/metrics/graphite/stats/... under etsy's names; _self counts
// the input; /metrics search finds the series.
func TestPythonStatsdClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon")
	}
	dir := t.TempDir()
	d := startDaemon(t, dir, testConfig(dir, metricsConfig))
	host, udp, _ := strings.Cut(inputAddr(t, d, "statsd", "udp"), ":")
	_, tcp, _ := strings.Cut(inputAddr(t, d, "statsd", "tcp"), ":")
	start := time.Now().Unix() - 2
	if out, err := exec.Command("/usr/bin/python3", "-c", pythonStatsd, host, udp, tcp).CombinedOutput(); err != nil {
		t.Fatalf("python3-statsd: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "rrd/metrics/graphite/stats")
	sum := func(name string) float64 {
		file := filepath.Join(root, name+".rrd")
		if _, err := os.Stat(file); err != nil {
			return -1
		}
		var s float64
		for _, row := range rrdFetch(t, file, "AVERAGE", 1, start, time.Now().Unix()+2) {
			if v := row["value"]; v == v {
				s += v
			}
		}
		return s
	}
	testwait.For(t, 20*time.Second, "the last counter flushed", func() bool { return sum("counters/py/done/count") == 1 })
	want := map[string]float64{"counters/py/hits/count": 125, "counters/py/sampled/count": 3,
		"timers/py/view/count": 5, "timers/py/view/sum": 75}
	for name, v := range want {
		if got := sum(name); got != v {
			t.Errorf("%s: sum %v, want %v", name, got, v)
		}
	}
	last := func(name string) float64 {
		v := -1.0
		for _, row := range rrdFetch(t, filepath.Join(root, name+".rrd"), "AVERAGE", 1, start, time.Now().Unix()+2) {
			if x := row["value"]; x == x {
				v = x
			}
		}
		return v
	}
	if g := last("gauges/py/depth"); g != 7 {
		t.Errorf("gauge %v, want 7", g)
	}
	testwait.For(t, 10*time.Second, "_self statsd counters", func() bool {
		_, err := os.Stat(filepath.Join(dir, "rrd/metrics/_self/statsd/lines.rrd"))
		return err == nil
	})
	_, h := d.Health()
	if s := h.Detail.Metrics["statsd"]; !s.Running || s.Stats.(map[string]any)["lines"].(float64) < 10 {
		t.Errorf("statsd in /healthz: %+v", s)
	}
	d.AddUser("ann", "correct horse")
	searchFinds(t, d, "stats timers py view upper_90", "graphite/stats/timers/py/view/upper_90")
}
