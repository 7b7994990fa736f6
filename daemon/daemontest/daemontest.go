// Package daemontest runs the real graphmetrics binary for end-to-end tests:
// built once from ./daemon, configured on loopback with free ports, fed by
// real syslog clients. The daemon's own tests and the web browser tests
// share it.
package daemontest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Bin builds graphmetrics once per test binary.
func Bin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end (runs the daemon binary): skipped with -short")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "graphmetrics-bin")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "graphmetrics")
		out, err := exec.Command("go", "build", "-o", binPath, "graphmetrics/daemon").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build graphmetrics/daemon: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// RemoveBin deletes what Bin built; call it from TestMain after m.Run.
func RemoveBin() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// Config is a loopback configuration in UTC with free ports and a 1 s
// flush; extra is appended (TOML tables may follow).
func Config(dataDir, extra string) string { return ConfigKeys(dataDir, "", "", extra) }

// ConfigKeys is Config with more keys (lines) in [syslog] and [tracelog].
func ConfigKeys(dataDir, syslog, tracelog, extra string) string {
	return fmt.Sprintf(`data_dir = %q
timezone = "UTC"
log_level = "debug"
[syslog]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
%s
[tracelog]
flush_interval = "1s"
lateness = "2s"
%s
[web]
listen = "127.0.0.1:0"
render_workers = 1
`, dataDir, syslog, tracelog) + extra
}

// Daemon is a graphmetrics process started by a test.
type Daemon struct {
	t       testing.TB
	cmd     *exec.Cmd
	DataDir string
	Config  string   // the config file
	Env     []string // added to the daemon's environment
	UDP     string   // first UDP address, once started
	TCP     string   // first TCP address
	Web     string
	web     *http.Client // with a session, for Health
	mu      sync.Mutex
	log     bytes.Buffer
	exited  chan struct{}
}

// New writes cfg (see Config) to a file; Start runs the daemon.
func New(t testing.TB, dataDir, cfg string) *Daemon {
	t.Helper()
	d := &Daemon{t: t, DataDir: dataDir}
	d.Config = filepath.Join(t.TempDir(), "graphmetrics.toml")
	if err := os.WriteFile(d.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// AddUser runs `graphmetrics user -config FILE add NAME`, the password on
// stdin, as an operator would.
func (d *Daemon) AddUser(name, password string) {
	d.t.Helper()
	cmd := exec.Command(Bin(d.t), "user", "-config", d.Config, "add", name)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("user add %s: %v\n%s", name, err, out)
	}
}

var (
	addrRE = regexp.MustCompile(`(udp|tcp)://([0-9.:]+)`)
	webRE  = regexp.MustCompile(`web=(\S+)`)
)

// Start runs the daemon and waits for its "graphmetrics running" line.
func (d *Daemon) Start() {
	t := d.t
	t.Helper()
	d.exited = make(chan struct{})
	d.UDP, d.TCP, d.Web = "", "", ""
	d.cmd = exec.Command(Bin(t), "-config", d.Config)
	d.cmd.Env = append(os.Environ(), d.Env...)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout = lockedWriter{d}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	exited := d.exited
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			lockedWriter{d}.Write([]byte(line + "\n"))
			if strings.Contains(line, `msg="graphmetrics running"`) {
				ready <- line
			}
		}
		d.cmd.Wait()
		close(exited)
	}()
	t.Cleanup(d.Kill)
	select {
	case line := <-ready:
		for _, m := range addrRE.FindAllStringSubmatch(line, -1) {
			if m[1] == "udp" && d.UDP == "" {
				d.UDP = m[2]
			}
			if m[1] == "tcp" && d.TCP == "" {
				d.TCP = m[2]
			}
		}
		if m := webRE.FindStringSubmatch(line); m != nil {
			d.Web = m[1]
		}
	case <-exited:
		t.Fatalf("graphmetrics exited at start:\n%s", d.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("graphmetrics not ready after 30s:\n%s", d.Log())
	}
}

