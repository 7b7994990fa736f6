package listen

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"graphmetrics/parser/testwait"
)

// callLog is a Handle that records each call: when, from whom, what.
type callLog struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	at   time.Time
	src  netip.Addr
	msgs []string
}

func (c *callLog) handle(src netip.Addr, msgs [][]byte) {
	cl := call{at: time.Now(), src: src}
	for _, m := range msgs {
		cl.msgs = append(cl.msgs, string(m))
	}
	c.mu.Lock()
	c.calls = append(c.calls, cl)
	c.mu.Unlock()
}

func (c *callLog) snapshot() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

func (c *callLog) count() int {
	n := 0
	for _, cl := range c.snapshot() {
		n += len(cl.msgs)
	}
	return n
}

func sendUDP(t *testing.T, l *Listener, msgs []string) time.Time {
	t.Helper()
	conn, err := net.Dial("udp", addr(t, l, "udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sent := time.Now()
	for _, m := range msgs {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	return sent
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("<14>%s %d", prefix, i)
	}
	return out
}

// A quiet socket hands what it holds over once the oldest datagram has
// waited BatchDelay, all in one call.
func TestUDPBatchDeadlineFlush(t *testing.T) {
	var c callLog
	const delay = 300 * time.Millisecond
	l := startListener(t, Options{Handle: c.handle, BatchSize: 1000, BatchDelay: delay}, "udp")
	want := numbered("deadline", 3)
	sent := sendUDP(t, l, want)
	testwait.For(t, 10*time.Second, "the held datagrams", func() bool { return c.count() == len(want) })
	calls := c.snapshot()
	if len(calls) != 1 {
		t.Fatalf("got %d Handle calls, want 1: %+v", len(calls), calls)
	}
	diffMessages(t, calls[0].msgs, want)
	if waited := calls[0].at.Sub(sent); waited < delay {
		t.Errorf("handed over after %v, before BatchDelay %v", waited, delay)
	}
	if calls[0].src != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("src %v, want 127.0.0.1", calls[0].src)
	}
}

// BatchSize datagrams are handed over at once, however long BatchDelay is;
// what is held at Close is handed over before Close returns.
func TestUDPBatchSizeAndCloseFlush(t *testing.T) {
	var c callLog
	opts := Options{Handle: c.handle, BatchSize: 10, BatchDelay: time.Hour,
		UDP: []string{"127.0.0.1:0"}, Logger: testLogger(t)}
	l := New(opts)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	first := numbered("size", 10)
	sendUDP(t, l, first)
	testwait.For(t, 10*time.Second, "a full batch", func() bool { return c.count() == len(first) })
	if calls := c.snapshot(); len(calls) != 1 {
		t.Fatalf("got %d Handle calls for one full batch, want 1", len(calls))
	}

	rest := numbered("held", 5)
	sendUDP(t, l, rest)
	// Once the socket's queue is empty the reader holds them.
	testwait.For(t, 10*time.Second, "the reader to take the datagrams", func() bool { return rxQueue(t, l) == 0 })
	if n := c.count(); n != len(first) {
		t.Fatalf("%d messages handed over before Close, want %d (BatchDelay is an hour)", n, len(first))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	calls := c.snapshot()
	var got []string
	for _, cl := range calls {
		got = append(got, cl.msgs...)
	}
	diffMessages(t, got, append(first, rest...))
	if st := stats(t, l, "udp"); st.Messages != uint64(len(first)+len(rest)) {
		t.Errorf("Stats().Messages = %d, want %d", st.Messages, len(first)+len(rest))
	}
}

// rxQueue is the byte count of the next datagram waiting in l's UDP socket
// (FIONREAD), 0 when none waits.
func rxQueue(t *testing.T, l *Listener) int {
	raw, err := l.udp[0].conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ioErr error
	if err := raw.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		t.Fatal(err)
	}
	if ioErr != nil {
		t.Fatal(ioErr)
	}
	return n
}

// pending keeps senders apart, in order of arrival, up to maxGroups of them.
func TestPendingGroups(t *testing.T) {
	var p pending
	now := time.Now()
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for i, src := range []netip.Addr{a, b, a, b, a} {
		if !p.add(src, fmt.Appendf(nil, "m%d", i), now) {
			t.Fatalf("add %d refused", i)
		}
	}
	var got []call
	p.flush(func(src netip.Addr, msgs [][]byte) {
		cl := call{src: src}
		for _, m := range msgs {
			cl.msgs = append(cl.msgs, string(m))
		}
		got = append(got, cl)
	})
	want := []call{{src: a, msgs: []string{"m0", "m2", "m4"}}, {src: b, msgs: []string{"m1", "m3"}}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].src != want[i].src || !slices.Equal(got[i].msgs, want[i].msgs) {
			t.Errorf("group %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if p.n != 0 || len(p.groups) != 0 || len(p.arena) != 0 {
		t.Errorf("not empty after flush: n=%d groups=%d arena=%d", p.n, len(p.groups), len(p.arena))
	}

	for i := range maxGroups {
		src := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if !p.add(src, []byte("x"), now) {
			t.Fatalf("sender %d refused, below maxGroups", i)
		}
	}
	if p.add(netip.MustParseAddr("10.1.0.0"), []byte("x"), now) {
		t.Error("a sender beyond maxGroups was taken")
	}
	if !p.add(netip.AddrFrom4([4]byte{10, 0, 0, 0}), []byte("y"), now) {
		t.Error("a known sender was refused at maxGroups")
	}
}
