package statsd

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/graphite"
	"graphmetrics/daemon/listen"
	"graphmetrics/store"
	"graphmetrics/store/rrdfile"
)

// etsyDir is where the Makefile installs etsy statsd 0.9.0
// (contrib/statsd/install.sh).
func etsyDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), ".deps", "statsd", "node_modules", "statsd")
	if _, err := os.Stat(filepath.Join(dir, "stats.js")); err != nil {
		t.Fatalf("etsy statsd is not installed: run contrib/statsd/install.sh (make deps): %v", err)
	}
	return dir
}

// freePort finds a port the kernel hands out; etsy statsd cannot bind 0
// and tell us. (Its management port must be some free port too.)
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startEtsy runs etsy statsd 0.9.0 with its graphite backend
// (legacyNamespace false) flushing every second to graphiteAddr; it
// returns the UDP address it reads.
func startEtsy(t *testing.T, graphiteAddr *net.TCPAddr, pcts []float64) string {
	t.Helper()
	dir := etsyDir(t)
	port := freePort(t, "udp")
	var ps []string
	for _, p := range pcts {
		ps = append(ps, strconv.FormatFloat(p, 'g', -1, 64))
	}
	cfg := fmt.Sprintf(`{ address: "127.0.0.1", port: %d, mgmt_address: "127.0.0.1", mgmt_port: %d,
  backends: ["./backends/graphite"], graphiteHost: "127.0.0.1", graphitePort: %d,
  flushInterval: 1000, percentThreshold: [%s], graphite: { legacyNamespace: false } }`,
		port, freePort(t, "tcp"), graphiteAddr.Port, strings.Join(ps, ", "))
	file := filepath.Join(t.TempDir(), "etsy.js")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "stats.js", file)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "server is up") {
				up <- true
			}
		}
		close(up)
	}()
	select {
	case ok := <-up:
		if !ok {
			t.Fatal("etsy statsd exited at start")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("etsy statsd not up after 30s")
	}
	// "server is up" comes before its asynchronous bind is done: wait for
	// the socket in the kernel's table, or the first packets are lost.
	want := fmt.Sprintf(":%04X ", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile("/proc/net/udp")
		if strings.Contains(string(b), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("etsy statsd's UDP socket never bound")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func newWriter(t *testing.T) (*rrdfile.Writer, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := rrdfile.NewWriter(rrdfile.WriterOptions{DataDir: dir, RRD: rrdfile.LibRRD{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w, dir
}

// oneSecond keeps the test's files small: 1 s rows for an hour.
var oneSecond = []graphite.Schema{{Pattern: regexp.MustCompile(`^stats\.`), Step: time.Second,
	RRAs: []store.Archive{{CF: "AVERAGE", Step: time.Second, Span: time.Hour}}}}

// startOurs runs our statsd input and flusher (1 s) into a writer.
func startOurs(t *testing.T, pcts []float64) (*Input, *Flusher, *rrdfile.Writer, string) {
	t.Helper()
	w, dir := newWriter(t)
	agg := NewAgg(10000)
	f, err := NewFlusher(FlusherOptions{Agg: agg, FlushInterval: time.Second, Percentiles: pcts, Sink: w, Schemas: oneSecond})
	if err != nil {
		t.Fatal(err)
	}
	f.Start()
	t.Cleanup(f.Close)
	in, err := New(Options{Listen: listen.Options{UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"}}, Agg: agg})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return in, f, w, dir
}

// series reads every statsd file under dir: name -> rows (time -> value,
// known rows only), with the rrdtool CLI.
func series(t *testing.T, dir string, from, to int64) map[string]map[int64]float64 {
	t.Helper()
	root := filepath.Join(dir, "rrd", "metrics", "graphite")
	out := map[string]map[int64]float64{}
	filepath.Walk(filepath.Join(root, "stats"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".rrd") {
			return nil
		}
		rel, _ := filepath.Rel(root, strings.TrimSuffix(p, ".rrd"))
		b, err := exec.Command("rrdtool", "fetch", p, "AVERAGE", "-r", "1", "-s", strconv.FormatInt(from, 10),
			"-e", strconv.FormatInt(to, 10)).CombinedOutput()
		if err != nil {
			t.Fatalf("rrdtool fetch %s: %v: %s", p, err, b)
		}
		rows := map[int64]float64{}
		for _, line := range strings.Split(string(b), "\n") {
			ts, val, ok := strings.Cut(line, ":")
			n, err1 := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			v, err2 := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if ok && err1 == nil && err2 == nil && !math.IsNaN(v) {
				rows[n] = v
			}
		}
		out[strings.ReplaceAll(rel, "/", ".")] = rows
		return nil
	})
	return out
}

func sum(rows map[int64]float64) float64 {
	var s float64
	for _, v := range rows {
		s += v
	}
	return s
}

// nonZero is the one row that holds data (timers, sets), or NaN.
func nonZero(rows map[int64]float64) (float64, int) {
	v, n := math.NaN(), 0
	for _, x := range rows {
		if x != 0 {
			v, n = x, n+1
		}
	}
	return v, n
}

// last is the value of the newest row.
func last(rows map[int64]float64) float64 {
	var lt int64
	v := math.NaN()
	for ts, x := range rows {
		if ts > lt {
			lt, v = ts, x
		}
	}
	return v
}
