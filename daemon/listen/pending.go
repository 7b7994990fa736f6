package listen

import (
	"net/netip"
	"time"
)

// maxGroups caps the senders one pending batch keeps apart; a datagram from
// one more sender hands the batch over first.
const maxGroups = 64

// pending holds UDP datagrams between recvmmsg calls so that Handle gets
// them in larger batches: every Handle call costs the caller a hand-off (in
// the daemon, a wake-up of each aggregator shard), and at moderate rates a
// recvmmsg call returns only 2–3 datagrams. Datagrams are copied out of the
// read buffers into one arena and grouped by sender; flush delivers each
// sender's datagrams, in arrival order, as one batch.
type pending struct {
	arena  []byte
	groups []group
	n      int       // datagrams held
	first  time.Time // when the oldest held datagram was read
	msgs   [][]byte  // scratch for flush
}

// group is one sender's held datagrams, as offsets into the arena.
type group struct {
	src   netip.Addr
	spans []span
}

type span struct{ off, end int }

// add copies one datagram in; it reports false, holding nothing, when the
// batch already keeps maxGroups senders apart and src is a new one.
func (p *pending) add(src netip.Addr, msg []byte, now time.Time) bool {
	g := p.group(src)
	if g == nil {
		return false
	}
	if p.n == 0 {
		p.first = now
	}
	off := len(p.arena)
	p.arena = append(p.arena, msg...)
	g.spans = append(g.spans, span{off, len(p.arena)})
	p.n++
	return true
}

func (p *pending) group(src netip.Addr) *group {
	for i := range p.groups {
		if p.groups[i].src == src {
			return &p.groups[i]
		}
	}
	if len(p.groups) == maxGroups {
		return nil
	}
	if len(p.groups) < cap(p.groups) {
		p.groups = p.groups[:len(p.groups)+1]
		g := &p.groups[len(p.groups)-1]
		g.src, g.spans = src, g.spans[:0]
		return g
	}
	p.groups = append(p.groups, group{src: src})
	return &p.groups[len(p.groups)-1]
}

// flush hands every held datagram to deliver, one call per sender, and
// empties the batch.
func (p *pending) flush(deliver func(src netip.Addr, msgs [][]byte)) {
	for i := range p.groups {
		g := &p.groups[i]
		p.msgs = p.msgs[:0]
		for _, s := range g.spans {
			p.msgs = append(p.msgs, p.arena[s.off:s.end:s.end])
		}
		deliver(g.src, p.msgs)
	}
	clear(p.msgs)
	p.msgs = p.msgs[:0]
	p.groups = p.groups[:0]
	p.arena = p.arena[:0]
	p.n = 0
	if cap(p.arena) > 4*maxArena {
		p.arena = nil // an outsized burst: do not pin the memory
	}
}

// maxArena is the size a pending batch is handed over at, whatever its
// count of datagrams.
const maxArena = 1 << 20
