package listen

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pythonSender logs n tracelog-like records through the standard library's
// SysLogHandler, exactly as a Zope server's logging configuration does.
const pythonSender = `
import logging, logging.handlers, socket, sys
port, proto, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
socktype = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
h = logging.handlers.SysLogHandler(address=("127.0.0.1", port), socktype=socktype)
h.setFormatter(logging.Formatter("%(name)s: %(message)s"))
log = logging.getLogger("zc.tracelog")
log.addHandler(h)
log.propagate = False
log.setLevel(logging.INFO)
for i in range(n):
    log.info("cust inst B %d 2009-07-30 15:47:21.349080 GET /p\u00e4ge?i=%d", i, i)
h.close()
`

func runPython(t *testing.T, port, proto string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "python3", "-c", pythonSender, port, proto, strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 SysLogHandler %s: %v\n%s", proto, err, out)
	}
}

func pythonWant(n int, terminator string) []string {
	want := make([]string, n)
	for i := range want {
		// <14>: facility user (1) * 8 + info (6).
		want[i] = fmt.Sprintf("<14>zc.tracelog: cust inst B %d 2009-07-30 15:47:21.349080 GET /p\u00e4ge?i=%d%s", i, i, terminator)
	}
	return want
}

// Over UDP every datagram arrives whole: Python's trailing NUL is part of it
// (the syslog parser trims it).
func TestPythonSysLogHandlerUDP(t *testing.T) {
	var c collector
	l := startListener(t, Options{Handle: c.handle}, "udp")
	runPython(t, port(t, l, "udp"), "udp", 1000)
	diffMessages(t, c.waitMessages(t, 1000), pythonWant(1000, "\x00"))
	if s := stats(t, l, "udp"); s.Messages != 1000 || s.KernelDrops != 0 {
		t.Errorf("stats %+v", s)
	}
}

// Over TCP the NUL is the frame terminator and is not part of the message.
func TestPythonSysLogHandlerTCP(t *testing.T) {
	var c collector
	l := startListener(t, Options{Handle: c.handle}, "tcp")
	runPython(t, port(t, l, "tcp"), "tcp", 1000)
	diffMessages(t, c.waitMessages(t, 1000), pythonWant(1000, ""))
	s := stats(t, l, "tcp")
	if s.Messages != 1000 || s.ConnsAccepted != 1 || s.Oversize != 0 {
		t.Errorf("stats %+v", s)
	}
	for _, src := range c.srcs {
		if src.String() != "127.0.0.1" {
			t.Fatalf("source %v, want 127.0.0.1", src)
		}
	}
}

// util-linux logger in every framing and header format it has. With
// --stderr it prints exactly what it sends (with the octet count, if any),
// one message per line: that is the expectation.
func TestLogger(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		t.Fatal("logger (util-linux) is required: ", err)
	}
	lines := make([]string, 50)
	for i := range lines {
		lines[i] = fmt.Sprintf("cust inst A %d 2009-07-30 15:47:21.%06d 200 93638 ünïcödé", i, i)
	}
	stdin := strings.Join(lines, "\n") + "\n"

	for _, tc := range []struct {
		name  string
		net   string
		args  []string
		octet bool
	}{
		{"udp rfc3164", "udp", []string{"--udp", "--rfc3164"}, false},
		{"udp rfc5424", "udp", []string{"--udp", "--rfc5424"}, false},
		{"tcp rfc3164", "tcp", []string{"--tcp", "--rfc3164"}, false},
		{"tcp rfc5424", "tcp", []string{"--tcp", "--rfc5424"}, false},
		{"tcp rfc3164 octet-count", "tcp", []string{"--tcp", "--rfc3164", "--octet-count"}, true},
		{"tcp rfc5424 octet-count", "tcp", []string{"--tcp", "--rfc5424", "--octet-count"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c collector
			l := startListener(t, Options{Handle: c.handle}, tc.net)
			args := append([]string{"--stderr", "-n", "127.0.0.1", "-P", port(t, l, tc.net), "-t", "zc.tracelog"}, tc.args...)
			cmd := exec.Command("logger", args...)
			cmd.Stdin = strings.NewReader(stdin)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("logger %v: %v\n%s", args, err, stderr.String())
			}

			sent := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(sent) != len(lines) {
				t.Fatalf("logger printed %d messages, want %d:\n%s", len(sent), len(lines), stderr.String())
			}
			want := make([]string, len(sent))
			for i, s := range sent {
				if tc.octet {
					n, msg, ok := strings.Cut(s, " ")
					if cnt, err := strconv.Atoi(n); !ok || err != nil || cnt != len(msg) {
						t.Fatalf("logger line %q: bad octet count", s)
					}
					s = msg
				}
				if !strings.HasPrefix(s, "<13>") || !strings.HasSuffix(s, lines[i]) {
					t.Fatalf("logger sent %q: not a syslog message ending in %q", s, lines[i])
				}
				want[i] = s
			}
			diffMessages(t, c.waitMessages(t, len(want)), want)
		})
	}
}
