package systemd_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
	"graphmetrics/web/render"
)

var (
	daemonOnce sync.Once
	daemonBin  string
	daemonErr  error
)

// buildDaemon builds graphmetrics once, where an unprivileged user can run
// it.
func buildDaemon(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end (runs the daemon in the sandbox): skipped with -short")
	}
	daemonOnce.Do(func() {
		dir, err := os.MkdirTemp("", "graphmetrics-systemd-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			daemonErr = err
			return
		}
		daemonBin = filepath.Join(dir, "graphmetrics")
		if out, err := exec.Command("go", "build", "-o", daemonBin, "graphmetrics/daemon").CombinedOutput(); err != nil {
			daemonErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if daemonErr != nil {
		t.Fatal(daemonErr)
	}
	return daemonBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if daemonBin != "" {
		os.RemoveAll(filepath.Dir(daemonBin))
	}
	os.Exit(code)
}

// The daemon runs as nobody, like User=graphmetrics: no capabilities, and
// SQLite does not chown its journal (it does only as root).
const nobody = 65534

// runDaemon runs the daemon under wrap (a command prefix) as nobody, feeds
// it tracelog lines over UDP and TCP until they are in an RRD file, checks
// /healthz, renders a graph and an error image with a render worker under
// wrap too, and stops the daemon with SIGTERM, which must exit 0.
func runDaemon(t *testing.T, wrap []string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running the daemon as an unprivileged user needs root")
	}
	bin := buildDaemon(t)
	dir, err := os.MkdirTemp("", "graphmetrics-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	for _, d := range []string{dir, data} {
		os.MkdirAll(d, 0o755)
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	udp, tcp, web := freePort(t, "udp"), freePort(t, "tcp"), freePort(t, "tcp")
	cfg := filepath.Join(dir, "graphmetrics.toml")
	os.WriteFile(cfg, fmt.Appendf(nil, `data_dir = %q
timezone = "UTC"
[syslog]
udp = [%q]
tcp = [%q]
[tracelog]
flush_interval = "1s"
lateness = "1s"
[web]
listen = %q
render_workers = 1
`, data, udp, tcp, web), 0o644)

	var out bytes.Buffer
	cmd := exec.Command(wrap[0], append(wrap[1:], bin, "-config", cfg)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if pid := daemonPID(cmd.Process.Pid, bin); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("daemon output:\n%s", out.String())
		}
	}()

	healthz := "http://" + web + "/healthz"
	waitUntil(t, exited, "web UI up", func() bool {
		r, err := http.Get(healthz)
		if err == nil {
			r.Body.Close()
		}
		return err == nil
	})
	now := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	send(t, "udp", udp, "<174>acme app-8080 B 1 "+now+" GET /")
	send(t, "tcp", tcp, "<174>acme app-8080 A 1 "+now+" 200 ?\n")
	var file string
	waitUntil(t, exited, "tracelog RRD file written", func() bool {
		m, _ := filepath.Glob(filepath.Join(data, "rrd/tracelog/*/acme/app-8080.rrd"))
		if len(m) == 1 {
			file = m[0]
		}
		return file != ""
	})
	if r, err := http.Get(healthz); err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", r, err)
	}
	renderWith(t, wrap, bin, filepath.Join(data, "rrd"), file)

	pid := daemonPID(cmd.Process.Pid, bin)
	if pid <= 0 {
		t.Fatal("daemon process not found")
	}
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon still running 20s after SIGTERM")
	}
	// Owner-only (issue 11): the data directory was made 0755 above.
	filepath.WalkDir(data, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		if info, err := e.Info(); err == nil && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want owner-only", p, info.Mode().Perm())
		}
		return nil
	})
}

// renderWith draws a graph of file and an error image in a render worker
// started under wrap: the cairo and pango code paths of the web UI.
func renderWith(t *testing.T, wrap []string, bin, root, file string) {
	t.Helper()
	p, err := render.NewPool(render.PoolOptions{Command: append(slices.Clone(wrap), bin, "render-worker"),
		Workers: 1, Root: root, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	now := time.Now().Unix()
	for _, req := range []*render.Request{
		{Op: render.OpGraph, Graph: &render.Graph{Start: now - 600, End: now, Width: 600, Height: 200, Title: "sandbox",
			Defs:  []render.Def{{Name: "r", File: file, DS: "requests", CF: "AVERAGE"}},
			Draws: []render.Draw{{Type: "LINE1", Name: "r", Color: "ff0000", Legend: "requests"}}}},
		{Op: render.OpError, Message: "text drawn by pango", Width: 400, Height: 100},
	} {
		png, err := p.Do(context.Background(), req)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("render %s: %v (%d bytes)", req.Op, err, len(png))
		}
	}
}

func freePort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func send(t *testing.T, network, addr, msg string) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// waitUntil waits for ok, and fails at once when the daemon exits first.
func waitUntil(t *testing.T, exited <-chan error, what string, ok func() bool) {
	t.Helper()
	testwait.For(t, 30*time.Second, what, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("daemon exited before %s: %v", what, err)
		default:
		}
		return ok()
	})
}

