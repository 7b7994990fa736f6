package listen

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

func dial(t testing.TB, network string, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, a.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s %v: %v", network, a, err)
	}
	return c
}

func write(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func goodMessages(prefix string, n int) (wire []byte, want []string) {
	for i := range n {
		m := fmt.Sprintf("<14>zc.tracelog: c i E %s%d 2009-07-30 15:47:21", prefix, i)
		wire = append(wire, m...)
		wire = append(wire, '\n')
		want = append(want, m)
	}
	return wire, want
}

// TestTCPHostile throws what broke earlier syslog servers at the TCP
// listener and checks that it keeps going and loses no good message.
func TestTCPHostile(t *testing.T) {
	var c collector
	// One source opens them all: the per-source cap is not what this tests.
	l := startListener(t, Options{Handle: c.handle, MaxConns: 2000, MaxConnsPerSource: 2000}, "tcp")
	a := addr(t, l, "tcp")

	// 1,000 connections opened and dropped, half of them with a reset.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 125 {
				conn, err := net.DialTimeout("tcp", a.String(), 5*time.Second)
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				if i%2 == 0 {
					conn.(*net.TCPConn).SetLinger(0) // RST instead of FIN
				}
				if (w+i)%3 == 0 {
					conn.Write([]byte("<13>half a mess")) // cut off, never terminated
				}
				conn.Close()
			}
		})
	}
	wg.Wait()

	// Random bytes, each on its own connection: they may hold anything,
	// including an octet count that swallows the rest of that connection.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		junk := make([]byte, 1+rng.IntN(8192))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		conn := dial(t, "tcp", a)
		write(t, conn, junk)
		conn.Close()
	}

	// One connection: <13>, -5 x, a NUL flood, a 1 MiB line, then good
	// messages, which must all arrive.
	hostile := dial(t, "tcp", a)
	defer hostile.Close()
	write(t, hostile, []byte("<13>\n-5 x\n"))
	write(t, hostile, make([]byte, 1<<20))
	write(t, hostile, append(bytes.Repeat([]byte("<13>"), 1<<18), '\n'))
	wire, want := goodMessages("after", 1000)
	write(t, hostile, wire)

	// And a fresh, polite connection.
	polite := dial(t, "tcp", a)
	wire2, want2 := goodMessages("polite", 100)
	write(t, polite, wire2)
	polite.Close()

	testwait.For(t, 10*time.Second, "good messages", func() bool {
		got := c.snapshot()
		return containsInOrder(got, want) && containsInOrder(got, want2)
	})
	got := c.snapshot()
	for _, m := range []string{"<13>", "-5 x"} {
		if !slices.Contains(got, m) {
			t.Errorf("message %q not delivered as one message", m)
		}
	}
	for _, m := range got {
		if len(m) > DefaultMaxMessage {
			t.Errorf("delivered a %d-byte message, max %d", len(m), DefaultMaxMessage)
		}
	}
	testwait.For(t, 5*time.Second, "connections to close", func() bool { return stats(t, l, "tcp").ConnsOpen == 1 })
	s := stats(t, l, "tcp")
	if s.ConnsAccepted != 1000+50+2 || s.ConnsRejected != 0 || s.Oversize < 1 || s.Panics != 0 {
		t.Errorf("stats %+v", s)
	}
	t.Logf("stats %+v", s)
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestUDPHostile(t *testing.T) {
	var c collector
	l := startListener(t, Options{Handle: c.handle, MaxMessage: 1024}, "udp")
	conn := dial(t, "udp", addr(t, l, "udp"))
	defer conn.Close()

	rng := rand.New(rand.NewPCG(3, 4))
	var want []string
	for i := range 200 {
		var d []byte
		switch i % 5 {
		case 0:
			d = []byte("<13>")
		case 1:
			d = []byte("-5 x")
		case 2:
			d = make([]byte, 1+rng.IntN(1024))
			for j := range d {
				d[j] = byte(rng.Uint32())
			}
		case 3:
			d = bytes.Repeat([]byte{'A'}, 1025+rng.IntN(60000)) // oversized
		case 4:
			d = make([]byte, 0) // empty datagram: skipped
		}
		write(t, conn, d)
		if len(d) > 0 && len(d) <= 1024 {
			want = append(want, string(d))
		}
	}
	for i := range 100 {
		m := fmt.Sprintf("<14>good %d", i)
		write(t, conn, []byte(m))
		want = append(want, m)
	}
	diffMessages(t, c.waitMessages(t, len(want)), want)
	s := stats(t, l, "udp")
	if s.Oversize != 40 || s.Messages != uint64(len(want)) || s.KernelDrops != 0 {
		t.Errorf("stats %+v", s)
	}
}

