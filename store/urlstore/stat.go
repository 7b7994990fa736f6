package urlstore

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"graphmetrics/store"
)

// stat is one pattern's counts in one step while it is written: the
// histogram is sparse (bucket, count) pairs in bucket order, so an open
// minute costs a few bytes per bucket actually hit, not Scheme's 356
// buckets.
type stat struct {
	n, errs, hangs, sumUS, maxUS uint64
	h                            []pair
}

type pair struct {
	i uint16
	c uint64
}

func (s *stat) appendEncode(b []byte) []byte {
	for _, v := range [...]uint64{s.n, s.errs, s.hangs, s.sumUS, s.maxUS} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(s.h)))
	prev := -1
	for _, p := range s.h {
		b = binary.AppendUvarint(b, uint64(int(p.i)-prev-1))
		b = binary.AppendUvarint(b, p.c)
		prev = int(p.i)
	}
	return b
}

// merge adds o into s.
func (s *stat) merge(o *stat) {
	s.sum(o)
	s.h = mergePairs(s.h, o.h)
}

// sum adds o's counts (not its histogram) into s.
func (s *stat) sum(o *stat) {
	s.n += o.n
	s.errs += o.errs
	s.hangs += o.hangs
	s.sumUS += o.sumUS
	s.maxUS = max(s.maxUS, o.maxUS)
}

// addURL adds a second's URLStat of the aggregator, decoding its
// histogram into scratch, which it returns for the next call.
func (s *stat) addURL(u *store.URLStat, scratch []pair) ([]pair, error) {
	var o stat
	o.n, o.errs, o.hangs, o.sumUS, o.maxUS = uint64(u.Count), uint64(u.Errors), uint64(u.Hangs), u.AppSumUS, u.AppMaxUS
	if len(u.App) > 0 {
		h, _, err := decodePairs(u.App, scratch)
		if err != nil {
			return scratch, err
		}
		o.h, scratch = h, h
	}
	s.merge(&o)
	return scratch, nil
}

// reset empties s, keeping its histogram's capacity.
func (s *stat) reset() { *s = stat{h: s.h[:0]} }

// decodeHead decodes a stat's counts and returns the offset of its
// histogram.
func decodeHead(b []byte) (s stat, off int, err error) {
	var v [5]uint64
	for i := range v {
		x, n := uvarint(b, off)
		if n <= 0 {
			return s, 0, fmt.Errorf("%w: stat", errCorrupt)
		}
		v[i], off = x, off+n
	}
	s.n, s.errs, s.hangs, s.sumUS, s.maxUS = v[0], v[1], v[2], v[3], v[4]
	return s, off, nil
}

// decodeStat decodes an encoded stat (the histogram into scratch pairs).
func decodeStat(b []byte, scratch []pair) (stat, error) {
	s, off, err := decodeHead(b)
	if err != nil {
		return s, err
	}
	h, m, err := decodePairs(b[off:], scratch)
	if err != nil {
		return s, err
	}
	if off+m != len(b) {
		return s, fmt.Errorf("%w: stat length", errCorrupt)
	}
	s.h = h
	return s, nil
}

// decodePairs decodes a store/hist sparse encoding of URLScheme into
// pairs (appended to dst[:0]) and returns the bytes it used.
func decodePairs(b []byte, dst []pair) ([]pair, int, error) {
	k, off := uvarint(b, 0)
	nb := uint64(Scheme.Len())
	if off <= 0 || k > nb {
		return nil, 0, fmt.Errorf("%w: histogram", errCorrupt)
	}
	dst = dst[:0]
	prev := -1
	for j := uint64(0); j < k; j++ {
		// One-byte gaps and counts are decoded inline (the common case:
		// this loop is most of a table's time).
		var gap, c uint64
		if off < len(b) && b[off] < 0x80 {
			gap = uint64(b[off])
			off++
		} else {
			g, m := binary.Uvarint(b[off:])
			if m <= 0 {
				return nil, 0, fmt.Errorf("%w: histogram bucket", errCorrupt)
			}
			gap, off = g, off+m
		}
		if gap >= nb {
			return nil, 0, fmt.Errorf("%w: histogram bucket", errCorrupt)
		}
		i := prev + 1 + int(gap)
		if off < len(b) && b[off] < 0x80 {
			c = uint64(b[off])
			off++
		} else {
			x, m := binary.Uvarint(b[off:])
			if m <= 0 {
				return nil, 0, fmt.Errorf("%w: histogram count", errCorrupt)
			}
			c, off = x, off+m
		}
		if c == 0 || i >= int(nb) {
			return nil, 0, fmt.Errorf("%w: histogram count", errCorrupt)
		}
		dst = append(dst, pair{uint16(i), c})
		prev = i
	}
	return dst, off, nil
}

