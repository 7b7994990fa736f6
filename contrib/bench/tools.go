package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// buildLoadgen compiles contrib/loadgen into dir.
func buildLoadgen(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "loadgen")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "graphmetrics/contrib/loadgen")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build contrib/loadgen: %v\n%s", err, b)
	}
	return out, nil
}

// genSummary is loadgen's JSON summary (contrib/loadgen Summary).
type genSummary struct {
	Transport     string  `json:"transport"`
	Instances     int     `json:"instances"`
	RequestedRate float64 `json:"requested_rate"`
	Sent          uint64  `json:"sent"`
	Generated     uint64  `json:"generated"`
	Bytes         uint64  `json:"bytes"`
	SendErrors    uint64  `json:"send_errors"`
	Requests      uint64  `json:"requests"`
	Errors        uint64  `json:"errors"`
	Seconds       float64 `json:"seconds"`
	Rate          float64 `json:"rate"`
	TotalSeconds  float64 `json:"total_seconds"`
	MaxLagMs      float64 `json:"max_lag_ms"`
	// CPU is the sender process's own CPU seconds (from its rusage).
	CPU float64 `json:"cpu_seconds"`
}

// load is one loadgen run: where to, how much, how.
type load struct {
	transport string // "udp" or "tcp"
	addr      string
	rate      float64
	duration  time.Duration
	instances int
	extra     []string
}

func (l load) args() []string {
	a := []string{"-" + l.transport, l.addr, "-rate", strconv.FormatFloat(l.rate, 'f', 0, 64),
		"-duration", l.duration.String(), "-instances", strconv.Itoa(l.instances), "-timezone", "UTC"}
	return append(a, l.extra...)
}

// runLoad runs loadgen to completion and returns its summary.
func runLoad(ctx context.Context, bin string, l load) (genSummary, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, l.args()...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var s genSummary
	if jerr := json.Unmarshal(stdout.Bytes(), &s); jerr != nil && err == nil {
		err = fmt.Errorf("loadgen summary: %w: %q", jerr, stdout.String())
	}
	if st := cmd.ProcessState; st != nil {
		s.CPU = (st.UserTime() + st.SystemTime()).Seconds()
	}
	if err != nil {
		return s, fmt.Errorf("loadgen %v: %w\n%s", l.args(), err, stderr.String())
	}
	return s, nil
}

// sinkProc is loadgen's bare reader (-mode sink) in its own process, like
// the daemon it is compared with.
type sinkProc struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *bufio.Scanner
	udp     string
	tcp     string
	granted int
}

type sinkCounts struct {
	Addr        string `json:"addr"`
	TCPAddr     string `json:"tcp_addr"`
	RecvBuffer  int    `json:"recv_buffer"`
	Datagrams   uint64 `json:"datagrams"`
	TCPMessages uint64 `json:"tcp_messages"`
}

func startSinkProc(ctx context.Context, bin string) (*sinkProc, error) {
	cmd := exec.CommandContext(ctx, bin, "-mode", "sink", "-udp", "127.0.0.1:0", "-tcp", "127.0.0.1:0",
		"-recv-buffer", strconv.Itoa(recvBuffer))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sink: %w", err)
	}
	s := &sinkProc{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	c, err := s.read()
	if err != nil {
		s.close()
		return nil, err
	}
	s.udp, s.tcp, s.granted = c.Addr, c.TCPAddr, c.RecvBuffer
	return s, nil
}

func (s *sinkProc) read() (sinkCounts, error) {
	var c sinkCounts
	if !s.out.Scan() {
		return c, fmt.Errorf("sink: no answer: %v", s.out.Err())
	}
	err := json.Unmarshal(s.out.Bytes(), &c)
	return c, err
}

func (s *sinkProc) counts() (sinkCounts, error) {
	if _, err := io.WriteString(s.stdin, "\n"); err != nil {
		return sinkCounts{}, fmt.Errorf("sink: %w", err)
	}
	return s.read()
}

func (s *sinkProc) pid() int { return s.cmd.Process.Pid }

func (s *sinkProc) close() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
