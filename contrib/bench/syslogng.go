package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// syslogNG is a real syslog-ng writing the old pipeline's directory files:
// one line per message, "host customer instance RECORD", a file per
// transport so each is counted on its own. For Python's header-less
// "<14>customer instance RECORD" syslog-ng takes the customer for the
// program name, so the template puts ${MSGHDR} back in front of ${MSG}.
type syslogNG struct {
	cmd      *exec.Cmd
	dir      string
	udp, tcp string
	files    map[string]*fileCounter
	exited   chan struct{}
	waitErr  error
}

// syslogNGConfig is the file hop, tuned as an operator would for load: the
// same receive buffer as graphmetrics, large fetch and window sizes, a big
// output queue, and flow control on the TCP path so TCP loses nothing (the
// sender is slowed instead).
func syslogNGConfig(dir string, udpPort, tcpPort int) string {
	return fmt.Sprintf(`@version: 3.38
# written by contrib/bench: the file hop of the old tracelog pipeline
options {
  keep_hostname(yes); chain_hostnames(no); use_dns(no); use_fqdn(no);
  stats_freq(0); time_reap(30); log_fifo_size(1000000); flush_lines(1000);
};
source s_udp { network(ip("127.0.0.1") port(%d) transport("udp") so_rcvbuf(%d) log_fetch_limit(1000) log_iw_size(100000)); };
source s_tcp { network(ip("127.0.0.1") port(%d) transport("tcp") max_connections(10) log_fetch_limit(1000) log_iw_size(100000)); };
destination d_udp { file("%s" template("${HOST} ${MSGHDR}${MSG}\n")); };
destination d_tcp { file("%s" template("${HOST} ${MSGHDR}${MSG}\n")); };
log { source(s_udp); destination(d_udp); };
log { source(s_tcp); destination(d_tcp); flags(flow-control); };
`, udpPort, recvBuffer, tcpPort, filepath.Join(dir, "udp.log"), filepath.Join(dir, "tcp.log"))
}

// freePort finds a loopback port free for both UDP and TCP. Another
// process could take it before syslog-ng binds it; start fails then.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port for both UDP and TCP")
}

func startSyslogNG(ctx context.Context, bin, dir string) (*syslogNG, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	up, err := freePort()
	if err != nil {
		return nil, err
	}
	tp, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(conf, []byte(syslogNGConfig(dir, up, tp)), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, bin, "--syntax-only", "-f", conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("syslog-ng --syntax-only: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "syslog-ng.log"))
	if err != nil {
		return nil, err
	}
	s := &syslogNG{dir: dir, udp: "127.0.0.1:" + strconv.Itoa(up), tcp: "127.0.0.1:" + strconv.Itoa(tp),
		exited: make(chan struct{}), files: map[string]*fileCounter{
			"udp": {path: filepath.Join(dir, "udp.log")},
			"tcp": {path: filepath.Join(dir, "tcp.log")},
		}}
	s.cmd = exec.Command(bin, "-F", "-f", conf,
		"--persist-file="+filepath.Join(dir, "syslog-ng.persist"),
		"--pidfile="+filepath.Join(dir, "syslog-ng.pid"),
		"--control="+filepath.Join(dir, "syslog-ng.ctl"))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start syslog-ng: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	// Ready when the TCP port accepts (both sources open together).
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.tcp, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("syslog-ng exited at start: %v\n%s", s.waitErr, tail(filepath.Join(dir, "syslog-ng.log"), 2000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("syslog-ng not listening after 15s")
		}
	}
	return s, nil
}

func (s *syslogNG) name() string { return "syslog-ng" }
func (s *syslogNG) pid() int     { return s.cmd.Process.Pid }
func (s *syslogNG) addr(transport string) string {
	if transport == "udp" {
		return s.udp
	}
	return s.tcp
}

func (s *syslogNG) received(_ context.Context, transport string) (uint64, bool, error) {
	n, err := s.files[transport].count()
	return n, true, err
}

// afterStep empties the output files between steps (once counted), so a
// long search does not fill the disk.
func (s *syslogNG) afterStep() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.truncate())
	}
	return errors.Join(errs...)
}

func (s *syslogNG) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	if s.waitErr != nil && !strings.Contains(s.waitErr.Error(), "terminated") {
		return fmt.Errorf("syslog-ng: %w", s.waitErr)
	}
	return nil
}
