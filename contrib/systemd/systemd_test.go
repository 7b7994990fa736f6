package systemd_test

// The unit is checked by systemd's own tools (systemd-analyze verify and
// security, systemd-sysusers) in a scratch root, and its sandbox is tried on
// the real daemon without systemd: the kernel's PR_SET_MDWE gives the same
// rule as MemoryDenyWriteExecute, and strace shows that every system call
// and socket family the daemon and its render workers use is one the unit
// allows.

import (
	"bufio"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"graphmetrics/daemon/config"
)

const unitFile = "graphmetrics.service"

// directives reads the unit: key → values, in order.
func directives(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make(map[string][]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// What the deployment relies on, beyond what systemd can check.
func TestUnitDirectives(t *testing.T) {
	d := directives(t)
	want := map[string]string{
		"Type": "simple", "User": "graphmetrics", "Group": "graphmetrics",
		"ExecStart":      "/usr/local/bin/graphmetrics -config /etc/graphmetrics/graphmetrics.toml",
		"StateDirectory": "graphmetrics", "StateDirectoryMode": "0700", "UMask": "0077",
		"WorkingDirectory": "/var/lib/graphmetrics", "ReadWritePaths": "/var/lib/graphmetrics",
		"Restart": "on-failure", "KillSignal": "SIGTERM", "TimeoutStopSec": "60s",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
		"MemoryDenyWriteExecute": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"CapabilityBoundingSet": "", "AmbientCapabilities": "", "LimitNOFILE": "65536",
	}
	for k, v := range want {
		if got := d[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if f := d["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" {
		t.Errorf("SystemCallFilter = %q, want @system-service first", f)
	}
}

// scratchRoot is a root directory holding the system's unit files, the
// unit, the sysusers file and an executable at ExecStart's path, so that
// systemd's tools check our files without touching the machine.
func scratchRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	var sys string
	for _, d := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(filepath.Join(d, "multi-user.target")); err == nil {
			sys = d
			break
		}
	}
	if sys == "" {
		t.Skip("no systemd unit directory with multi-user.target on this machine")
	}
	copyDir(t, sys, filepath.Join(root, "usr/lib/systemd/system"))
	copyFile(t, unitFile, filepath.Join(root, "etc/systemd/system", unitFile), 0o644)
	copyFile(t, "graphmetrics.sysusers", filepath.Join(root, "usr/lib/sysusers.d/graphmetrics.conf"), 0o644)
	copyFile(t, buildDaemon(t), filepath.Join(root, "usr/local/bin/graphmetrics"), 0o755)
	return root
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := exec.Command("cp", "-a", src+"/.", dst).Run(); err != nil {
		os.MkdirAll(dst, 0o755)
		if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", src, err, out)
		}
	}
}

func systemdAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (package systemd): the unit is not verified here")
	}
	return p
}

// systemd-analyze verify says nothing about a good unit; a warning (unknown
// key, bad value) is a failure even though it exits 0.
func TestUnitVerify(t *testing.T) {
	sa := systemdAnalyze(t)
	root := scratchRoot(t)
	out, err := exec.Command(sa, "verify", "--root="+root, unitFile).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(sa, "security", "--offline=true", "--root="+root, unitFile).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for graphmetrics.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	// 1.4 when written; above 2.0 means a sandboxing line was lost.
	if v, _ := strconv.ParseFloat(string(m[1]), 64); v > 2.0 {
		t.Errorf("exposure %s, want at most 2.0:\n%s", m[1], out)
	}
}

func TestSysusers(t *testing.T) {
	p, err := exec.LookPath("systemd-sysusers")
	if err != nil {
		t.Skip("systemd-sysusers not installed (package systemd): graphmetrics.sysusers is not checked here")
	}
	root := scratchRoot(t)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	if out, err := exec.Command(p, "--root="+root).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	group, _ := os.ReadFile(filepath.Join(root, "etc/group"))
	if !regexp.MustCompile(`(?m)^graphmetrics:x:\d+:\d+:[^:]*:/var/lib/graphmetrics:/usr/sbin/nologin$`).Match(passwd) ||
		!regexp.MustCompile(`(?m)^graphmetrics:x:\d+:`).Match(group) {
		t.Fatalf("passwd:\n%s\ngroup:\n%s", passwd, group)
	}
}

// The sysctl file names real tunables and lets the default receive buffer
// through without CAP_NET_ADMIN.
func TestSysctl(t *testing.T) {
	b, err := os.ReadFile("90-graphmetrics.conf")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, err := os.Stat("/proc/sys/" + strings.ReplaceAll(k, ".", "/")); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if k == "net.core.rmem_max" {
			n++
			if got, _ := strconv.Atoi(v); got < config.Default().Syslog.RecvBuffer {
				t.Errorf("rmem_max %s below the default recv_buffer %d", v, config.Default().Syslog.RecvBuffer)
			}
		}
	}
	if n != 1 {
		t.Error("no net.core.rmem_max")
	}
}

// allowedSyscalls expands the unit's SystemCallFilter lines (an allow
// list, then ~ deny lists) with systemd-analyze syscall-filter.
func allowedSyscalls(t *testing.T, sa string) map[string]bool {
	t.Helper()
	cache := map[string][]string{}
	var expand func(name string) []string
	expand = func(name string) []string {
		if !strings.HasPrefix(name, "@") {
			return []string{name}
		}
		if v, ok := cache[name]; ok {
			return v
		}
		out, err := exec.Command(sa, "syscall-filter", name).Output()
		if err != nil {
			t.Fatalf("systemd-analyze syscall-filter %s: %v", name, err)
		}
		var names []string
		for _, line := range strings.Split(string(out), "\n")[1:] {
			if w := strings.TrimSpace(line); w != "" && w[0] != '#' {
				names = append(names, expand(w)...)
			}
		}
		cache[name] = names
		return names
	}
	allowed := map[string]bool{}
	for i, v := range directives(t)["SystemCallFilter"] {
		deny := strings.HasPrefix(v, "~")
		if deny == (i == 0) {
			t.Fatalf("SystemCallFilter line %d %q: want one allow list first, then deny lists", i+1, v)
		}
		for _, g := range strings.Fields(strings.TrimPrefix(v, "~")) {
			for _, s := range expand(g) {
				allowed[s] = !deny
			}
		}
	}
	for s, ok := range allowed {
		if !ok {
			delete(allowed, s)
		}
	}
	if len(allowed) < 100 {
		t.Fatalf("only %d system calls allowed: %v", len(allowed), slices.Sorted(maps.Keys(allowed)))
	}
	return allowed
}
