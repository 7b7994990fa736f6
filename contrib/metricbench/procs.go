package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// proc is a receiver process under test.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string // where the load goes
	web  string // graphmetrics: the /healthz address
}

func (p *proc) stop() {
	if p != nil && p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// cpu is the process's user+system CPU seconds so far.
func (p *proc) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitLine starts cmd and waits until its output has a line matching re.
func waitLine(cmd *exec.Cmd, logPath string, re *regexp.Regexp) (string, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(lf, sc.Text())
			if re.MatchString(sc.Text()) {
				select {
				case found <- sc.Text():
				default:
				}
			}
		}
		lf.Close()
		close(found)
	}()
	select {
	case l, ok := <-found:
		if !ok {
			return "", fmt.Errorf("%s exited at start (log %s)", cmd.Path, logPath)
		}
		return l, nil
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return "", fmt.Errorf("%s not ready after 60s (log %s)", cmd.Path, logPath)
	}
}

// startGraphmetrics runs the daemon with one metric input (extra config;
// recvBuf > 0 sets the UDP receive buffer).
func startGraphmetrics(bin, dir, input string, recvBuf int, extra string) (*proc, error) {
	os.MkdirAll(dir, 0o755)
	cfg := filepath.Join(dir, "graphmetrics.toml")
	syslog := "[syslog]\n" // the syslog listeners are off
	if recvBuf > 0 {
		syslog += fmt.Sprintf("recv_buffer = %d\n", recvBuf)
	}
	text := fmt.Sprintf("data_dir = %q\nlog_level = \"info\"\n%sudp = []\ntcp = []\n[web]\nlisten = \"127.0.0.1:0\"\nrender_workers = 1\n", filepath.Join(dir, "data"), syslog) + extra
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", cfg)
	line, err := waitLine(cmd, filepath.Join(dir, "daemon.log"), regexp.MustCompile(`graphmetrics running`))
	if err != nil {
		return nil, err
	}
	p := &proc{name: "graphmetrics", cmd: cmd}
	if m := regexp.MustCompile(input + `="?\[[^\]]*?(?:udp|tcp)://([0-9.:]+)`).FindStringSubmatch(line); m != nil {
		p.addr = m[1]
	}
	if m := regexp.MustCompile(`web=(\S+)`).FindStringSubmatch(line); m != nil {
		p.web = m[1]
	}
	if p.addr == "" || p.web == "" {
		p.stop()
		return nil, fmt.Errorf("no %s or web address in %q", input, line)
	}
	return p, nil
}

// health reads one input's stats from /healthz.
func (p *proc) health(input string) (map[string]any, error) {
	r, err := http.Get("http://" + p.web + "/healthz")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var h struct {
		Detail struct {
			Metrics map[string]struct {
				Stats map[string]any `json:"stats"`
			} `json:"metric_inputs"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("healthz: %w", err)
	}
	return h.Detail.Metrics[input].Stats, nil
}

func num(m map[string]any, k string) uint64 {
	f, _ := m[k].(float64)
	return uint64(f)
}

// startEtsy runs etsy statsd 0.9.0 (installed by make deps) with no
// backend: it parses and aggregates, then discards (its documented mode
// without graphiteHost), so it does less than we do.
func startEtsy(dir string) (*proc, error) {
	os.MkdirAll(dir, 0o755)
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), ".deps", "statsd", "node_modules", "statsd")
	port, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	mport, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "etsy.js")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{ address: "127.0.0.1", port: %d, mgmt_address: "127.0.0.1", mgmt_port: %d, backends: [], flushInterval: 10000, graphite: { legacyNamespace: false } }`, port, mport)), 0o644)
	cmd := exec.Command("node", "stats.js", cfg)
	cmd.Dir = root
	if _, err := waitLine(cmd, filepath.Join(dir, "etsy.log"), regexp.MustCompile(`server is up`)); err != nil {
		return nil, err
	}
	p := &proc{name: "etsy statsd 0.9.0", cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	// Its bind is asynchronous: wait for the socket.
	for i := 0; i < 500; i++ {
		if _, ok := udpDrops(port); ok {
			return p, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("etsy statsd never bound udp %d", port)
}

// udpDrops is the kernel's drop count of the UDP socket on port (the last
// column of /proc/net/udp): the same measure for every receiver.
func udpDrops(port int) (uint64, bool) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, false
	}
	want := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 13 && strings.HasSuffix(f[1], want) {
			n, err := strconv.ParseUint(f[len(f)-1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