// daemonPID finds the daemon: pid itself once a wrapper has exec'd it, or
// a child of pid (strace forks it).
func daemonPID(pid int, bin string) int {
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == bin {
		return pid
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, _ := os.ReadFile(st)
		// pid (comm) state ppid ...: comm may hold spaces, so after ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", child)); exe == bin {
			return child
		}
	}
	return -1
}

// mdwe applies the kernel's memory-deny-write-execute (what systemd's
// MemoryDenyWriteExecute does with seccomp), checks that it is enforced,
// and execs the command.
const mdwe = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE: " + os.strerror(ctypes.get_errno()))
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
if libc.mmap(None, 4096, 7, 0x22, -1, 0) != ctypes.c_void_p(-1).value:
    print("PR_SET_MDWE is set but a writable executable mapping was allowed", file=sys.stderr)
    sys.exit(3)
os.execvp(sys.argv[1], sys.argv[1:])
`

// MemoryDenyWriteExecute=yes is safe: Go and librrd (cairo, pango) run
// under the same rule, enforced by the kernel.
func TestMemoryDenyWriteExecute(t *testing.T) {
	py := "/usr/bin/python3" // nobody cannot run a python3 under /root
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s: %v", py, err)
	}
	probe := exec.Command(py, "-c", mdwe, "true")
	if out, err := probe.CombinedOutput(); err != nil {
		if probe.ProcessState.ExitCode() == 1 && bytes.Contains(out, []byte("PR_SET_MDWE")) {
			t.Skipf("this kernel has no PR_SET_MDWE (Linux 6.3+), so MemoryDenyWriteExecute is not tried here: %s", out)
		}
		t.Fatalf("mdwe wrapper: %v: %s", err, out)
	}
	runDaemon(t, []string{py, "-c", mdwe})
}

var (
	// strace -ff lines: "name(args) = result" (no pid column).
	syscallRE = regexp.MustCompile(`(?m)^([a-z0-9_]+)\(`)
	familyRE  = regexp.MustCompile(`(?m)^socket(?:pair)?\((AF_[A-Z0-9]+)`)
)

// Every system call and socket family the daemon and its render workers
// use, under strace, is one the unit's SystemCallFilter and
// RestrictAddressFamilies allow.
func TestSystemCallFilter(t *testing.T) {
	sa := systemdAnalyze(t)
	st, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed: the unit's system call filter is not tried on the daemon here")
	}
	allowed := allowedSyscalls(t, sa)
	trace := filepath.Join(os.TempDir(), fmt.Sprintf("graphmetrics-strace-%d", os.Getpid()))
	defer os.Remove(trace)
	// -ff: one file per process, so the daemon's run and the test's render
	// worker do not write one file at once.
	runDaemon(t, []string{st, "-f", "-ff", "-qq", "-e", "signal=none", "-o", trace})
	files, _ := filepath.Glob(trace + ".*")
	if len(files) < 2 {
		t.Fatalf("strace wrote %d files", len(files))
	}
	used, families := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		os.Remove(f)
		for _, m := range syscallRE.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
		for _, m := range familyRE.FindAllSubmatch(b, -1) {
			families[string(m[1])] = true
		}
	}
	if !used["recvmmsg"] && !used["recvfrom"] && !used["recvmsg"] || !used["execve"] {
		t.Fatalf("trace lacks the daemon's receive calls: %v", slices.Sorted(maps.Keys(used)))
	}
	for s := range used {
		if !allowed[s] {
			t.Errorf("system call %s is used but SystemCallFilter denies it", s)
		}
	}
	okFamilies := strings.Fields(directives(t)["RestrictAddressFamilies"][0])
	for f := range families {
		if !slices.Contains(okFamilies, f) {
			t.Errorf("socket family %s is used but RestrictAddressFamilies lacks it", f)
		}
	}
	if !t.Failed() {
		t.Logf("%d system calls used, all allowed; socket families %v", len(used), slices.Sorted(maps.Keys(families)))
	}
}
