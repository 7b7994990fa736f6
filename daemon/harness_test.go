package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"graphmetrics/store/sampletest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the graphmetrics binary the end-to-end tests run, built once.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func graphmetricsBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "graphmetrics-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "graphmetrics")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// daemon is a graphmetrics process started by a test.
type daemon struct {
	t       testing.TB
	cmd     *exec.Cmd
	DataDir string
	Config  string
	UDP     string // first UDP address
	TCP     string // first TCP address
	Web     string
	mu      sync.Mutex
	log     bytes.Buffer
	exited  chan struct{}
}

// testConfig is a config on loopback with free ports, UTC and a 1 s flush.
// extra is appended (TOML tables may follow).
func testConfig(dataDir, extra string) string {
	return fmt.Sprintf(`data_dir = %q
timezone = "UTC"
log_level = "debug"
[syslog]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
[tracelog]
flush_interval = "1s"
lateness = "2s"
[web]
listen = "127.0.0.1:0"
render_workers = 1
`, dataDir) + extra
}

// startDaemon runs graphmetrics with config text cfg (see testConfig) and
// waits until it is serving.
func startDaemon(t testing.TB, dataDir, cfg string) *daemon {
	t.Helper()
	d := &daemon{t: t, DataDir: dataDir, exited: make(chan struct{})}
	d.Config = filepath.Join(t.TempDir(), "graphmetrics.toml")
	if err := os.WriteFile(d.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(graphmetricsBin(t), "-config", d.Config)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout = &lockedWriter{d: d}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.log.WriteString(line + "\n")
			d.mu.Unlock()
			if strings.Contains(line, `msg="graphmetrics running"`) {
				ready <- line
			}
		}
		d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() { d.Kill() })
	select {
	case line := <-ready:
		d.parseAddrs(line)
	case <-d.exited:
		t.Fatalf("graphmetrics exited at start:\n%s", d.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("graphmetrics not ready after 30s:\n%s", d.Log())
	}
	return d
}

var addrRE = regexp.MustCompile(`(udp|tcp)://([0-9.:]+)`)

func (d *daemon) parseAddrs(line string) {
	for _, m := range addrRE.FindAllStringSubmatch(line, -1) {
		if m[1] == "udp" && d.UDP == "" {
			d.UDP = m[2]
		}
		if m[1] == "tcp" && d.TCP == "" {
			d.TCP = m[2]
		}
	}
	if m := regexp.MustCompile(`web=(\S+)`).FindStringSubmatch(line); m != nil {
		d.Web = m[1]
	}
}

type lockedWriter struct{ d *daemon }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.log.Write(b)
}

// Log is everything the daemon printed so far.
func (d *daemon) Log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// Stop sends SIGTERM and expects exit status 0 within the shutdown bound.
func (d *daemon) Stop() {
	d.t.Helper()
	start := time.Now()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.t.Fatalf("graphmetrics did not exit 15s after SIGTERM:\n%s", d.Log())
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		d.t.Fatalf("graphmetrics exit status %d after SIGTERM:\n%s", code, d.Log())
	}
	d.t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
}

// Kill sends SIGKILL (no flush) and waits for the process to be gone.
func (d *daemon) Kill() {
	_ = d.cmd.Process.Kill()
	<-d.exited
}

// Health fetches /healthz.
func (d *daemon) Health() (int, healthBody) {
	d.t.Helper()
	resp, err := http.Get("http://" + d.Web + "/healthz")
	if err != nil {
		d.t.Fatalf("healthz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var h healthBody
	if err := json.Unmarshal(b, &h); err != nil {
		d.t.Fatalf("healthz body %q: %v", b, err)
	}
	return resp.StatusCode, h
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

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
