package listen

import (
	"net"
	"net/netip"
)

// allowList is Options.Allow: the sources that may send (issue 11).
// Empty allows everyone. Datagrams come in runs from one source, so the
// last answer is remembered per reading goroutine (see allowCache).
type allowList []netip.Prefix

func (a allowList) allows(src netip.Addr) bool {
	if len(a) == 0 {
		return true
	}
	src = src.Unmap()
	for _, p := range a {
		if p.Contains(src) {
			return true
		}
	}
	return false
}

// allowCache remembers the answer for the last source.
type allowCache struct {
	src netip.Addr
	ok  bool
	set bool
}

func (c *allowCache) allows(a allowList, src netip.Addr) bool {
	if len(a) == 0 {
		return true
	}
	if !c.set || c.src != src {
		c.src, c.ok, c.set = src, a.allows(src), true
	}
	return c.ok
}

// openToNetwork reports whether a bound address takes traffic from other
// machines: not a loopback address (an unspecified one, ":5514", is open).
func openToNetwork(a net.Addr) bool {
	var ip net.IP
	switch v := a.(type) {
	case *net.UDPAddr:
		ip = v.IP
	case *net.TCPAddr:
		ip = v.IP
	default:
		return true
	}
	return !ip.IsLoopback()
}

// warnOpen logs, at start, that listeners on the network accept anyone.
func (l *Listener) warnOpen() {
	if len(l.opts.Allow) > 0 {
		return
	}
	var open []string
	for _, s := range l.udp {
		if openToNetwork(s.conn.LocalAddr()) {
			open = append(open, "udp://"+s.conn.LocalAddr().String())
		}
	}
	for _, s := range l.tcp {
		if openToNetwork(s.ln.Addr()) {
			open = append(open, "tcp://"+s.ln.Addr().String())
		}
	}
	if len(open) > 0 {
		l.log.Warn("syslog listeners on the network accept every source: set [syslog] allow to the senders' networks",
			"listeners", open)
	}
}
