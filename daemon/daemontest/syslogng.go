package daemontest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FreePorts returns n port numbers on 127.0.0.1 that are free for both
// TCP and UDP (a syslog-ng config listens on both with one number).
func FreePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(l.Addr().String())
		u, err := net.ListenPacket("udp", "127.0.0.1:"+p)
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		out = append(out, p)
	}
	return out
}

// SyslogNG runs /usr/sbin/syslog-ng in the foreground with a copy of the
// configuration at conf whose @define values are replaced by defs, and
// returns once its control socket answers (its sources are bound by then).
// It is stopped with SIGTERM when the test ends.
func SyslogNG(t testing.TB, conf string, defs map[string]string) {
	t.Helper()
	src, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for k, v := range defs {
		re := regexp.MustCompile(`(?m)^@define ` + k + ` ".*"$`)
		if !re.MatchString(text) {
			t.Fatalf("%s has no @define %s", conf, k)
		}
		text = re.ReplaceAllLiteralString(text, fmt.Sprintf("@define %s %q", k, v))
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, filepath.Base(conf))
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctl := filepath.Join(dir, "ctl")
	cmd := exec.Command("/usr/sbin/syslog-ng", "-F", "-f", cfg, "--persist-file", filepath.Join(dir, "persist"),
		"--pidfile", filepath.Join(dir, "pid"), "--control", ctl)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("syslog-ng output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for exec.Command("/usr/sbin/syslog-ng-ctl", "stats", "--control", ctl).Run() != nil {
		select {
		case <-exited:
			t.Fatalf("syslog-ng exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("syslog-ng not ready:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
