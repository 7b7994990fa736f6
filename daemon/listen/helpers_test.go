package listen

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// collector is a Handle that keeps copies of everything it is given.
type collector struct {
	mu   sync.Mutex
	msgs []string
	srcs []netip.Addr
}

func (c *collector) handle(src netip.Addr, msgs [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		c.msgs = append(c.msgs, string(m))
		c.srcs = append(c.srcs, src)
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func (c *collector) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// waitMessages waits until at least n messages arrived, then a little longer
// so that extra messages (which would be a bug) show up too.
func (c *collector) waitMessages(t testing.TB, n int) []string {
	t.Helper()
	testwait.For(t, 10*time.Second, "messages", func() bool { return c.count() >= n })
	time.Sleep(50 * time.Millisecond)
	return c.snapshot()
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startListener starts a Listener on the loopback with port 0 for every
// network named in nets ("udp", "tcp") and closes it at the end of the test.
func startListener(t testing.TB, opts Options, nets ...string) *Listener {
	t.Helper()
	for _, n := range nets {
		switch n {
		case "udp":
			opts.UDP = append(opts.UDP, "127.0.0.1:0")
		case "tcp":
			opts.TCP = append(opts.TCP, "127.0.0.1:0")
		}
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	l := New(opts)
	if err := l.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// addr returns the first bound address of network ("udp" or "tcp").
func addr(t testing.TB, l *Listener, network string) net.Addr {
	t.Helper()
	for _, a := range l.Addrs() {
		if a.Network() == network {
			return a
		}
	}
	t.Fatalf("no %s address in %v", network, l.Addrs())
	return nil
}

func port(t testing.TB, l *Listener, network string) string {
	_, p, err := net.SplitHostPort(addr(t, l, network).String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stats returns the stats of the first address of network.
func stats(t testing.TB, l *Listener, network string) ListenerStats {
	t.Helper()
	for _, s := range l.Stats() {
		if s.Network == network {
			return s
		}
	}
	t.Fatalf("no %s stats", network)
	return ListenerStats{}
}

func diffMessages(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d messages, want %d", len(got), len(want))
	}
	bad := 0
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i] != want[i] {
			t.Errorf("message %d:\n got  %q\n want %q", i, got[i], want[i])
			if bad++; bad > 5 {
				break
			}
		}
	}
	if t.Failed() && len(got) > 0 {
		t.Logf("first received: %q", strings.Join(got[:min(3, len(got))], " | "))
	}
}
