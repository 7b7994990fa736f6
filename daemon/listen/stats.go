package listen

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
)

// ListenerStats are the counters of one bound address, all totals since
// Start except ConnsOpen.
type ListenerStats struct {
	Network string `json:"network"` // "udp" or "tcp"
	Addr    string `json:"addr"`    // as bound, with the real port

	Messages   uint64 `json:"messages"`    // messages handed to Handle
	Bytes      uint64 `json:"bytes"`       // their bytes
	Oversize   uint64 `json:"oversize"`    // messages dropped for exceeding MaxMessage
	ReadErrors uint64 `json:"read_errors"` // failed reads and accepts (not EOF, idle timeout or Close)
	Panics     uint64 `json:"panics"`      // Handle calls that panicked
	Refused    uint64 `json:"refused"`     // datagrams and connections from sources not in Allow

	// UDP only. KernelDrops counts datagrams the kernel dropped because the
	// receive buffer was full (the drops column of /proc/net/udp{,6}): the
	// number that says the daemon is not keeping up.
	KernelDrops uint64 `json:"kernel_drops"`
	RecvBuffer  int    `json:"recv_buffer"` // receive buffer granted, bytes

	// TCP only.
	ConnsOpen     int64  `json:"conns_open"`
	ConnsAccepted uint64 `json:"conns_accepted"`
	ConnsRejected uint64 `json:"conns_rejected"` // closed at once because MaxConns were open
	// ConnsRefusedSource: closed at once because their source had
	// MaxConnsPerSource open.
	ConnsRefusedSource uint64 `json:"conns_refused_source"`
}

// Stats returns the counters of every bound address, in Addrs order.
func (l *Listener) Stats() []ListenerStats {
	l.mu.Lock()
	udp, tcp := l.udp, l.tcp
	l.mu.Unlock()

	var drops map[uint64]uint64
	if len(udp) > 0 {
		var err error
		if drops, err = readUDPDrops("/proc/net/udp", "/proc/net/udp6"); err != nil {
			l.limit.LogLevel(l.log, slog.LevelDebug, "udp drops", "cannot read UDP drop counters", "err", err)
		}
	}
	out := make([]ListenerStats, 0, len(udp)+len(tcp))
	for _, s := range udp {
		st := s.counters.snapshot("udp", s.conn.LocalAddr())
		st.KernelDrops = drops[s.inode]
		st.RecvBuffer = s.recvBuffer
		out = append(out, st)
	}
	for _, s := range tcp {
		out = append(out, s.counters.snapshot("tcp", s.ln.Addr()))
	}
	return out
}

func (c *counters) snapshot(network string, addr net.Addr) ListenerStats {
	return ListenerStats{
		Network:       network,
		Addr:          addr.String(),
		Messages:      c.messages.Load(),
		Bytes:         c.bytes.Load(),
		Oversize:      c.oversize.Load(),
		ReadErrors:    c.readErrors.Load(),
		Panics:        c.panics.Load(),
		Refused:       c.refused.Load(),
		ConnsOpen:     c.connsOpen.Load(),
		ConnsAccepted: c.connsAccepted.Load(),
		ConnsRejected: c.connsRejected.Load(),

		ConnsRefusedSource: c.connsPerSrc.Load(),
	}
}

// readUDPDrops maps socket inode to the kernel's drop count from
// /proc/net/udp-style tables:
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
//
// The inode is the 10th field and drops the last. A missing file (no IPv6)
// is not an error.
func readUDPDrops(paths ...string) (map[uint64]uint64, error) {
	out := make(map[uint64]uint64)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("read %s: %w", p, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Scan() // header
		for sc.Scan() {
			f := bytes.Fields(sc.Bytes())
			if len(f) < 13 {
				continue
			}
			inode, err1 := strconv.ParseUint(string(f[9]), 10, 64)
			drops, err2 := strconv.ParseUint(string(f[len(f)-1]), 10, 64)
			if err1 != nil || err2 != nil {
				return out, fmt.Errorf("%s: unexpected line %q", p, sc.Text())
			}
			out[inode] += drops
		}
	}
	return out, nil
}
