package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// sink is the bare Go UDP reader that the daemon is measured against: one
// ReadFromUDP per datagram, counting, with the same receive buffer.
type sink struct {
	conn       *net.UDPConn
	recvBuffer int
	datagrams  atomic.Uint64
	bytes      atomic.Uint64
	done       chan struct{}
}

// sinkCounts is what the sink reports.
type sinkCounts struct {
	Addr       string `json:"addr"`
	RecvBuffer int    `json:"recv_buffer"`
	Datagrams  uint64 `json:"datagrams"`
	Bytes      uint64 `json:"bytes"`
}

func startSink(addr string, recvBuffer int) (*sink, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &sink{conn: conn, done: make(chan struct{})}
	if s.recvBuffer, err = setRecvBuffer(conn, recvBuffer); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sink: %w", err)
	}
	go s.read()
	return s, nil
}

// setRecvBuffer sets SO_RCVBUF as graphmetrics' listener does: past
// net.core.rmem_max with SO_RCVBUFFORCE when allowed (root), else within
// it. It returns the size granted (the kernel reports double).
func setRecvBuffer(conn *net.UDPConn, n int) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var serr error
	err = raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n); serr != nil {
				return
			}
		}
		got, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	if err == nil {
		err = serr
	}
	return got / 2, err
}

func (s *sink) read() {
	defer close(s.done)
	buf := make([]byte, 65535)
	for {
		n, _, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		s.datagrams.Add(1)
		s.bytes.Add(uint64(n))
	}
}

func (s *sink) counts() sinkCounts {
	return sinkCounts{Addr: s.conn.LocalAddr().String(), RecvBuffer: s.recvBuffer,
		Datagrams: s.datagrams.Load(), Bytes: s.bytes.Load()}
}

func (s *sink) close() {
	s.conn.Close()
	<-s.done
}

// runSink serves the sink to another process: its counts as one JSON line
// at start and after every line read from stdin, until stdin ends or ctx
// is done.
func runSink(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	s, err := startSink(o.udp, o.recvBuffer)
	if err != nil {
		return err
	}
	defer s.close()
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(s.counts()); err != nil {
		return err
	}
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-lines:
			if !ok {
				return nil
			}
			if err := enc.Encode(s.counts()); err != nil {
				return err
			}
		}
	}
}
