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

// sink is the bare Go reader that the daemon is measured against: over
// UDP one ReadFromUDP per datagram with the same receive buffer, over TCP
// large reads that only count message terminators (NUL or newline). It
// does nothing with what it reads.
type sink struct {
	conn        *net.UDPConn
	ln          net.Listener // nil without -tcp
	recvBuffer  int
	datagrams   atomic.Uint64
	bytes       atomic.Uint64
	tcpMessages atomic.Uint64
	tcpBytes    atomic.Uint64
	done        chan struct{}
}

// sinkCounts is what the sink reports.
type sinkCounts struct {
	Addr        string `json:"addr"`
	TCPAddr     string `json:"tcp_addr,omitempty"`
	RecvBuffer  int    `json:"recv_buffer"`
	Datagrams   uint64 `json:"datagrams"`
	Bytes       uint64 `json:"bytes"`
	TCPMessages uint64 `json:"tcp_messages"`
	TCPBytes    uint64 `json:"tcp_bytes"`
}

func startSink(addr, tcpAddr string, recvBuffer int) (*sink, error) {
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
	if tcpAddr != "" {
		if s.ln, err = net.Listen("tcp", tcpAddr); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sink: %w", err)
		}
		go s.accept()
	}
	go s.read()
	return s, nil
}

func (s *sink) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 256<<10)
			for {
				n, err := c.Read(buf)
				var msgs uint64
				for _, b := range buf[:n] {
					if b == 0 || b == '\n' {
						msgs++
					}
				}
				s.tcpMessages.Add(msgs)
				s.tcpBytes.Add(uint64(n))
				if err != nil {
					return
				}
			}
		}()
	}
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
	c := sinkCounts{Addr: s.conn.LocalAddr().String(), RecvBuffer: s.recvBuffer,
		Datagrams: s.datagrams.Load(), Bytes: s.bytes.Load(),
		TCPMessages: s.tcpMessages.Load(), TCPBytes: s.tcpBytes.Load()}
	if s.ln != nil {
		c.TCPAddr = s.ln.Addr().String()
	}
	return c
}

// close stops reading. Open TCP connections end when their senders close
// them.
func (s *sink) close() {
	s.conn.Close()
	<-s.done
	if s.ln != nil {
		s.ln.Close()
	}
}

// runSink serves the sink to another process: its counts as one JSON line
// at start and after every line read from stdin, until stdin ends or ctx
// is done.
func runSink(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	s, err := startSink(o.udp, o.tcp, o.recvBuffer)
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