type lockedWriter struct{ d *Daemon }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.log.Write(b)
}

// RSS is the daemon's resident set size in bytes (VmRSS).
func (d *Daemon) RSS() int64 { return d.memStatus("VmRSS:") }

// RSSAnon is the anonymous part of RSS (RssAnon): the process's own
// memory, without the file-backed pages of its code and libraries.
func (d *Daemon) RSSAnon() int64 { return d.memStatus("RssAnon:") }

func (d *Daemon) memStatus(field string) int64 {
	d.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		d.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	d.t.Fatal("no " + field)
	return 0
}

// Log is everything the daemon printed so far.
func (d *Daemon) Log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// Stop sends SIGTERM and expects exit status 0 within 15 s (the shutdown
// flush included).
func (d *Daemon) Stop() {
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
func (d *Daemon) Kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Kill()
	<-d.exited
}

// Health fetches /healthz with a session (its counters need one): status
// code and body. The first call adds the user ProbeUser and logs in.
func (d *Daemon) Health() (int, []byte) {
	d.t.Helper()
	if d.web == nil {
		d.web = d.LogIn(ProbeUser, ProbePassword, true)
	}
	resp, err := d.web.Get("http://" + d.Web + "/healthz")
	if err != nil {
		d.t.Fatalf("healthz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The user Health logs in as.
const (
	ProbeUser     = "healthz-probe"
	ProbePassword = "healthz-probe-password"
)

// LogIn returns an HTTP client with a session of user on the daemon's web
// UI (adding the user first if add is set and it does not exist yet). It
// does not follow redirects.
func (d *Daemon) LogIn(user, password string, add bool) *http.Client {
	d.t.Helper()
	if add {
		cmd := exec.Command(Bin(d.t), "user", "-config", d.Config, "add", user)
		cmd.Stdin = strings.NewReader(password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil && !bytes.Contains(out, []byte("user exists")) {
			d.t.Fatalf("user add %s: %v\n%s", user, err, out)
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + d.Web
	req, err := http.NewRequest("POST", base+"/login",
		strings.NewReader(url.Values{"user": {user}, "password": {password}}.Encode()))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		d.t.Fatalf("log in as %s: %v", user, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		d.t.Fatalf("log in as %s: HTTP %d", user, resp.StatusCode)
	}
	return c
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// HealthInto fetches /healthz, decodes its JSON into v and returns the
// status code.
func (d *Daemon) HealthInto(v any) int {
	d.t.Helper()
	code, b := d.Health()
	if err := json.Unmarshal(b, v); err != nil {
		d.t.Fatalf("healthz body %q: %v", b, err)
	}
	return code
}

// SendPython sends lines through Python's logging.handlers.SysLogHandler
// over network ("udp" or "tcp"), as a Zope server's logging config does,
// each line after prefix ("customer instance ").
func SendPython(t testing.TB, network, addr, prefix string, lines []string) {
	t.Helper()
	if err := SendPythonErr(network, addr, prefix, lines); err != nil {
		t.Fatal(err)
	}
}

// SendPythonErr is SendPython for goroutines other than the test's.
func SendPythonErr(network, addr, prefix string, lines []string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	sock := "socket.SOCK_DGRAM"
	if network == "tcp" {
		sock = "socket.SOCK_STREAM"
	}
	script := fmt.Sprintf(`
import logging, logging.handlers, socket, sys, time
h = logging.handlers.SysLogHandler(address=(%q, %s), socktype=%s)
log = logging.getLogger("zc.tracelog")
log.addHandler(h)
log.setLevel(logging.INFO)
log.propagate = False
for i, line in enumerate(sys.stdin):
    log.info("%%s", %q + line.rstrip("\n"))
    if i %% 50 == 49:
        time.sleep(0.01)  # UDP: do not outrun the receive buffer
h.close()
`, host, port, sock, prefix)
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("python SysLogHandler: %v\n%s", err, out)
	}
	return nil
}
