package web

import (
	"bufio"
	"bytes"
	"fmt"
	"graphmetrics/store/sampletest"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The browser tests run the real daemon: built from ./daemon, configured
// on loopback with free ports, fed over syslog, with users created through
// its CLI.

var (
	daemonOnce sync.Once
	daemonBin  string
	daemonErr  error
)

// daemonBinary builds graphmetrics once per test binary.
func daemonBinary(t testing.TB) string {
	t.Helper()
	daemonOnce.Do(func() {
		dir, err := os.MkdirTemp("", "graphmetrics-web-e2e")
		if err != nil {
			daemonErr = err
			return
		}
		daemonBin = filepath.Join(dir, "graphmetrics")
		out, err := exec.Command("go", "build", "-o", daemonBin, "graphmetrics/daemon").CombinedOutput()
		if err != nil {
			daemonErr = fmt.Errorf("go build graphmetrics/daemon: %v\n%s", err, out)
		}
	})
	if daemonErr != nil {
		t.Fatal(daemonErr)
	}
	return daemonBin
}

// removeDaemonBinary deletes what daemonBinary built (from TestMain).
func removeDaemonBinary() {
	if daemonBin != "" {
		os.RemoveAll(filepath.Dir(daemonBin))
	}
}

// daemonProc is a running graphmetrics process.
type daemonProc struct {
	t       testing.TB
	bin     string
	config  string
	dataDir string
	web     string // host:port
	udp     string
	env     []string // added to the daemon's environment
	cmd     *exec.Cmd
	exited  chan struct{}
	mu      sync.Mutex
	log     bytes.Buffer
}

// daemonConfig is a loopback, UTC, fast-flushing configuration; extra is
// appended (TOML tables).
func daemonConfig(dataDir, extra string) string {
	return fmt.Sprintf(`data_dir = %q
timezone = "UTC"
[syslog]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
[tracelog]
flush_interval = "1s"
lateness = "2s"
[web]
listen = "127.0.0.1:0"
render_workers = 2
[self]
interval = "1s"
`, dataDir) + extra
}

var (
	readyWebRE = regexp.MustCompile(`web=(\S+)`)
	readyUDPRE = regexp.MustCompile(`udp://([0-9.:]+)`)
)

// newDaemon writes the configuration; start runs the daemon.
func newDaemon(t testing.TB, extra string) *daemonProc {
	t.Helper()
	d := &daemonProc{t: t, bin: daemonBinary(t), dataDir: t.TempDir(), exited: make(chan struct{})}
	d.config = filepath.Join(t.TempDir(), "graphmetrics.toml")
	if err := os.WriteFile(d.config, []byte(daemonConfig(d.dataDir, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// addUser runs `graphmetrics user -config FILE add NAME`, the password on
// stdin.
func (d *daemonProc) addUser(name, pw string) {
	d.t.Helper()
	cmd := exec.Command(d.bin, "user", "-config", d.config, "add", name)
	cmd.Stdin = strings.NewReader(pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("user add %s: %v\n%s", name, err, out)
	}
}

// start runs the daemon and waits for its "running" line.
func (d *daemonProc) start() {
	t := d.t
	t.Helper()
	d.cmd = exec.Command(d.bin, "-config", d.config)
	d.cmd.Env = append(os.Environ(), d.env...)
	d.cmd.Stdout = &lockedLog{d}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
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
	t.Cleanup(d.stop)
	select {
	case line := <-ready:
		if m := readyWebRE.FindStringSubmatch(line); m != nil {
			d.web = m[1]
		}
		if m := readyUDPRE.FindStringSubmatch(line); m != nil {
			d.udp = m[1]
		}
		if d.web == "" || d.udp == "" {
			t.Fatalf("no web or UDP address in %q", line)
		}
	case <-d.exited:
		t.Fatalf("graphmetrics exited at start:\n%s", d.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("graphmetrics not ready after 30 s:\n%s", d.output())
	}
}

// stop ends the daemon with SIGTERM (SIGKILL after 15 s).
func (d *daemonProc) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	if d.t.Failed() {
		d.t.Logf("daemon output:\n%s", d.output())
	}
}

func (d *daemonProc) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

type lockedLog struct{ d *daemonProc }

func (l *lockedLog) Write(b []byte) (int, error) {
	l.d.mu.Lock()
	defer l.d.mu.Unlock()
	return l.d.log.Write(b)
}

// sendSyslogPython sends lines through Python's SysLogHandler over UDP, as
// a Zope server's logging configuration does, each with prefix (the
// "customer instance " of SPEC §2.1).
func sendSyslogPython(t testing.TB, addr, prefix string, lines []string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`
import logging, logging.handlers, sys, time
h = logging.handlers.SysLogHandler(address=(%q, %s))
log = logging.getLogger("zc.tracelog")
log.addHandler(h)
log.setLevel(logging.INFO)
log.propagate = False
for i, line in enumerate(sys.stdin):
    log.info("%%s", %q + line.rstrip("\n"))
    if i %% 50 == 49:
        time.sleep(0.01)  # UDP: do not outrun the receive buffer
h.close()
`, host, port, prefix)
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python SysLogHandler: %v\n%s", err, out)
	}
}

// sampleLines are the shared sample's lines.
func sampleLines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(sampletest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// rrdLast is the time of a file's last update (rrdtool last).
func rrdLast(file string) (int64, error) {
	out, err := exec.Command("rrdtool", "last", file).Output()
	if err != nil {
		return 0, err
	}
	var n int64
	_, err = fmt.Sscan(string(out), &n)
	return n, err
}

// waitUntil polls cond every 100 ms until it holds or timeout passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
