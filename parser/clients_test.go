package parser

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// These tests run the real syslog clients the SPEC names (util-linux logger
// and Python's logging.handlers.SysLogHandler) against sockets on 127.0.0.1
// and parse exactly the bytes they send. Both are installed on the build
// machines; a missing one is a failure, not a skip.

const clientRecord = "A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348"

var clientTime = utcMicro(2009, 7, 30, 15, 52, 36, 766928)

func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed for this test: %v", name, err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, needTool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// shortHostname is what logger puts in HOSTNAME.
func shortHostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

// udpCapture listens on a free UDP port and returns it and a function that
// returns the next datagram.
func udpCapture(t *testing.T) (port string, next func() []byte) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	_, port, _ = net.SplitHostPort(pc.LocalAddr().String())
	return port, func() []byte {
		buf := make([]byte, 65536)
		if err := pc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
}

// tcpCapture accepts one connection on a free port and returns its messages,
// cut by the frame splitter, once the sender has closed it.
func tcpCapture(t *testing.T) (port string, messages func() [][]byte) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, func() [][]byte {
		if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(c)
		sc.Buffer(make([]byte, 4096), MaxMessageSize+FrameOverhead)
		sc.Split(NewFrameSplitter(MaxMessageSize))
		var msgs [][]byte
		for sc.Scan() {
			msgs = append(msgs, append([]byte(nil), sc.Bytes()...))
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return msgs
	}
}

// checkChain parses one received message all the way to its record.
func checkChain(t *testing.T, raw []byte, host, customer, instance string) {
	t.Helper()
	t.Logf("received %q", raw)
	m, err := ParseSyslog(raw)
	if err != nil {
		t.Fatalf("ParseSyslog(%q): %v", raw, err)
	}
	if string(m.Host) != host {
		t.Errorf("%q: host %q, want %q", raw, m.Host, host)
	}
	c, i, r, err := Attribute(m)
	if err != nil {
		t.Fatalf("Attribute(%q): %v", raw, err)
	}
	if string(c) != customer || string(i) != instance {
		t.Errorf("%q: attributed to %q/%q, want %q/%q", raw, c, i, customer, instance)
	}
	rec, err := ParseRecord(r, nil)
	if err != nil {
		t.Fatalf("ParseRecord(%q): %v", r, err)
	}
	if rec.Code != 'A' || string(rec.RID) != "0.-1449537908" || rec.Time != clientTime || string(rec.Data) != "200 80348" {
		t.Errorf("%q: record %c %q %d %q", raw, rec.Code, rec.RID, rec.Time, rec.Data)
	}
}

func TestLoggerUDP(t *testing.T) {
	host := shortHostname(t)
	port, next := udpCapture(t)
	tests := []struct {
		args               []string
		msg                string
		customer, instance string
	}{
		{[]string{"--rfc3164"}, clientRecord, "acme", "acme"},
		{[]string{"--rfc3164", "--id=4242"}, clientRecord, "acme", "4242"},
		{[]string{"--rfc3164"}, "acme app-8080 : " + clientRecord, "acme", "app-8080"},
		{[]string{"--rfc5424"}, clientRecord, "acme", "acme"},
		{[]string{"--rfc5424", "--id=4242"}, clientRecord, "acme", "4242"},
		{[]string{"--rfc5424=notq,notime,nohost"}, "acme app-8080 " + clientRecord, "acme", "app-8080"},
		{[]string{"--rfc5424", "--msgid=trace", "--sd-id=zc@32473", `--sd-param=rid="1\] 2"`}, clientRecord, "acme", "acme"},
	}
	for _, tt := range tests {
		args := append(tt.args, "-n", "127.0.0.1", "-P", port, "-d", "-t", "acme", tt.msg)
		run(t, "logger", args...)
		want := host
		if strings.Contains(strings.Join(tt.args, ","), "nohost") {
			want = ""
		}
		checkChain(t, next(), want, tt.customer, tt.instance)
	}
}

func TestLoggerTCP(t *testing.T) {
	host := shortHostname(t)
	for _, framing := range [][]string{nil, {"--octet-count"}} {
		for _, format := range []string{"--rfc3164", "--rfc5424"} {
			port, messages := tcpCapture(t)
			args := append([]string{format, "-T", "-n", "127.0.0.1", "-P", port, "-t", "acme", "--id=4242"}, framing...)
			run(t, "logger", append(args, clientRecord)...)
			msgs := messages()
			if len(msgs) != 1 {
				t.Fatalf("logger %q: %d messages %q, want 1", args, len(msgs), msgs)
			}
			checkChain(t, msgs[0], host, "acme", "4242")
		}
	}
}

// python3 script: send three records through SysLogHandler, the way a Zope
// server's logging configuration does, to UDP or TCP port argv[2].
const pythonSender = `
import logging, logging.handlers, socket, sys
sock = socket.SOCK_DGRAM if sys.argv[1] == 'udp' else socket.SOCK_STREAM
h = logging.handlers.SysLogHandler(address=('127.0.0.1', int(sys.argv[2])), socktype=sock)
h.setFormatter(logging.Formatter('acme app-8080 : %(message)s'))
log = logging.getLogger('zc.tracelog')
log.addHandler(h)
log.setLevel(logging.INFO)
for _ in range(3):
    log.info(sys.argv[3])
h.close()
`

func TestPythonSysLogHandler(t *testing.T) {
	port, next := udpCapture(t)
	run(t, "python3", "-c", pythonSender, "udp", port, clientRecord)
	for range 3 {
		raw := next()
		if raw[len(raw)-1] != 0 {
			t.Errorf("%q: Python no longer appends a NUL; the fast path must still trim", raw)
		}
		checkChain(t, raw, "", "acme", "app-8080")
	}

	port, messages := tcpCapture(t)
	run(t, "python3", "-c", pythonSender, "tcp", port, clientRecord)
	msgs := messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages over TCP %q, want 3", len(msgs), msgs)
	}
	for _, raw := range msgs {
		checkChain(t, raw, "", "acme", "app-8080")
	}
}
