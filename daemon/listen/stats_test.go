package listen

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// TestUDPKernelDrops overflows a small receive buffer while the handler is
// stuck and checks the books balance: every datagram sent was either
// delivered or counted as dropped by the kernel.
func TestUDPKernelDrops(t *testing.T) {
	var c collector
	release := make(chan struct{})
	handle := func(src netip.Addr, msgs [][]byte) {
		<-release
		c.handle(src, msgs)
	}
	l := startListener(t, Options{Handle: handle, RecvBuffer: 64 << 10}, "udp")
	s := stats(t, l, "udp")
	if os.Geteuid() == 0 && s.RecvBuffer != 64<<10 {
		t.Errorf("as root the forced buffer should be granted as asked: %d", s.RecvBuffer)
	}
	if s.RecvBuffer <= 0 || s.RecvBuffer > 64<<10 && os.Geteuid() != 0 {
		t.Errorf("recv buffer %d", s.RecvBuffer)
	}

	u := dial(t, "udp", addr(t, l, "udp"))
	defer u.Close()
	const sent = 5000
	for i := range sent {
		write(t, u, fmt.Appendf(nil, "<14>zc.tracelog: c i A %d 2009-07-30 15:47:21.349080 200 93638", i))
	}
	testwait.For(t, 10*time.Second, "kernel drops", func() bool { return stats(t, l, "udp").KernelDrops > 0 })
	close(release)

	testwait.For(t, 10*time.Second, "delivered + dropped = sent, all collected", func() bool {
		s := stats(t, l, "udp")
		return s.Messages+s.KernelDrops >= sent && uint64(c.count()) == s.Messages
	})
	s = stats(t, l, "udp")
	if s.KernelDrops == 0 || s.Messages+s.KernelDrops != sent || uint64(c.count()) != s.Messages {
		t.Fatalf("sent %d, stats %+v, collected %d", sent, s, c.count())
	}
	t.Logf("sent %d: delivered %d, kernel dropped %d", sent, s.Messages, s.KernelDrops)
}

func TestReadUDPDrops(t *testing.T) {
	dir := t.TempDir()
	v4 := filepath.Join(dir, "udp")
	os.WriteFile(v4, []byte(
		"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"+
			"  123: 0100007F:1592 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n"+
			"  200: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 0\n"), 0o644)
	v6 := filepath.Join(dir, "udp6")
	os.WriteFile(v6, []byte(
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"+
			"   55: 00000000000000000000000001000000:1592 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4343 2 0000000000000000 5\n"), 0o644)

	got, err := readUDPDrops(v4, v6, filepath.Join(dir, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[4242] != 17 || got[99] != 0 || got[4343] != 5 {
		t.Fatalf("got %v", got)
	}

	os.WriteFile(v4, []byte("header\n  1: a b c d e f g h notanumber j k 3\n"), 0o644)
	if _, err := readUDPDrops(v4); err == nil {
		t.Fatal("garbage table accepted")
	}
}
