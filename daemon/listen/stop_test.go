package listen

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

func closeWithin(t testing.TB, l *Listener, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := l.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if took := time.Since(start); took > d {
		t.Fatalf("Close took %v, want < %v", took, d)
	}
}

// settleGoroutines waits for the goroutine count to fall to at most n.
func settleGoroutines(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartStopLoop starts and stops a listener 20 times on the same ports,
// each time with a client connected mid-message, and checks that no
// goroutine is left behind and that the ports can be bound again at once.
func TestStartStopLoop(t *testing.T) {
	baseline := runtime.NumGoroutine()
	udpAddr, tcpAddr := "127.0.0.1:0", "127.0.0.1:0"
	for i := range 20 {
		var c collector
		l := New(Options{UDP: []string{udpAddr}, TCP: []string{tcpAddr}, Handle: c.handle, Logger: testLogger(t)})
		if err := l.Start(); err != nil {
			t.Fatalf("iteration %d: Start: %v", i, err)
		}
		udpAddr, tcpAddr = l.Addrs()[0].String(), l.Addrs()[1].String()

		tc, err := net.Dial("tcp", tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		tc.Write([]byte("<14>hello\n<14>half a mess"))
		u, err := net.Dial("udp", udpAddr)
		if err != nil {
			t.Fatal(err)
		}
		u.Write([]byte("<14>udp"))
		testwait.For(t, 5*time.Second, "both messages", func() bool { return c.count() == 2 })

		closeWithin(t, l, time.Second)
		// The connection was closed by the server, and the half message,
		// never terminated, was not delivered.
		tc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Fatal("client connection still open after Close")
		}
		if got := c.snapshot(); len(got) != 2 {
			t.Fatalf("iteration %d: got %q", i, got)
		}
		tc.Close()
		u.Close()
	}
	settleGoroutines(t, baseline)
}

// Close returns promptly while clients are connected and a sender is
// writing as fast as it can.
func TestCloseWithBusyClients(t *testing.T) {
	baseline := runtime.NumGoroutine()
	var c collector
	l := New(Options{TCP: []string{"127.0.0.1:0"}, Handle: c.handle, Logger: testLogger(t)})
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	a := l.Addrs()[0].String()
	var idle []net.Conn
	for range 50 {
		conn, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		idle = append(idle, conn)
	}
	busy, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	writerDone := make(chan error, 1)
	go func() {
		msg := []byte(strings.Repeat("<14>busy sender\n", 1000))
		for {
			if _, err := busy.Write(msg); err != nil {
				writerDone <- err
				return
			}
		}
	}()
	testwait.For(t, 5*time.Second, "traffic", func() bool { return c.count() > 1000 })
	closeWithin(t, l, time.Second)
	select {
	case <-writerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("busy sender still writing after Close")
	}
	for _, conn := range idle {
		conn.Close()
	}
	settleGoroutines(t, baseline)
}

// A handler that never returns makes Close give up when its ctx ends, and
// Close can be called again once the handler returns.
func TestCloseBlockedHandler(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	l := startListener(t, Options{Handle: func(netip.Addr, [][]byte) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}}, "udp")
	u := dial(t, "udp", addr(t, l, "udp"))
	defer u.Close()
	write(t, u, []byte("<14>x"))
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := l.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a blocked handler: %v, want deadline exceeded", err)
	}
	close(release)
	closeWithin(t, l, time.Second)
}

// A bind error leaves nothing bound, and a closed Listener cannot restart.
func TestStartBindError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	// Find a free UDP port, then ask for it together with the busy TCP one.
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpAddr := probe.LocalAddr().String()
	probe.Close()

	l := New(Options{UDP: []string{udpAddr}, TCP: []string{busy.Addr().String()}, Handle: func(netip.Addr, [][]byte) {}})
	err = l.Start()
	if err == nil || !strings.Contains(err.Error(), "listen tcp "+busy.Addr().String()) {
		t.Fatalf("Start: %v, want a bind error naming the TCP address", err)
	}
	if len(l.Addrs()) != 0 {
		t.Fatalf("addresses still bound: %v", l.Addrs())
	}
	again, err := net.ListenPacket("udp", udpAddr)
	if err != nil {
		t.Fatalf("UDP address not released after failed Start: %v", err)
	}
	again.Close()
	closeWithin(t, l, time.Second)
	if err := l.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	if err := New(Options{}).Start(); err == nil {
		t.Fatal("Start without Handle succeeded")
	}
}
