package hist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The encoding is sparse: uvarint(number of non-empty buckets), then for
// each, in bucket order, uvarint(index − previous index − 1) and
// uvarint(count). An empty histogram is one byte.
// The scheme is not encoded: the reader knows it.

// ErrCorrupt is returned by Decode for bytes that are not an encoding.
var ErrCorrupt = errors.New("hist: corrupt encoding")

// AppendEncode appends h's encoding to b.
func (h *Hist) AppendEncode(b []byte) []byte {
	n := 0
	for _, c := range h.counts {
		if c != 0 {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	prev := -1
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(i-prev-1))
		b = binary.AppendUvarint(b, c)
		prev = i
	}
	return b
}

// Decode adds the histogram encoded at the start of b to h (so several
// encodings merge as they are read) and returns the bytes it used. On error
// h is unchanged.
func (h *Hist) Decode(b []byte) (int, error) {
	n, off := binary.Uvarint(b)
	if off <= 0 || n > uint64(len(h.counts)) {
		return 0, fmt.Errorf("%w: bucket count", ErrCorrupt)
	}
	type ic struct {
		i int
		c uint64
	}
	var stack [16]ic
	items := stack[:0]
	prev, total := -1, h.total
	for k := uint64(0); k < n; k++ {
		gap, m := binary.Uvarint(b[off:])
		if m <= 0 || gap >= uint64(len(h.counts)) {
			return 0, fmt.Errorf("%w: bucket index", ErrCorrupt)
		}
		off += m
		i := prev + 1 + int(gap)
		if i >= len(h.counts) {
			return 0, fmt.Errorf("%w: bucket index %d", ErrCorrupt, i)
		}
		c, m := binary.Uvarint(b[off:])
		if m <= 0 || c == 0 || total+c < total {
			return 0, fmt.Errorf("%w: count", ErrCorrupt)
		}
		off += m
		total += c
		items = append(items, ic{i, c})
		prev = i
	}
	for _, it := range items {
		h.counts[it.i] += it.c
	}
	h.total = total
	return off, nil
}

// AppendEncodeIndexes appends the encoding of the histogram whose values
// fell in the buckets idx (one entry per value; sorted in place) to b: the
// same bytes as AppendEncode of that histogram, for a hot path that keeps
// a few bucket indexes per second rather than a dense histogram.
func AppendEncodeIndexes(b []byte, idx []uint16) []byte {
	slices.Sort(idx)
	n := 0
	for i := range idx {
		if i == 0 || idx[i] != idx[i-1] {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	prev := -1
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && idx[j] == idx[i] {
			j++
		}
		b = binary.AppendUvarint(b, uint64(int(idx[i])-prev-1))
		b = binary.AppendUvarint(b, uint64(j-i))
		prev = int(idx[i])
		i = j
	}
	return b
}
