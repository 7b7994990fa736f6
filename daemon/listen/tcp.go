package listen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"graphmetrics/parser"
)

// tcpReadBuffer is a connection's initial read buffer. It grows, one
// doubling at a time, only for a message that does not fit, up to
// MaxMessage+parser.FrameOverhead; a thousand quiet connections stay cheap.
const tcpReadBuffer = 16 << 10

type tcpSocket struct {
	ln *net.TCPListener
	counters
}

func (l *Listener) bindTCP(addr string) (*tcpSocket, error) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen tcp %s: %w", addr, err)
	}
	l.log.Info("tcp listening", "addr", ln.Addr().String(), "max_conns", l.opts.MaxConns,
		"idle_timeout", l.opts.IdleTimeout.String())
	return &tcpSocket{ln: ln.(*net.TCPListener)}, nil
}

// acceptTCP accepts connections until the listener is closed.
func (l *Listener) acceptTCP(s *tcpSocket) {
	defer l.wg.Done()
	backoff := time.Duration(0)
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.isClosed() {
				return
			}
			// Typically EMFILE: wait for descriptors to free up instead of
			// spinning on the error.
			s.readErrors.Add(1)
			l.limit.Log(l.log, "tcp accept error", "tcp accept failed", "addr", s.ln.Addr().String(), "err", err)
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if !l.wait(backoff) {
				return
			}
			continue
		}
		backoff = 0
		src := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		if !allowList(l.opts.Allow).allows(src) {
			// Counted and logged before the close, which the sender sees.
			s.refused.Add(1)
			l.limit.Log(l.log, "tcp refused", "tcp connection refused: source not in [syslog] allow",
				"addr", s.ln.Addr().String(), "src", src)
			c.Close()
			continue
		}
		switch l.track(c, src) {
		case trackTooMany:
			c.Close()
			s.connsRejected.Add(1)
			l.limit.Log(l.log, "tcp max conns", "tcp connection rejected: too many open",
				"addr", s.ln.Addr().String(), "src", c.RemoteAddr().String(), "max_conns", l.opts.MaxConns)
			continue
		case trackTooManyFromSource:
			c.Close()
			s.connsPerSrc.Add(1)
			l.limit.Log(l.log, "tcp max conns per source", "tcp connection rejected: too many open from its source",
				"addr", s.ln.Addr().String(), "src", src, "max_conns_per_source", l.opts.MaxConnsPerSource)
			continue
		case trackClosed:
			c.Close()
			continue
		}
		s.connsAccepted.Add(1)
		s.connsOpen.Add(1)
		// The accept goroutine is itself counted in wg, so this Add cannot
		// race with Close's Wait seeing zero.
		l.wg.Add(1)
		go l.serveTCP(s, c)
	}
}

type trackResult int

const (
	tracked trackResult = iota
	trackClosed
	trackTooMany
	trackTooManyFromSource
)

// track registers c for Close unless Close has begun, MaxConns are open,
// or MaxConnsPerSource are open from src.
func (l *Listener) track(c net.Conn, src netip.Addr) trackResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return trackClosed
	case l.perSrc[src] >= l.opts.MaxConnsPerSource:
		return trackTooManyFromSource
	case len(l.conns) >= l.opts.MaxConns:
		return trackTooMany
	}
	l.conns[c] = struct{}{}
	l.perSrc[src]++
	return tracked
}

func (l *Listener) untrack(c net.Conn, src netip.Addr) {
	l.mu.Lock()
	delete(l.conns, c)
	if l.perSrc[src]--; l.perSrc[src] <= 0 {
		delete(l.perSrc, src)
	}
	l.mu.Unlock()
}

// serveTCP reads one connection until EOF, error, idle timeout or Close,
// framing it per message and handing Handle one batch per read: every
// message complete in the buffer after that read.
func (l *Listener) serveTCP(s *tcpSocket, c net.Conn) {
	src := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	defer func() {
		if r := recover(); r != nil {
			// A bug in framing must cost one connection, not the process.
			s.panics.Add(1)
			l.limit.LogLevel(l.log, slog.LevelError, "tcp conn panic", "tcp connection panicked; closed",
				"src", src, "panic", r)
		}
		c.Close()
		l.untrack(c, src)
		s.connsOpen.Add(-1)
		l.wg.Done()
	}()

	maxMsg := l.opts.MaxMessage
	split := l.opts.Split(maxMsg, func(dropped int) {
		s.oversize.Add(1)
		l.limit.Log(l.log, "tcp oversize", "dropped oversized TCP message",
			"src", src, "bytes", dropped, "max", maxMsg)
	})
	limit := maxMsg + parser.FrameOverhead
	buf := make([]byte, min(tcpReadBuffer, limit))
	start, end := 0, 0 // buf[start:end] is read but not yet framed
	var batch [][]byte

	for {
		if end == len(buf) {
			switch {
			case start > 0:
				end = copy(buf, buf[start:end])
				start = 0
			case len(buf) < limit:
				nb := make([]byte, min(2*len(buf), limit))
				copy(nb, buf[:end])
				buf = nb
			default:
				// The splitter never needs more than limit bytes, so this
				// is a bug; dropping the connection is the safe way out.
				panic(fmt.Sprintf("frame splitter stalled on a full %d-byte buffer", len(buf)))
			}
		}
		if l.opts.IdleTimeout > 0 {
			c.SetReadDeadline(time.Now().Add(l.opts.IdleTimeout))
		}
		n, err := c.Read(buf[end:])
		end += n
		// Only a clean close by the sender makes an unterminated rest a
		// message; after a reset, a timeout or our own Close it may be a
		// message cut in half.
		eof := errors.Is(err, io.EOF)

		batch = batch[:0]
		for {
			adv, tok, _ := split(buf[start:end], eof)
			start += adv
			if tok != nil {
				batch = append(batch, tok)
			} else if adv == 0 {
				break
			}
		}
		l.deliver(&s.counters, src, batch)
		if start == end {
			start, end = 0, 0
		}

		if err != nil {
			l.endTCP(s, src, err)
			return
		}
	}
}

// endTCP accounts for why a connection ended.
func (l *Listener) endTCP(s *tcpSocket, src netip.Addr, err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), l.isClosed():
	case errors.Is(err, os.ErrDeadlineExceeded):
		l.log.Debug("tcp connection idle; closed", "src", src, "idle_timeout", l.opts.IdleTimeout.String())
	default:
		s.readErrors.Add(1)
		l.limit.LogLevel(l.log, slog.LevelInfo, "tcp read error", "tcp read failed; connection closed",
			"src", src, "err", err)
	}
}
