// Package listen receives syslog messages over UDP and TCP and hands them, in
// batches of raw framed messages, to a callback that parses them.
//
// It owns the sockets end to end (no third-party syslog server): UDP sockets
// with a large receive buffer read many datagrams per system call
// (recvmmsg), TCP connections are framed per message by
// parser.NewFrameSplitterFunc, and every way a sender can misbehave — garbage,
// oversized messages, thousands of connections, idle connections — costs only
// that sender's message or connection, is counted in Stats and is logged at
// most once per reason per interval.
package listen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store/loglimit"
)

// Defaults for zero Options fields.
const (
	DefaultRecvBuffer  = 8 << 20
	DefaultMaxMessage  = 64 << 10
	DefaultMaxConns    = 1000
	DefaultIdleTimeout = 5 * time.Minute
	DefaultMaxPerSrc   = 64
	DefaultBatchSize   = 512
	DefaultBatchDelay  = 2 * time.Millisecond
)

// Options configures a Listener. Zero values take the defaults above.
type Options struct {
	UDP []string // addresses to listen on, e.g. "127.0.0.1:5514", ":5514"
	TCP []string

	// RecvBuffer is the UDP socket receive buffer in bytes. It is what
	// absorbs bursts while the handler is busy; the kernel drops what does
	// not fit (counted in Stats as KernelDrops). SO_RCVBUFFORCE is tried
	// first, so root is not bound by net.core.rmem_max.
	RecvBuffer int
	// MaxMessage is the largest message accepted, in bytes. Longer TCP
	// messages and UDP datagrams are dropped and counted as Oversize.
	MaxMessage int
	// MaxConns caps open TCP connections over all TCP addresses; more are
	// closed as soon as they are accepted.
	MaxConns int
	// IdleTimeout closes a TCP connection that sent nothing for that long.
	// Negative: never.
	IdleTimeout time.Duration
	// Allow lists the networks that may send (a single address is a /32 or
	// /128); empty allows everyone. Datagrams from elsewhere are dropped
	// and TCP connections closed at accept, counted as Refused.
	Allow []netip.Prefix
	// MaxConnsPerSource caps the open TCP connections of one source
	// address, so that one sender cannot hold all of MaxConns.
	MaxConnsPerSource int

	// BatchSize and BatchDelay: a UDP reader holds datagrams until it has
	// BatchSize of them (or 1 MiB), or until the oldest has waited
	// BatchDelay, and then calls Handle once per sender. A small recvmmsg
	// batch per Handle call costs the handler a hand-off per few
	// datagrams; this costs at most BatchDelay of latency. Negative
	// BatchDelay: every recvmmsg batch is handed over at once.
	BatchSize  int
	BatchDelay time.Duration

	// Split makes the framing of one TCP connection (see
	// parser.NewFrameSplitterFunc, the default, for what it must do with
	// max and oversize); line protocols pass parser.NewLineSplitterFunc.
	Split func(max int, oversize func(dropped int)) bufio.SplitFunc

	Logger *slog.Logger

	// Handle receives messages from one sender, raw as framed: a UDP
	// datagram whole (Python's trailing NUL included), a TCP message
	// without its terminator or octet count. It is called concurrently, from
	// one goroutine per UDP socket and per TCP connection, so it must be
	// safe for that. msgs and the bytes they point to are valid only during
	// the call: copy what must outlive it. A panic in Handle is recovered,
	// counted and logged; the rest of that batch is lost.
	Handle func(src netip.Addr, msgs [][]byte)
}

// Listener owns the sockets of Options.UDP and Options.TCP and the
// goroutines reading them.
type Listener struct {
	opts  Options
	log   *slog.Logger
	limit *loglimit.Limiter

	done chan struct{} // closed by Close; wakes backoff waits
	wg   sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
	udp     []*udpSocket
	tcp     []*tcpSocket
	conns   map[net.Conn]struct{} // open TCP connections, closed by Close
	perSrc  map[netip.Addr]int    // open TCP connections by source
}

