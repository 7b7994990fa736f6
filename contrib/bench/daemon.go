package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// benchArchives are shortened tracelog archives: the benchmark writes
// thousands of files, and the full defaults (3 MB each) would only cost
// disk, not change the per-update work much.
var benchArchives = []string{"AVERAGE:1s:10m", "AVERAGE:1m:1d", "MAX:1m:1d"}

// daemonOptions say how to run graphmetrics for a scenario.
type daemonOptions struct {
	bin      string
	dir      string // holds the config, data/ and daemon.log
	udp, tcp bool
	config   string // whole config text instead of the generated one (demo)
	urlsOff  bool   // [tracelog.urls] max_patterns = 0: no URL statistics
	tracelog string // more [tracelog] keys, one a line
}

// daemon is a running graphmetrics process.
type daemon struct {
	cmd      *exec.Cmd
	dir      string
	web      string
	udp, tcp string
	stdout   strings.Builder
	exited   chan struct{}
	waitErr  error
	logPath  string
	readyErr chan error
	client   *http.Client // logged in as probeUser, once health has run
}

const probeUser, probePassword = "bench-probe", "bench-probe-password"

func benchConfig(dataDir string, udp, tcp bool, tracelog string) string {
	list := func(on bool) string {
		if on {
			return `["127.0.0.1:0"]`
		}
		return "[]"
	}
	q := make([]string, len(benchArchives))
	for i, a := range benchArchives {
		q[i] = fmt.Sprintf("%q", a)
	}
	return fmt.Sprintf(`# written by contrib/bench
data_dir = %q
timezone = "UTC"
log_level = "info"

[syslog]
udp = %s
tcp = %s
recv_buffer = %d

[tracelog]
archives = [%s]
%s
[web]
listen = "127.0.0.1:0"
render_workers = 1
`, dataDir, list(udp), list(tcp), recvBuffer, strings.Join(q, ", "), tracelog)
}

// runningRE reads the addresses from the ready line; slog quotes the
// syslog list only when it holds a space (more than one address).
var runningRE = regexp.MustCompile(`msg="graphmetrics running".* web=(\S+) syslog="?\[([^\]]*)\]`)

// startDaemon writes the config and starts graphmetrics, returning once
// it logs that it is running.
func startDaemon(ctx context.Context, o daemonOptions) (*daemon, error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	cfg := o.config
	if cfg == "" {
		cfg = benchConfig(filepath.Join(o.dir, "data"), o.udp, o.tcp, o.tracelog)
		if o.urlsOff {
			cfg += "\n[tracelog.urls]\nmax_patterns = 0\n"
		}
	}
	cfgPath := filepath.Join(o.dir, "graphmetrics.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if o.config == "" {
		// /healthz shows counters only with a session: a user for health.
		add := exec.CommandContext(ctx, o.bin, "user", "-config", cfgPath, "add", probeUser)
		add.Stdin = strings.NewReader(probePassword + "\n")
		if out, err := add.CombinedOutput(); err != nil && !strings.Contains(string(out), "user exists") {
			return nil, fmt.Errorf("graphmetrics user add: %v: %s", err, out)
		}
	}
	d := &daemon{dir: o.dir, exited: make(chan struct{}), logPath: filepath.Join(o.dir, "daemon.log"), readyErr: make(chan error, 1)}
	logf, err := os.Create(d.logPath)
	if err != nil {
		return nil, err
	}
	d.cmd = exec.Command(o.bin, "-config", cfgPath)
	d.cmd.Stdout = &d.stdout
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", o.bin, err)
	}
	go d.watch(stderr, logf)

	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case err = <-d.readyErr:
	case <-timer.C:
		err = errors.New("not running after 30s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		d.kill()
		return nil, fmt.Errorf("graphmetrics: %w (log: %s)\n%s", err, d.logPath, tail(d.logPath, 2000))
	}
	return d, nil
}

// watch copies the daemon's log to daemon.log and reports readiness.
func (d *daemon) watch(stderr io.Reader, logf *os.File) {
	defer close(d.exited)
	defer logf.Close()
	ready := false
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logf, line)
		if ready {
			continue
		}
		if m := runningRE.FindStringSubmatch(line); m != nil {
			ready = true
			d.addrs(m)
			d.readyErr <- nil
		}
	}
	d.waitErr = d.cmd.Wait()
	if !ready {
		d.readyErr <- fmt.Errorf("exited at start: %v", d.waitErr)
	}
}

