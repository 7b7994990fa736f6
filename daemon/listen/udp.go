package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// udpBatch is how many datagrams one recvmmsg call may return. At syslog
// message sizes the syscall, not the copy, is the cost, so 64 per call cuts
// the per-message kernel crossings to almost nothing.
const udpBatch = 64

// maxDatagram is the largest UDP payload over IPv4 or IPv6 (without jumbo
// grams); a bigger buffer would never fill.
const maxDatagram = 65535

type udpSocket struct {
	conn       *net.UDPConn
	inode      uint64 // socket inode: the key of its row in /proc/net/udp{,6}
	recvBuffer int    // SO_RCVBUF as granted (the kernel reports double the request)
	counters
}

func (l *Listener) bindUDP(addr string) (*udpSocket, error) {
	pc, err := new(net.ListenConfig).ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	conn := pc.(*net.UDPConn)
	s := &udpSocket{conn: conn}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	var forced bool
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		forced, s.recvBuffer, sockErr = setRecvBuffer(int(fd), l.opts.RecvBuffer)
		if sockErr != nil {
			return
		}
		var st unix.Stat_t
		if sockErr = unix.Fstat(int(fd), &st); sockErr == nil {
			s.inode = st.Ino
		}
	})
	if err == nil {
		err = sockErr
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}

	level := slog.LevelInfo
	if s.recvBuffer < l.opts.RecvBuffer {
		// Without CAP_NET_ADMIN the request is capped at net.core.rmem_max.
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "udp listening", "addr", conn.LocalAddr().String(),
		"recv_buffer_requested", l.opts.RecvBuffer, "recv_buffer_granted", s.recvBuffer, "forced", forced)
	return s, nil
}

// setRecvBuffer asks for a receive buffer of n bytes, first past
// net.core.rmem_max with SO_RCVBUFFORCE (allowed with CAP_NET_ADMIN, which a
// daemon run as root has), else within it, and returns what the kernel
// granted. Linux doubles the request to leave room for its bookkeeping and
// reports the doubled value; granted is half of it, comparable to n.
func setRecvBuffer(fd, n int) (forced bool, granted int, err error) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) == nil {
		forced = true
	} else if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
		return false, 0, fmt.Errorf("set SO_RCVBUF %d: %w", n, err)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return forced, 0, fmt.Errorf("get SO_RCVBUF: %w", err)
	}
	return forced, got / 2, nil
}

// readUDP reads datagrams until the socket is closed and hands them to
// Handle in batches per sender, held as Options.BatchSize and BatchDelay say
// (see pending); on close, whatever is held is handed over first.
func (l *Listener) readUDP(s *udpSocket) {
	defer l.wg.Done()
	size := min(l.opts.MaxMessage, maxDatagram)
	slab := make([]byte, udpBatch*size)
	msgs := make([]ipv4.Message, udpBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{slab[i*size : (i+1)*size : (i+1)*size]}
	}
	// ipv4.PacketConn only wraps the socket for recvmmsg; it reads IPv6
	// sockets as well, the source family comes from each sockaddr.
	pc := ipv4.NewPacketConn(s.conn)
	backoff := time.Duration(0)
	var allow allowCache

	var held pending
	deliver := func(src netip.Addr, msgs [][]byte) { l.deliver(&s.counters, src, msgs) }
	defer held.flush(deliver)
	// armed: a read deadline is set for when the oldest held datagram
	// has waited BatchDelay, so a quiet socket still hands it over.
	armed := false
	disarm := func() {
		if armed {
			s.conn.SetReadDeadline(time.Time{})
			armed = false
		}
	}

	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				disarm()
				held.flush(deliver)
				continue
			}
			if errors.Is(err, net.ErrClosed) || l.isClosed() {
				return
			}
			s.readErrors.Add(1)
			l.limit.Log(l.log, "udp read error", "udp read error", "addr", s.conn.LocalAddr().String(), "err", err)
			// A persistent error must not spin a core.
			backoff = min(max(2*backoff, time.Millisecond), time.Second)
			if !l.wait(backoff) {
				return
			}
			continue
		}
		backoff = 0

		now := time.Now()
		for i := range msgs[:n] {
			m := &msgs[i]
			if m.Flags&unix.MSG_TRUNC != 0 {
				s.oversize.Add(1)
				l.limit.Log(l.log, "udp oversize", "dropped oversized UDP datagram",
					"addr", s.conn.LocalAddr().String(), "src", addrOf(m.Addr), "max", size)
				continue
			}
			if m.N == 0 {
				continue
			}
			from := addrOf(m.Addr)
			if !allow.allows(l.opts.Allow, from) {
				s.refused.Add(1)
				l.limit.Log(l.log, "udp refused", "dropped datagram from a source not in [syslog] allow",
					"addr", s.conn.LocalAddr().String(), "src", from)
				continue
			}
			if !held.add(from, m.Buffers[0][:m.N], now) {
				held.flush(deliver)
				held.add(from, m.Buffers[0][:m.N], now)
			}
		}
		switch {
		case held.n == 0:
		case l.opts.BatchDelay < 0 || held.n >= l.opts.BatchSize || len(held.arena) >= maxArena ||
			now.Sub(held.first) >= l.opts.BatchDelay:
			disarm()
			held.flush(deliver)
		case !armed:
			s.conn.SetReadDeadline(held.first.Add(l.opts.BatchDelay))
			armed = true
		}
	}
}

// addrOf returns the IP of a datagram's source, IPv4-mapped IPv6 unmapped so
// a dual-stack socket names IPv4 senders as IPv4.
func addrOf(a net.Addr) netip.Addr {
	if ua, ok := a.(*net.UDPAddr); ok {
		return ua.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
