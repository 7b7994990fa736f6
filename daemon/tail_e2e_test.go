package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// End-to-end tests of the syslog-ng directory input: the graphmetrics
// binary, a real syslog-ng with the configurations in contrib/syslog-ng,
// logger (util-linux), and rrdtool to read the files back.

func tailConfig(dataDir, glob string) string {
	return testConfig(dataDir, fmt.Sprintf("[tail]\npaths = [%q]\npoll_interval = \"100ms\"\n", glob))
}

// fetchAll is rrdtool's reading of a file's 1 s and 1 min archives.
func fetchAll(t *testing.T, file string, from, to int64) string {
	t.Helper()
	var b strings.Builder
	for _, res := range []string{"1", "60"} {
		out, err := exec.Command("rrdtool", "fetch", file, "AVERAGE", "-r", res,
			"-s", strconv.FormatInt(from, 10), "-e", strconv.FormatInt(to, 10)).CombinedOutput()
		if err != nil {
			t.Fatalf("rrdtool fetch %s: %v\n%s", file, err, out)
		}
		b.Write(out)
	}
	return b.String()
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(al), len(bl))
}

// The integration test: a real syslog-ng, run with
// contrib/syslog-ng/graphmetrics-dir.conf on loopback, gets the shared
// sample through logger and writes the directory with the "host customer
// instance" template; graphmetrics tails it. The RRD file equals, value
// for value, the one made from the same sample sent to graphmetrics
// directly, and both hold SPEC §3's values.
func TestTailSyslogNGDirectory(t *testing.T) {
	logs := t.TempDir()
	ports := freePorts(t, 2)
	syslogNG(t, "graphmetrics-dir.conf", map[string]string{
		"gm_port": ports[0], "gm_port_5424": ports[1], "gm_dir": logs,
	})
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, tailConfig(dataDir, filepath.Join(logs, "trace-*.log")))
	lines := sampleLines(t)
	sendLogger(t, "127.0.0.1:"+ports[0], "viasng : ", lines, "--udp", "--rfc3164")
	sendLogger(t, d.UDP, "direct : ", lines, "--udp", "--rfc3164")

	testwait.For(t, 20*time.Second, "the sample through both paths", func() bool {
		_, h := d.Health()
		return h.Detail.Inputs["tail"].Aggregator.Records >= uint64(len(lines)) &&
			h.Detail.Inputs["syslog"].Aggregator.Records >= uint64(len(lines))
	})
	_, h := d.Health()
	tl := h.Detail.Inputs["tail"]
	if tl.Lines != uint64(len(lines)) || h.Detail.Tail == nil || h.Detail.Tail.Lines != uint64(len(lines)) {
		t.Errorf("tail read %d lines (%+v), want %d", tl.Lines, h.Detail.Tail, len(lines))
	}
	for r, n := range tl.Rejected {
		if n != 0 {
			t.Errorf("tail rejected %d lines: %s", n, r)
		}
	}
	d.Stop()

	via, direct := findRRD(t, dataDir, "zope", "viasng"), findRRD(t, dataDir, "zope", "direct")
	if filepath.Dir(via) != filepath.Dir(direct) {
		t.Errorf("different hosts: %s, %s", via, direct)
	}
	checkSampleRRD(t, via)
	from, to := utc("2009-07-30 15:46"), utc("2009-07-30 15:56")
	if a, b := fetchAll(t, direct, from, to), fetchAll(t, via, from, to); a != b {
		t.Errorf("directory path differs from direct syslog: %s", firstDiff(a, b))
	}
	// The lines syslog-ng wrote are in the template graphmetrics reads.
	files, _ := filepath.Glob(filepath.Join(logs, "trace-*.log"))
	if len(files) != 1 {
		t.Fatalf("syslog-ng wrote %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	if !regexp.MustCompile(`^\S+ zope viasng : [A-Z-] `).MatchString(sc.Text()) {
		t.Errorf("directory line %q", sc.Text())
	}
}

// syslog-ng forwarding to graphmetrics with the contrib configurations,
// over UDP and TCP: the same values as the sample sent directly.
func TestTailSyslogNGForward(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, ""))
	lines := sampleLines(t)
	for _, tc := range []struct{ conf, target string }{
		{"graphmetrics-forward-udp.conf", d.UDP},
		{"graphmetrics-forward-tcp.conf", d.TCP},
	} {
		ports := freePorts(t, 2)
		_, targetPort, _ := strings.Cut(tc.target, ":")
		syslogNG(t, tc.conf, map[string]string{
			"gm_port": ports[0], "gm_port_5424": ports[1], "gm_target_port": targetPort,
		})
		instance := strings.TrimSuffix(strings.TrimPrefix(tc.conf, "graphmetrics-"), ".conf")
		sendLogger(t, "127.0.0.1:"+ports[0], instance+" : ", lines, "--udp", "--rfc3164")
	}
	sendLogger(t, d.UDP, "direct : ", lines, "--udp", "--rfc3164")
	testwait.For(t, 20*time.Second, "three copies of the sample", func() bool {
		_, h := d.Health()
		return h.Detail.Inputs["syslog"].Aggregator.Records >= 3*uint64(len(lines))
	})
	d.Stop()
	from, to := utc("2009-07-30 15:46"), utc("2009-07-30 15:56")
	direct := fetchAll(t, findRRD(t, dataDir, "zope", "direct"), from, to)
	for _, inst := range []string{"forward-udp", "forward-tcp"} {
		f := findRRD(t, dataDir, "zope", inst)
		checkSampleRRD(t, f)
		if got := fetchAll(t, f, from, to); got != direct {
			t.Errorf("%s differs from direct syslog: %s", inst, firstDiff(direct, got))
		}
	}
}

