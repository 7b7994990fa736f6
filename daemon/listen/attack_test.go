package listen

import (
	"bytes"
	"fmt"
	"graphmetrics/parser/testwait"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// Attacks of issue 11 at the listener, on real sockets. Loopback is a
// /8, so 127.0.0.2 plays the hostile host and 127.0.0.1 the real sender.

var (
	hostile = &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}
	friend  = &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}
)

func dialFrom(t *testing.T, from *net.TCPAddr, to net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: from, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPeer reports whether the server closed c (EOF or reset).
func closedByPeer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return err != nil && !(ok && ne.Timeout())
}

// lockedBuf is a log sink for checking what was logged.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Row 8: one client opens max_conns TCP connections and sends a byte on
// each. Before, every other sender was then refused. Now one source gets
// max_conns_per_source; its other connections are closed at accept and
// counted, and the real sender still gets in.
func TestAttackConnectionHog(t *testing.T) {
	var c collector
	l := startListener(t, Options{Handle: c.handle, MaxConns: 100}, "tcp")
	a := addr(t, l, "tcp")
	var hog []net.Conn
	for range 100 {
		conn := dialFrom(t, hostile, a)
		if _, err := conn.Write([]byte("<")); err != nil {
			t.Fatal(err)
		}
		hog = append(hog, conn)
	}
	testwait.For(t, 5*time.Second, "every hog connection handled", func() bool {
		s := stats(t, l, "tcp")
		return s.ConnsAccepted+s.ConnsRefusedSource == 100
	})
	if s := stats(t, l, "tcp"); s.ConnsOpen != DefaultMaxPerSrc || s.ConnsRefusedSource != 100-DefaultMaxPerSrc {
		t.Fatalf("open %d (want %d), refused for its source %d", s.ConnsOpen, DefaultMaxPerSrc, s.ConnsRefusedSource)
	}
	if !closedByPeer(hog[99]) {
		t.Error("a connection over max_conns_per_source was left open")
	}
	real := dialFrom(t, friend, a)
	write(t, real, []byte("<14>acme app-8080 A 1 2009-07-30 15:47:21 200 1\n"))
	if got := c.waitMessages(t, 1); got[0] != "<14>acme app-8080 A 1 2009-07-30 15:47:21 200 1" {
		t.Fatalf("got %q", got)
	}
}

// [syslog] allow: datagrams and connections from elsewhere are dropped
// (connections at accept), counted per listener and logged with the
// source; allowed senders are not affected.
func TestAttackAllow(t *testing.T) {
	var c collector
	var log lockedBuf
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	l := startListener(t, Options{Handle: c.handle, Allow: allow,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}, "udp", "tcp")
	ua := addr(t, l, "udp").(*net.UDPAddr)

	bad, err := net.DialUDP("udp", &net.UDPAddr{IP: hostile.IP}, ua)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	for i := range 50 {
		fmt.Fprintf(bad, "<14>evil i%d A 1 2009-07-30 15:47:21 200 1", i)
	}
	testwait.For(t, 5*time.Second, "50 refused datagrams", func() bool { return stats(t, l, "udp").Refused == 50 })

	good, err := net.DialUDP("udp", &net.UDPAddr{IP: friend.IP}, ua)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	fmt.Fprint(good, "<14>good")
	if got := c.waitMessages(t, 1); len(got) != 1 || got[0] != "<14>good" {
		t.Fatalf("delivered %q, want only the allowed sender's", got)
	}

	conn := dialFrom(t, hostile, addr(t, l, "tcp"))
	conn.Write([]byte("<14>evil x A 1 2009-07-30 15:47:21 200 1\n"))
	if !closedByPeer(conn) {
		t.Error("a connection from a source not allowed was left open")
	}
	if s := stats(t, l, "tcp"); s.Refused != 1 || s.ConnsAccepted != 0 {
		t.Errorf("tcp stats %+v", s)
	}
	if c.count() != 1 {
		t.Errorf("%d messages delivered, want 1", c.count())
	}
	if out := log.String(); !strings.Contains(out, "src=127.0.0.2") {
		t.Errorf("log should name the source:\n%s", out)
	} else if n := strings.Count(out, "not in [syslog] allow"); n != 2 { // one UDP line (rate-limited), one TCP line
		t.Errorf("%d refusal lines, want 2 (rate-limited):\n%s", n, out)
	}
}

func TestAllowList(t *testing.T) {
	a := allowList{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32")}
	for s, want := range map[string]bool{
		"10.1.2.3": true, "192.0.2.7": true, "192.0.2.8": false, "2001:db8::5": true,
		"2001:db9::5": false, "::ffff:10.9.9.9": true, "127.0.0.1": false,
	} {
		if got := a.allows(netip.MustParseAddr(s)); got != want {
			t.Errorf("allows(%s) = %v", s, got)
		}
	}
	if !(allowList{}).allows(netip.MustParseAddr("203.0.113.1")) {
		t.Error("an empty list refuses")
	}
}

func TestOpenToNetwork(t *testing.T) {
	for s, want := range map[string]bool{"127.0.0.1:5514": false, "[::1]:5514": false,
		"0.0.0.0:5514": true, "[::]:5514": true, "192.0.2.1:5514": true} {
		ap := netip.MustParseAddrPort(s)
		if got := openToNetwork(net.UDPAddrFromAddrPort(ap)); got != want {
			t.Errorf("%s: %v", s, got)
		}
	}
}
