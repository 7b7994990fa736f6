package contrib_test

// Every config in contrib/ is checked with the real tool that reads it, and
// the ones that carry tracelog lines are run end to end: Python's logging
// and rsyslogd send real lines to a listener here, and graphmetrics' own
// parser must attribute them to the customer and instance of the config.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser"
	"graphmetrics/parser/testwait"
)

// The sample configs name this instance.
const wantCustomer, wantInstance = "acme", "app-8080"

// tracelogLines are what zc.zservertracelog logs for one request.
var tracelogLines = []string{
	"B 1 2009-07-30 15:47:21.349080 GET /",
	"A 1 2009-07-30 15:47:21.449080 200 93638",
}

// sendPython loads a logging config with logging.config.fileConfig and logs
// the tracelog lines on zc.tracelog, plus a line on another logger that
// must not reach graphmetrics.
const sendPython = `
import logging, logging.config, sys
logging.config.fileConfig(sys.argv[1], disable_existing_loggers=False)
logging.getLogger("other").info("not a tracelog line")
for line in sys.argv[2:]:
    logging.getLogger("zc.tracelog").info(line)
logging.shutdown()
`

func need(t *testing.T, tool string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("end to end (%s): skipped with -short", tool)
	}
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: run make deps", tool)
	}
	return p
}

// rewrite copies a config into dir with old replaced by new exactly n times
// (a test that rewrote nothing would test the default address).
func rewrite(t *testing.T, src, dir, old, new string, n int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(b), old); c != n {
		t.Fatalf("%s: %q occurs %d times, want %d", src, old, c, n)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func runPython(t *testing.T, ini string) {
	t.Helper()
	cmd := exec.Command(need(t, "python3"), append([]string{"-c", sendPython, ini}, tracelogLines...)...)
	if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("not a tracelog line")) {
		t.Fatalf("python logging: %v: %s", err, out)
	}
}

// checkMessages parses what graphmetrics would receive, in order.
func checkMessages(t *testing.T, msgs [][]byte) {
	t.Helper()
	if len(msgs) != len(tracelogLines) {
		t.Fatalf("got %d messages, want %d: %q", len(msgs), len(tracelogLines), msgs)
	}
	for i, raw := range msgs {
		m, err := parser.ParseSyslog(raw)
		if err != nil {
			t.Fatalf("ParseSyslog(%q): %v", raw, err)
		}
		c, inst, rec, err := parser.Attribute(m)
		if err != nil || string(c) != wantCustomer || string(inst) != wantInstance || string(rec) != tracelogLines[i] {
			t.Fatalf("Attribute(%q) = %q %q %q %v, want %s %s %q", raw, c, inst, rec, err, wantCustomer, wantInstance, tracelogLines[i])
		}
		if _, err := parser.ParseRecord(rec, time.UTC); err != nil {
			t.Fatalf("ParseRecord(%q): %v", rec, err)
		}
	}
}

// readPackets reads n datagrams.
func readPackets(t *testing.T, c net.PacketConn, n int) [][]byte {
	t.Helper()
	var out [][]byte
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(out) < n {
		k, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		out = append(out, bytes.Clone(buf[:k]))
	}
	return out
}

// readStream accepts one connection and reads n framed messages.
func readStream(t *testing.T, l net.Listener, n int) [][]byte {
	t.Helper()
	l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(c)
	sc.Split(parser.NewFrameSplitter(65536))
	var out [][]byte
	for len(out) < n && sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if len(out) < n {
		t.Fatalf("after %d of %d messages: %v", len(out), n, sc.Err())
	}
	return out
}

// The Zope logging config sends zc.tracelog straight to graphmetrics over
// UDP, as local5 with the customer and instance prefix.
func TestZopeLoggingUDP(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
	ini := rewrite(t, "zope/logging.ini", t.TempDir(), "('127.0.0.1', 5514)", "('127.0.0.1', "+port+")", 1)
	runPython(t, ini)
	msgs := readPackets(t, c, 2)
	if want := "<174>" + wantCustomer + " " + wantInstance + " B "; !bytes.HasPrefix(msgs[0], []byte(want)) {
		t.Errorf("datagram %q does not start with %q (local5.info and the prefix)", msgs[0], want)
	}
	checkMessages(t, msgs)
}

// The /dev/log variant sends the same bytes to the local syslog socket.
func TestZopeLoggingDevLog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runPython(t, rewrite(t, "zope/logging-devlog.ini", t.TempDir(), "'/dev/log'", "'"+sock+"'", 1))
	msgs := readPackets(t, c, 2)
	if want := "<174>" + wantCustomer + " " + wantInstance + " B "; !bytes.HasPrefix(msgs[0], []byte(want)) {
		t.Errorf("datagram %q does not start with %q", msgs[0], want)
	}
	checkMessages(t, msgs)
}