// genDirFile writes n directory lines of requests (B I C A E each) spread
// over insts instances at perSec requests a second, from t0 on.
func genDirFile(t *testing.T, path string, n, insts int, t0 time.Time, perSec float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 7))
	ts := func(us int64) string {
		return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.000000")
	}
	base := t0.UnixMicro()
	for i := 0; i < n/5; i++ {
		k := rng.IntN(insts)
		pre := fmt.Sprintf("host%d acme app-%d ", k%3, 8080+k)
		rid := fmt.Sprintf("0.-%d", i)
		b := base + int64(float64(i)/perSec*1e6) + rng.Int64N(1000)
		c := b + 200 + rng.Int64N(20000)
		a := c + 5000 + rng.Int64N(300000)
		status := "200 93638"
		if rng.IntN(40) == 0 {
			status = "500 120"
		}
		fmt.Fprintf(w, "%sB %s %s GET /site/page%d\n%sI %s %s 0\n%sC %s %s\n%sA %s %s %s\n%sE %s %s\n",
			pre, rid, ts(b), i%1000, pre, rid, ts(b+150), pre, rid, ts(c), pre, rid, ts(a), status, pre, rid, ts(a+100))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The crash test: graphmetrics is killed with SIGKILL in the
// middle of a large directory file (after a checkpoint, and again right
// after a restart), restarted, and finishes it. Every per-second value of
// every instance equals that of a run that was never killed.
func TestTailKillMidFile(t *testing.T) {
	logs := t.TempDir()
	const n = 3000000
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	genDirFile(t, filepath.Join(logs, "trace-20240301.log"), n, 12, t0, 400)
	glob := filepath.Join(logs, "trace-*.log")
	cfg := func(dataDir string) string {
		return fmt.Sprintf(`data_dir = %q
timezone = "UTC"
[syslog]
udp = []
tcp = []
[tail]
paths = [%q]
[tracelog]
flush_interval = "300ms"
[web]
listen = "127.0.0.1:0"
render_workers = 1
`, dataDir, glob)
	}
	tailStats := func(d *daemon) (lines, ckpts uint64, caughtUp bool) {
		_, h := d.Health()
		if h.Detail.Tail == nil {
			return 0, 0, false
		}
		return h.Detail.Inputs["tail"].Lines, h.Detail.Tail.Checkpoints, h.Detail.Tail.CaughtUp
	}
	finish := func(d *daemon) {
		testwait.For(t, 120*time.Second, "catch-up", func() bool { _, _, ok := tailStats(d); return ok })
		d.Stop()
	}

	clean := t.TempDir()
	d := startDaemon(t, clean, cfg(clean))
	finish(d)

	killed := t.TempDir()
	d = startDaemon(t, killed, cfg(killed))
	var at uint64
	testwait.For(t, 60*time.Second, "a checkpoint mid-file", func() bool {
		lines, ckpts, _ := tailStats(d)
		at = lines
		return ckpts >= 2 && lines > n/5
	})
	d.Kill()
	if at >= n {
		t.Fatalf("killed after the whole file (%d lines)", at)
	}
	t.Logf("killed after %d of %d lines", at, n)
	d = startDaemon(t, killed, cfg(killed))
	testwait.For(t, 60*time.Second, "reading again", func() bool { lines, _, _ := tailStats(d); return lines > 0 })
	d.Kill()
	d = startDaemon(t, killed, cfg(killed))
	finish(d)

	want, _ := filepath.Glob(filepath.Join(clean, "rrd", "tracelog", "*", "*", "*.rrd"))
	got, _ := filepath.Glob(filepath.Join(killed, "rrd", "tracelog", "*", "*", "*.rrd"))
	if len(want) != 12 || len(got) != len(want) {
		t.Fatalf("RRD files: clean run %d, killed run %d, want 12", len(want), len(got))
	}
	from, to := t0.Add(-time.Minute).Unix(), t0.Add(time.Duration(n/5/400+120)*time.Second).Unix()
	for _, w := range want {
		rel, _ := filepath.Rel(clean, w)
		a, b := fetchAll(t, w, from, to), fetchAll(t, filepath.Join(killed, rel), from, to)
		if a != b {
			t.Errorf("%s differs after the kills: %s", rel, firstDiff(a, b))
		}
	}
}
