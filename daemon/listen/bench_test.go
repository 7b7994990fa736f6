package listen

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// benchRecvBuffer holds a whole benchmark round of small datagrams.
const (
	benchRecvBuffer = 64 << 20
	benchRound      = 20000
)

// benchReceiver counts datagrams. While gated, the next delivery blocks, so
// the socket's queue can be filled before the timed drain starts.
type benchReceiver struct {
	addr    string
	count   atomic.Uint64
	target  atomic.Uint64
	reached chan struct{}
	gated   atomic.Bool
	open    chan struct{}
	stop    func()
}

func newBenchReceiver() *benchReceiver {
	return &benchReceiver{reached: make(chan struct{}, 1)}
}

func (r *benchReceiver) got(n int) {
	if r.gated.Load() {
		<-r.open
	}
	if r.count.Add(uint64(n)) >= r.target.Load() {
		select {
		case r.reached <- struct{}{}:
		default:
		}
	}
}

// startBare is the baseline: the plainest Go UDP reader, one ReadFromUDP
// per datagram, with the same receive buffer as the listener.
func startBare(b *testing.B) *benchReceiver {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := conn.SyscallConn()
	raw.Control(func(fd uintptr) { setRecvBuffer(int(fd), benchRecvBuffer) })
	r := newBenchReceiver()
	r.addr = conn.LocalAddr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, maxDatagram)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			r.got(1)
		}
	}()
	r.stop = func() { conn.Close(); <-done }
	return r
}

func startListenerBench(b *testing.B, allow ...netip.Prefix) *benchReceiver {
	r := newBenchReceiver()
	l := New(Options{UDP: []string{"127.0.0.1:0"}, RecvBuffer: benchRecvBuffer, Allow: allow, Handle: func(_ netip.Addr, msgs [][]byte) {
		r.got(len(msgs))
	}})
	if err := l.Start(); err != nil {
		b.Fatal(err)
	}
	r.addr = l.Addrs()[0].String()
	r.stop = func() { l.Close(context.Background()) }
	return r
}

// BenchmarkUDPReceive measures how fast a receiver drains a full socket:
// each round the receiver is held while 20,000 datagrams are queued on
// loopback, then the clock runs while it reads them all. ns/op is the
// receive cost per message, msgs/s its inverse; the sender is not in the
// measurement (on loopback it would otherwise be the bottleneck). Quote the
// listener against the bare ReadFromUDP loop from one invocation:
//
//	go test ./daemon/listen/ -run '^$' -bench UDPReceive -benchtime 1000000x -count 3
//
// The delivery held at the gate (1 datagram for bare, up to 64 for the
// listener) was read before the clock started: at most 0.3% in the
// listener's favour.
func BenchmarkUDPReceive(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchUDP(b, startBare(b)) })
	b.Run("listener", func(b *testing.B) { benchUDP(b, startListenerBench(b)) })
	// [syslog] allow set (issue 11): the sender is checked against a list
	// of networks, the last of which matches.
	b.Run("listener-allow", func(b *testing.B) {
		benchUDP(b, startListenerBench(b, netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24"),
			netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("127.0.0.0/8")))
	})
}

func benchUDP(b *testing.B, r *benchReceiver) {
	defer r.stop()
	conn, err := net.Dial("udp", r.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pc := ipv4.NewPacketConn(conn.(*net.UDPConn))
	payload := []byte("<14>zc.tracelog: cust inst A 139932045653648 2009-07-30 15:47:21.349080 200 93638")
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{payload}
	}

	b.StopTimer()
	var drained time.Duration
	for done := 0; done < b.N; {
		k := min(benchRound, b.N-done)
		r.open = make(chan struct{})
		r.gated.Store(true)
		r.target.Store(uint64(done + k))
		for sent := 0; sent < k; {
			n, err := pc.WriteBatch(msgs[:min(len(msgs), k-sent)], 0)
			if err != nil {
				b.Fatalf("sendmmsg: %v", err)
			}
			sent += n
		}
		// On loopback the datagrams are queued (or dropped) by the time
		// sendmmsg returns.
		b.StartTimer()
		start := time.Now()
		r.gated.Store(false)
		close(r.open)
		select {
		case <-r.reached:
		case <-time.After(5 * time.Second):
			b.Fatalf("received %d of %d: datagrams dropped, receive buffer too small?", r.count.Load(), done+k)
		}
		drained += time.Since(start)
		b.StopTimer()
		done += k
	}
	b.ReportMetric(float64(b.N)/drained.Seconds(), "msgs/s")
}

// BenchmarkTCPReceive sends newline-framed messages over one loopback
// connection, 64 KiB per write, and reports messages/s through framing and
// batching to Handle (sender included: both share the machine).
func BenchmarkTCPReceive(b *testing.B) {
	r := newBenchReceiver()
	l := New(Options{TCP: []string{"127.0.0.1:0"}, Handle: func(_ netip.Addr, msgs [][]byte) { r.got(len(msgs)) }})
	if err := l.Start(); err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.Background())
	conn, err := net.Dial("tcp", l.Addrs()[0].String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	msg := []byte("<14>zc.tracelog: cust inst A 139932045653648 2009-07-30 15:47:21.349080 200 93638\n")
	per := (64 << 10) / len(msg)
	chunk := make([]byte, 0, per*len(msg))
	for range per {
		chunk = append(chunk, msg...)
	}
	r.target.Store(uint64(b.N))

	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += per {
		n := min(per, b.N-sent)
		if _, err := conn.Write(chunk[:n*len(msg)]); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-r.reached:
	case <-time.After(10 * time.Second):
		b.Fatalf("received %d of %d", r.count.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