// mergePairs adds the sorted pairs b into the sorted pairs a (in place
// when b is short: a second adds a few buckets to an open minute).
func mergePairs(a, b []pair) []pair {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return append(a, b...)
	}
	if len(b) <= 4 {
		for _, p := range b {
			i, ok := slices.BinarySearchFunc(a, p.i, func(x pair, i uint16) int { return cmp.Compare(x.i, i) })
			if ok {
				a[i].c += p.c
				continue
			}
			a = slices.Insert(a, i, p)
		}
		return a
	}
	out := make([]pair, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].i < b[j].i:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].i < a[i].i:
			out = append(out, b[j])
			j++
		default:
			out = append(out, pair{a[i].i, a[i].c + b[j].c})
			i++
			j++
		}
	}
	return out
}

// addTo adds the stat into a Row (its dense histogram).
func (s *stat) addTo(r *Row) {
	r.Count += s.n
	r.Errors += s.errs
	r.Hangs += s.hangs
	r.TotalS += float64(s.sumUS) / 1e6
	r.MaxS = max(r.MaxS, float64(s.maxUS)/1e6)
	if r.Hist == nil {
		r.Hist = newHist()
	}
	for _, p := range s.h {
		r.Hist.AddN(int(p.i), p.c)
	}
}

// decodeStatInto is decodeStat adding the histogram straight into the
// dense counts d (Scheme.Len() of them) instead of pairs: one pass, the
// cost of a cold table. A corrupt stat adds nothing (the pairs added
// before the fault are taken back).
func decodeStatInto(b []byte, d []uint64) (stat, error) {
	s, off, err := decodeHead(b)
	if err != nil {
		return s, err
	}
	k, n := uvarint(b, off)
	nb := len(d)
	if n <= 0 || k > uint64(nb) {
		return s, fmt.Errorf("%w: histogram", errCorrupt)
	}
	off += n
	start, prev, added := off, -1, uint64(0)
	for ; added < k; added++ {
		var gap, c uint64
		if off < len(b) && b[off] < 0x80 {
			gap = uint64(b[off])
			off++
		} else if gap, n = binary.Uvarint(b[off:]); n > 0 {
			off += n
		} else {
			err = fmt.Errorf("%w: histogram bucket", errCorrupt)
			break
		}
		if off < len(b) && b[off] < 0x80 {
			c = uint64(b[off])
			off++
		} else if c, n = binary.Uvarint(b[off:]); n > 0 {
			off += n
		} else {
			err = fmt.Errorf("%w: histogram count", errCorrupt)
			break
		}
		if gap >= uint64(nb) || c == 0 || prev+1+int(gap) >= nb {
			err = fmt.Errorf("%w: histogram count", errCorrupt)
			break
		}
		prev += 1 + int(gap)
		d[prev] += c
	}
	if err == nil && off != len(b) {
		err = fmt.Errorf("%w: stat length", errCorrupt)
	}
	if err != nil {
		// Take back the pairs added: they decoded before the fault.
		off, prev = start, -1
		for range added {
			gap, n := binary.Uvarint(b[off:])
			off += n
			c, m := binary.Uvarint(b[off:])
			off += m
			prev += 1 + int(gap)
			d[prev] -= c
		}
		return s, err
	}
	return s, nil
}