// rsyslogd is Debian's, unpacked by contrib/rsyslog/install.sh (the
// package conflicts with syslog-ng-core); the test unpacks it if needed.
func rsyslogd(t *testing.T) string {
	t.Helper()
	wrapper, err := filepath.Abs("../.deps/rsyslog/rsyslogd.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(wrapper); err != nil {
		if out, err := exec.Command("rsyslog/install.sh").CombinedOutput(); err != nil {
			t.Skipf("rsyslogd cannot be unpacked (contrib/rsyslog/install.sh: %v):\n%s", err, out)
		}
	}
	return wrapper
}

// Each rsyslog config passes rsyslogd -N1, as given and as a drop-in of a
// main config.
func TestRsyslogSyntax(t *testing.T) {
	bin := rsyslogd(t)
	confs, _ := filepath.Glob("rsyslog/*.conf")
	if len(confs) < 2 {
		t.Fatalf("rsyslog configs: %v", confs)
	}
	for _, conf := range confs {
		abs, _ := filepath.Abs(conf)
		dir := t.TempDir()
		main := filepath.Join(dir, "rsyslog.conf")
		os.WriteFile(main, fmt.Appendf(nil, "global(workDirectory=%q)\ninclude(file=%q)\n", dir, abs), 0o644)
		for _, f := range []string{abs, main} {
			out, err := exec.Command(bin, "-N1", "-f", f).CombinedOutput()
			if err != nil || bytes.Contains(bytes.ToLower(out), []byte("error")) || bytes.Contains(out, []byte("warning")) {
				t.Errorf("rsyslogd -N1 -f %s: %v\n%s", f, err, out)
			}
		}
	}
}

// Python logs to a local rsyslogd through its socket (as Zope does with
// logging-devlog.ini), rsyslogd forwards with the config, and
// graphmetrics' parser attributes what arrives. A local0 line sent first
// must not be forwarded.
func TestRsyslogForwarding(t *testing.T) {
	bin := rsyslogd(t)
	for _, c := range []struct{ conf, network string }{{"rsyslog/graphmetrics.conf", "tcp"}, {"rsyslog/graphmetrics-udp.conf", "udp"}} {
		t.Run(c.network, func(t *testing.T) {
			dir := t.TempDir()
			var port int
			var receive func(n int) [][]byte
			if c.network == "tcp" {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				port = l.Addr().(*net.TCPAddr).Port
				receive = func(n int) [][]byte { return readStream(t, l, n) }
			} else {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				port = pc.LocalAddr().(*net.UDPAddr).Port
				receive = func(n int) [][]byte { return readPackets(t, pc, n) }
			}
			conf := rewrite(t, c.conf, dir, `port="5514"`, `port="`+strconv.Itoa(port)+`"`, 1)
			sock := filepath.Join(dir, "log")
			main := filepath.Join(dir, "rsyslog.conf")
			os.WriteFile(main, fmt.Appendf(nil, `global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q)
include(file=%q)
`, dir, sock, conf), 0o644)
			startRsyslogd(t, bin, main)
			testwait.For(t, 10*time.Second, sock+" to appear", func() bool { _, err := os.Stat(sock); return err == nil })
			if err := sendUnixgram(sock, "<134>"+wantCustomer+" "+wantInstance+" C 9 2009-07-30 15:47:21"); err != nil {
				t.Fatal(err)
			}
			runPython(t, rewrite(t, "zope/logging-devlog.ini", dir, "'/dev/log'", "'"+sock+"'", 1))
			checkMessages(t, receive(2))
		})
	}
}

// startRsyslogd runs rsyslogd in the foreground with the config main
// (its pid file beside it) until the test ends.
func startRsyslogd(t *testing.T, bin, main string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, "-n", "-i", filepath.Join(filepath.Dir(main), "pid"), "-f", main)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", out.String())
		}
	})
}

func sendUnixgram(path, msg string) error {
	c, err := net.Dial("unixgram", path)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(msg))
	return err
}

// syslog-ng configs (contrib/syslog-ng, another engineer's) must pass
// syslog-ng --syntax-only.
func TestSyslogNGSyntax(t *testing.T) {
	if _, err := os.Stat("syslog-ng"); os.IsNotExist(err) {
		t.Skip("contrib/syslog-ng does not exist yet: no syslog-ng configs to check")
	}
	bin := need(t, "syslog-ng")
	confs, _ := filepath.Glob("syslog-ng/*.conf")
	if len(confs) == 0 {
		t.Fatal("contrib/syslog-ng has no *.conf")
	}
	for _, conf := range confs {
		dir := t.TempDir()
		out, err := exec.Command(bin, "--syntax-only", "-f", conf, "--persist-file", filepath.Join(dir, "persist"),
			"--pidfile", filepath.Join(dir, "pid"), "--control", filepath.Join(dir, "ctl")).CombinedOutput()
		if err != nil {
			t.Errorf("syslog-ng --syntax-only -f %s: %v\n%s", conf, err, out)
		}
	}
}