// MaxConns: the connection over the limit is closed at once, counted, and a
// slot freed later is usable again.
func TestTCPMaxConns(t *testing.T) {
	var c collector
	l := startListener(t, Options{Handle: c.handle, MaxConns: 5}, "tcp")
	a := addr(t, l, "tcp")
	var conns []net.Conn
	for i := range 5 {
		conn := dial(t, "tcp", a)
		defer conn.Close()
		write(t, conn, fmt.Appendf(nil, "<14>conn %d\n", i))
		conns = append(conns, conn)
	}
	c.waitMessages(t, 5) // all five are being served

	extra := dial(t, "tcp", a)
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Fatalf("connection over MaxConns: read %d, %v; want it closed", n, err)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection over MaxConns was not closed")
	}
	if s := stats(t, l, "tcp"); s.ConnsRejected != 1 || s.ConnsOpen != 5 {
		t.Fatalf("stats %+v", s)
	}

	conns[0].Close()
	testwait.For(t, 5*time.Second, "a free slot", func() bool { return stats(t, l, "tcp").ConnsOpen == 4 })
	again := dial(t, "tcp", a)
	defer again.Close()
	write(t, again, []byte("<14>again\n"))
	got := c.waitMessages(t, 6)
	if got[5] != "<14>again" {
		t.Fatalf("got %q", got)
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	var c collector
	l := startListener(t, Options{Handle: c.handle, IdleTimeout: 500 * time.Millisecond}, "tcp")
	conn := dial(t, "tcp", addr(t, l, "tcp"))
	defer conn.Close()
	// Activity keeps it open past the timeout: writes 100 ms apart (the
	// sender's pace, with 400 ms to spare on a busy machine) for 800 ms.
	for i := range 8 {
		write(t, conn, fmt.Appendf(nil, "<14>m%d\n", i))
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read on idle connection: %v, want EOF", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle connection closed after %v", d)
	}
	if got := c.snapshot(); len(got) != 8 {
		t.Errorf("got %q", got)
	}
	testwait.For(t, 2*time.Second, "conn count", func() bool { return stats(t, l, "tcp").ConnsOpen == 0 })
}

// A panicking handler loses its batch, nothing else.
func TestHandlerPanic(t *testing.T) {
	var c collector
	handle := func(src netip.Addr, msgs [][]byte) {
		for _, m := range msgs {
			if string(m) == "boom" {
				panic("handler bug")
			}
		}
		c.handle(src, msgs)
	}
	l := startListener(t, Options{Handle: handle}, "udp", "tcp")

	u := dial(t, "udp", addr(t, l, "udp"))
	defer u.Close()
	write(t, u, []byte("boom"))
	testwait.For(t, 5*time.Second, "the UDP handler's panic", func() bool { return stats(t, l, "udp").Panics == 1 })
	write(t, u, []byte("<14>udp ok"))

	tc := dial(t, "tcp", addr(t, l, "tcp"))
	defer tc.Close()
	write(t, tc, []byte("boom\n"))
	testwait.For(t, 5*time.Second, "the TCP handler's panic", func() bool { return stats(t, l, "tcp").Panics == 1 })
	write(t, tc, []byte("<14>tcp ok\n"))

	got := c.waitMessages(t, 2)
	slices.Sort(got)
	if strings.Join(got, "|") != "<14>tcp ok|<14>udp ok" {
		t.Fatalf("got %q", got)
	}
	for _, network := range []string{"udp", "tcp"} {
		if s := stats(t, l, network); s.Panics != 1 {
			t.Errorf("%s stats %+v", network, s)
		}
	}
}