// addrs takes the web and the first UDP and TCP addresses from a match of
// runningRE.
func (d *daemon) addrs(m []string) {
	d.web = m[1]
	for _, a := range strings.Fields(m[2]) {
		if s, ok := strings.CutPrefix(a, "udp://"); ok && d.udp == "" {
			d.udp = s
		}
		if s, ok := strings.CutPrefix(a, "tcp://"); ok && d.tcp == "" {
			d.tcp = s
		}
	}
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// health is the part of /healthz the benchmarks read.
type health struct {
	OK     bool `json:"ok"`
	Detail struct {
		Inputs map[string]struct {
			Running    bool              `json:"running"`
			Lines      uint64            `json:"lines"`
			Rejected   map[string]uint64 `json:"rejected"`
			Aggregator struct {
				Records   uint64 `json:"records"`
				Late      uint64 `json:"late"`
				Unknown   uint64 `json:"unknown"`
				Future    uint64 `json:"future"`
				StaleEnds uint64 `json:"stale_ends"`
				Buckets   uint64 `json:"buckets"`
				Dropped   uint64 `json:"dropped"`
				Instances int64  `json:"instances"`
			} `json:"aggregator"`
			Listeners []struct {
				Network     string `json:"network"`
				Addr        string `json:"addr"`
				Messages    uint64 `json:"messages"`
				KernelDrops uint64 `json:"kernel_drops"`
				Oversize    uint64 `json:"oversize"`
				RecvBuffer  int    `json:"recv_buffer"`
			} `json:"listeners"`
		} `json:"inputs"`
		Writer struct {
			Rows      uint64        `json:"rows"`
			Skipped   uint64        `json:"skipped"`
			Dropped   uint64        `json:"dropped"`
			Errors    uint64        `json:"errors"`
			Updates   uint64        `json:"updates"`
			Creates   uint64        `json:"creates"`
			WriteTime time.Duration `json:"write_time_ns"`
			MaxWrite  time.Duration `json:"max_write_ns"`
			Queued    int64         `json:"queued"`
		} `json:"writer"`
	} `json:"detail"`
}

// syslog is the syslog input's counters: lines received, lines rejected,
// records aggregated, late records and kernel drops.
func (h health) syslog() (lines, rejected, records, late, drops uint64) {
	in := h.Detail.Inputs["syslog"]
	for _, n := range in.Rejected {
		rejected += n
	}
	for _, l := range in.Listeners {
		drops += l.KernelDrops
	}
	return in.Lines, rejected, in.Aggregator.Records, in.Aggregator.Late, drops
}

// login gives d a client with a session of probeUser.
func (d *daemon) login(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"user": {probeUser}, "password": {probePassword}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+d.web+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+d.web)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("log in: HTTP %d", resp.StatusCode)
	}
	d.client = c
	return nil
}

func (d *daemon) health(ctx context.Context) (health, error) {
	var h health
	if d.client == nil {
		if err := d.login(ctx); err != nil {
			return h, fmt.Errorf("healthz: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.web+"/healthz", nil)
	if err != nil {
		return h, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return h, fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	// 503 still carries the counters.
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("healthz (HTTP %d): %w", resp.StatusCode, err)
	}
	return h, nil
}

// stop sends SIGTERM and waits for the exit: the final flush. It returns
// how long that took.
func (d *daemon) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	// Ctrl-C reaches the daemon too (same process group): it may be
	// exiting already.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, err
	}
	select {
	case <-d.exited:
		if d.waitErr != nil {
			return time.Since(start), fmt.Errorf("graphmetrics exited with %v (log: %s)", d.waitErr, d.logPath)
		}
		return time.Since(start), nil
	case <-time.After(timeout):
		d.kill()
		return time.Since(start), fmt.Errorf("graphmetrics still running %v after SIGTERM; killed (log: %s)", timeout, d.logPath)
	}
}

func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
	<-d.exited
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