// New returns a Listener; nothing is bound until Start.
func New(opts Options) *Listener {
	if opts.RecvBuffer <= 0 {
		opts.RecvBuffer = DefaultRecvBuffer
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.Split == nil {
		opts.Split = parser.NewFrameSplitterFunc
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxConnsPerSource <= 0 {
		opts.MaxConnsPerSource = DefaultMaxPerSrc
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.BatchDelay == 0 {
		opts.BatchDelay = DefaultBatchDelay
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{
		opts:   opts,
		log:    log.With("component", "listen"),
		limit:  loglimit.New(loglimit.DefaultEvery, nil),
		done:   make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
		perSrc: make(map[netip.Addr]int),
	}
}

// Start binds every address, then starts reading. If any bind fails, the
// sockets already bound are closed and the first error is returned.
func (l *Listener) Start() error {
	if l.opts.Handle == nil {
		return errors.New("listen: Options.Handle is nil")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.closed {
		return errors.New("listen: Start called twice or after Close")
	}
	l.started = true

	var err error
	for _, a := range l.opts.UDP {
		var s *udpSocket
		if s, err = l.bindUDP(a); err != nil {
			break
		}
		l.udp = append(l.udp, s)
	}
	for _, a := range l.opts.TCP {
		if err != nil {
			break
		}
		var s *tcpSocket
		if s, err = l.bindTCP(a); err != nil {
			break
		}
		l.tcp = append(l.tcp, s)
	}
	if err != nil {
		for _, s := range l.udp {
			s.conn.Close()
		}
		for _, s := range l.tcp {
			s.ln.Close()
		}
		l.udp, l.tcp = nil, nil
		return err
	}

	l.warnOpen()
	for _, s := range l.udp {
		l.wg.Add(1)
		go l.readUDP(s)
	}
	for _, s := range l.tcp {
		l.wg.Add(1)
		go l.acceptTCP(s)
	}
	return nil
}

// Addrs returns the bound addresses, UDP ones first, each list in Options
// order; with port 0 in Options they carry the port the kernel chose.
func (l *Listener) Addrs() []net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []net.Addr
	for _, s := range l.udp {
		out = append(out, s.conn.LocalAddr())
	}
	for _, s := range l.tcp {
		out = append(out, s.ln.Addr())
	}
	return out
}

// Close stops accepting, closes every socket and connection, and waits for
// every goroutine to return. Connections are closed, not drained: a client
// still connected cannot hold Close up. It returns ctx's error if a Handle
// call is still running when ctx ends. Close may be called more than once.
func (l *Listener) Close(ctx context.Context) error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
		for _, s := range l.udp {
			s.conn.Close()
		}
		for _, s := range l.tcp {
			s.ln.Close()
		}
		for c := range l.conns {
			c.Close()
		}
	}
	l.mu.Unlock()

	finished := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("listen: close: waiting for handlers: %w", ctx.Err())
	}
}

// counters are one socket's statistics, updated by its goroutines.
type counters struct {
	messages   atomic.Uint64
	bytes      atomic.Uint64
	oversize   atomic.Uint64
	readErrors atomic.Uint64
	panics     atomic.Uint64
	refused    atomic.Uint64 // datagrams and connections from sources not allowed

	connsOpen     atomic.Int64
	connsAccepted atomic.Uint64
	connsRejected atomic.Uint64
	connsPerSrc   atomic.Uint64 // refused for MaxConnsPerSource
}

// deliver hands one batch to Handle, counting it, and keeps a panicking
// handler from taking the reading goroutine (and the process) down.
func (l *Listener) deliver(c *counters, src netip.Addr, msgs [][]byte) {
	if len(msgs) == 0 {
		return
	}
	var n uint64
	for _, m := range msgs {
		n += uint64(len(m))
	}
	c.messages.Add(uint64(len(msgs)))
	c.bytes.Add(n)
	defer func() {
		if r := recover(); r != nil {
			c.panics.Add(1)
			l.limit.LogLevel(l.log, slog.LevelError, "handler panic", "syslog handler panicked; batch lost",
				"src", src, "messages", len(msgs), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	l.opts.Handle(src, msgs)
}

// wait sleeps for d unless Close comes first; it reports whether to go on.
func (l *Listener) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.done:
		return false
	case <-t.C:
		return true
	}
}

// isClosed reports whether Close has begun.
func (l *Listener) isClosed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}
