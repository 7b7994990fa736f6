package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/ipv4"
)

// sender delivers messages over one transport and counts what the kernel
// took.
type sender interface {
	emitter
	// flush sends what is buffered; with force false a sender may keep a
	// small buffer a little longer to send it in bigger writes.
	flush(force bool) error
	close() error
	counts() sendCounts
}

type sendCounts struct {
	Lines  uint64 // messages accepted by the kernel
	Bytes  uint64
	Errors uint64 // messages lost to send errors
}

const (
	udpBatch = 64   // datagrams per sendmmsg
	udpSlot  = 2048 // bytes per datagram buffer; messages are far shorter
)

// udpSender sends datagrams from one connected socket, udpBatch per
// sendmmsg call.
type udpSender struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	msgs []ipv4.Message
	slab []byte
	n    int
	c    sendCounts
}

func dialUDP(addr string) (*udpSender, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial udp %s: %w", addr, err)
	}
	conn := c.(*net.UDPConn)
	// A large send buffer keeps sendmmsg from blocking on bursts.
	_ = conn.SetWriteBuffer(4 << 20)
	s := &udpSender{conn: conn, pc: ipv4.NewPacketConn(conn), msgs: make([]ipv4.Message, udpBatch),
		slab: make([]byte, udpBatch*udpSlot)}
	for i := range s.msgs {
		s.msgs[i].Buffers = [][]byte{nil}
	}
	return s, nil
}

func (s *udpSender) add(_ int, msg []byte) error {
	if len(msg) > udpSlot {
		return fmt.Errorf("message of %d bytes exceeds %d", len(msg), udpSlot)
	}
	off := s.n * udpSlot
	n := copy(s.slab[off:off+udpSlot], msg)
	s.msgs[s.n].Buffers[0] = s.slab[off : off+n]
	s.n++
	if s.n == udpBatch {
		return s.flush(true)
	}
	return nil
}

func (s *udpSender) flush(bool) error {
	msgs := s.msgs[:s.n]
	s.n = 0
	for len(msgs) > 0 {
		k, err := s.pc.WriteBatch(msgs, 0)
		for _, m := range msgs[:k] {
			s.c.Lines++
			s.c.Bytes += uint64(len(m.Buffers[0]))
		}
		msgs = msgs[k:]
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// ECONNREFUSED (nobody listening yet) or ENOBUFS: that
			// datagram is lost; go on with the rest.
			s.c.Errors++
			if len(msgs) > 0 {
				msgs = msgs[1:]
			}
		}
	}
	return nil
}

func (s *udpSender) close() error       { return s.conn.Close() }
func (s *udpSender) counts() sendCounts { return s.c }

// Framings of messages on a TCP stream (RFC 6587 and Python's NUL).
const (
	frameNUL     = "nul"
	frameNewline = "newline"
	frameOctet   = "octet"
)

// tcpSender spreads instances over a few connections (an instance always
// uses the same one, so its records stay in order) and writes in large
// buffered chunks.
type tcpSender struct {
	conns     []*tcpConn
	framing   string
	lastFlush time.Time
	c         sendCounts
}

type tcpConn struct {
	conn    net.Conn
	w       *bufio.Writer
	pending uint64 // lines buffered since the last flush
	bytes   uint64
}

const (
	tcpBuffer   = 256 << 10
	tcpFlushAt  = 64 << 10
	tcpMaxDelay = 5 * time.Millisecond
)

func dialTCP(addr string, n int, framing string) (*tcpSender, error) {
	switch framing {
	case frameNUL, frameNewline, frameOctet:
	default:
		return nil, fmt.Errorf("unknown framing %q (want nul, newline or octet)", framing)
	}
	s := &tcpSender{framing: framing, lastFlush: time.Now()}
	for range max(n, 1) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("dial tcp %s: %w", addr, err)
		}
		s.conns = append(s.conns, &tcpConn{conn: c, w: bufio.NewWriterSize(c, tcpBuffer)})
	}
	return s, nil
}

func (s *tcpSender) add(inst int, msg []byte) error {
	c := s.conns[inst%len(s.conns)]
	var err error
	switch s.framing {
	case frameOctet:
		var hdr [12]byte
		h := strconv.AppendInt(hdr[:0], int64(len(msg)), 10)
		h = append(h, ' ')
		_, err = c.w.Write(h)
		if err == nil {
			_, err = c.w.Write(msg)
		}
		c.bytes += uint64(len(h) + len(msg))
	case frameNewline:
		_, err = c.w.Write(msg)
		if err == nil {
			err = c.w.WriteByte('\n')
		}
		c.bytes += uint64(len(msg) + 1)
	default:
		_, err = c.w.Write(msg)
		if err == nil {
			err = c.w.WriteByte(0)
		}
		c.bytes += uint64(len(msg) + 1)
	}
	c.pending++
	if err != nil {
		return s.fail(c, err)
	}
	return nil
}

func (s *tcpSender) fail(c *tcpConn, err error) error {
	s.c.Errors += c.pending
	c.pending, c.bytes = 0, 0
	return fmt.Errorf("tcp write: %w", err)
}

func (s *tcpSender) flush(force bool) error {
	if !force && time.Since(s.lastFlush) < tcpMaxDelay {
		big := false
		for _, c := range s.conns {
			big = big || c.w.Buffered() >= tcpFlushAt
		}
		if !big {
			return nil
		}
	}
	s.lastFlush = time.Now()
	for _, c := range s.conns {
		if c.pending == 0 {
			continue
		}
		if err := c.w.Flush(); err != nil {
			return s.fail(c, err)
		}
		s.c.Lines += c.pending
		s.c.Bytes += c.bytes
		c.pending, c.bytes = 0, 0
	}
	return nil
}

func (s *tcpSender) close() error {
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.conn.Close())
	}
	return errors.Join(errs...)
}

func (s *tcpSender) counts() sendCounts { return s.c }
