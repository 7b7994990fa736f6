package urlstore

import (
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"

	"graphmetrics/store/segfile"
)

// Reading the pattern-major files of colfile.go. Their bytes are untrusted
// (a damaged disk, a foreign file): every length, offset and count is
// checked before it is used, nothing is allocated beyond the bytes the
// file has, and a fault is an errCorrupt error.

type colIndex struct {
	pats   []colPat
	chunks []colChunk
}

// colPat is a pattern's block: bytes [off, off+n) of its chunk's raw bytes.
type colPat struct {
	id     uint32
	chunk  int
	off, n int
}

type colChunk struct {
	at        int64 // offset in the file
	zlen, raw int
}

// colHeadRead is the bytes a reader reads first: the header and, mostly,
// the whole index (200 patterns take about 1 KiB).
const colHeadRead = 4096

func corruptf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCorrupt}, a...)...)
}

// colDec is a reader's scratch, pooled.
type colDec struct {
	head, z []byte
	br      bytes.Reader
	zr      io.ReadCloser
	raw     bytes.Buffer
	vals    []uint64
	h       []pair
	st      stat // the row handed on
}

var colDecs = sync.Pool{New: func() any { return &colDec{} }}

// index reads and checks the header and index of a file of size bytes.
func (d *colDec) index(r io.ReaderAt, size int64) (*colIndex, error) {
	if size < int64(len(colMagic))+1 || size > segfile.MaxSegment {
		return nil, corruptf("file of %d bytes", size)
	}
	n := int(min(size, colHeadRead))
	d.head = slices.Grow(d.head[:0], n)[:n]
	if _, err := r.ReadAt(d.head, 0); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	if string(d.head[:len(colMagic)]) != colMagic {
		return nil, corruptf("magic")
	}
	ilen, k := uvarint(d.head, len(colMagic))
	start := len(colMagic) + k
	if k <= 0 || ilen > uint64(size)-uint64(start) {
		return nil, corruptf("index length")
	}
	end := start + int(ilen)
	if end > n {
		d.head = slices.Grow(d.head[:0], end)[:end]
		if _, err := r.ReadAt(d.head, 0); err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
	}
	return parseColIndex(d.head[start:end], int64(end), size)
}

// parseColIndex checks an index whose chunks start at dataAt of a file of
// size bytes: the chunks fill the rest of the file exactly, and the
// patterns' blocks fill the chunks exactly, in order.
func parseColIndex(b []byte, dataAt, size int64) (*colIndex, error) {
	i := 0
	next := func() (uint64, bool) {
		v, n := uvarint(b, i)
		i += max(n, 0)
		return v, n > 0
	}
	np, ok1 := next()
	nc, ok2 := next()
	if !ok1 || !ok2 || np > uint64(len(b)) || nc > np {
		return nil, corruptf("index counts")
	}
	x := &colIndex{chunks: make([]colChunk, nc), pats: make([]colPat, np)}
	at := dataAt
	for c := range x.chunks {
		zl, ok1 := next()
		rl, ok2 := next()
		if !ok1 || !ok2 || zl > uint64(size-at) || rl == 0 || rl > maxColChunk {
			return nil, corruptf("chunk %d", c)
		}
		x.chunks[c] = colChunk{at, int(zl), int(rl)}
		at += int64(zl)
	}
	if at != size {
		return nil, corruptf("chunks end at %d of %d bytes", at, size)
	}
	prev, chunk, off := int64(-1), 0, 0
	for p := range x.pats {
		gap, ok1 := next()
		nc, ok2 := next()
		n, ok3 := next()
		if !ok1 || !ok2 || !ok3 || gap > 1<<31 || nc > 1 || p == 0 && nc != 0 {
			return nil, corruptf("pattern %d", p)
		}
		id := prev + 1 + int64(gap)
		if nc == 1 {
			if off != x.chunks[chunk].raw {
				return nil, corruptf("chunk %d length", chunk)
			}
			chunk, off = chunk+1, 0
		}
		if id > 1<<31 || chunk >= len(x.chunks) || n == 0 || n > uint64(x.chunks[chunk].raw-off) {
			return nil, corruptf("pattern %d", p)
		}
		x.pats[p] = colPat{uint32(id), chunk, off, int(n)}
		off += int(n)
		prev = id
	}
	if np > 0 && (chunk != len(x.chunks)-1 || off != x.chunks[chunk].raw) {
		return nil, corruptf("chunk %d length", chunk)
	}
	if i != len(b) {
		return nil, corruptf("index length")
	}
	return x, nil
}

// chunk reads and inflates one chunk (valid until the next call).
func (d *colDec) chunk(r io.ReaderAt, c colChunk) ([]byte, error) {
	d.z = slices.Grow(d.z[:0], c.zlen)[:c.zlen]
	if _, err := r.ReadAt(d.z, c.at); err != nil {
		return nil, fmt.Errorf("read chunk: %w", err)
	}
	d.br.Reset(d.z)
	if d.zr == nil {
		d.zr = flate.NewReader(&d.br)
	} else if err := d.zr.(flate.Resetter).Reset(&d.br, nil); err != nil {
		return nil, err
	}
	d.raw.Reset()
	if _, err := d.raw.ReadFrom(io.LimitReader(d.zr, int64(c.raw)+1)); err != nil {
		return nil, corruptf("chunk at %d: %v", c.at, err)
	}
	if d.raw.Len() != c.raw {
		return nil, corruptf("chunk at %d: %d bytes, want %d", c.at, d.raw.Len(), c.raw)
	}
	return d.raw.Bytes(), nil
}

// eachBlockRow checks a pattern's block whole, then calls fn for each of
// its rows whose time keep accepts (nil: all); st is valid during the call.
func (d *colDec) eachBlockRow(b []byte, lv level, seg int64, keep func(int64) bool, fn func(t int64, st *stat) error) error {
	steps, nb := uint64(lv.Span/lv.Step), Scheme.Len()
	nr, i := uvarint(b, 0)
	if i <= 0 || nr == 0 || nr > steps || 7*nr > uint64(len(b)) {
		return corruptf("block rows")
	}
	r := int(nr)
	d.vals = d.vals[:0]
	k := uint64(0)
	for j := range 7 * r {
		v, n := uvarint(b, i)
		if n <= 0 || j >= 6*r && v > uint64(nb) {
			return corruptf("block column %d", j/r)
		}
		i += n
		d.vals = append(d.vals, v)
		if j >= 6*r {
			k += v
		}
	}
	if 2*k > uint64(len(b)-i) {
		return corruptf("block buckets")
	}
	gaps, buckets := d.vals[:r], d.vals[6*r:]
	// Every row's pairs, in one array: the bucket indexes, then the counts.
	d.h = slices.Grow(d.h[:0], int(k))[:k]
	j := 0
	for _, m := range buckets {
		prev := -1
		for range m {
			g, n := uint64(0), 1
			if i < len(b) && b[i] < 0x80 {
				g = uint64(b[i])
			} else if g, n = binary.Uvarint(b[i:]); n <= 0 {
				return corruptf("bucket index")
			}
			if g >= uint64(nb) || prev+1+int(g) >= nb {
				return corruptf("bucket index")
			}
			i += n
			prev += 1 + int(g)
			d.h[j].i = uint16(prev)
			j++
		}
	}
	for j := range d.h {
		c, n := uint64(0), 1
		if i < len(b) && b[i] < 0x80 {
			c = uint64(b[i])
		} else if c, n = binary.Uvarint(b[i:]); n <= 0 {
			return corruptf("bucket count")
		}
		if c == 0 {
			return corruptf("bucket count")
		}
		i += n
		d.h[j].c = c
	}
	if i != len(b) {
		return corruptf("block length")
	}
	off := int64(-1)
	for _, g := range gaps {
		if g >= steps || uint64(off+1)+g >= steps {
			return corruptf("step offset")
		}
		off += 1 + int64(g)
	}
	off, j = -1, 0
	for row := range r {
		off += 1 + int64(gaps[row])
		m := int(buckets[row])
		d.st = stat{n: d.vals[r+row], errs: d.vals[2*r+row], hangs: d.vals[3*r+row],
			sumUS: d.vals[4*r+row], maxUS: d.vals[5*r+row], h: d.h[j : j+m : j+m]}
		j += m
		t := seg + off*lv.Step
		if keep == nil || keep(t) {
			if err := fn(t, &d.st); err != nil {
				return err
			}
		}
	}
	return nil
}

// readCol calls fn for the rows of a pattern-major file of size bytes
// whose time keep accepts (nil: all), of every pattern or, when want is
// not nil, of pattern *want only (its chunk is the only one inflated).
// A block is checked whole before its rows are handed on; st is valid
// during the call only.
func readCol(r io.ReaderAt, size int64, lv level, seg int64, keep func(int64) bool, want *uint32, fn func(t int64, id uint32, st *stat) error) error {
	d := colDecs.Get().(*colDec)
	defer colDecs.Put(d)
	x, err := d.index(r, size)
	if err != nil {
		return err
	}
	pats := x.pats
	if want != nil {
		i, ok := slices.BinarySearchFunc(pats, *want, func(p colPat, id uint32) int { return cmp.Compare(p.id, id) })
		if !ok {
			return nil
		}
		pats = pats[i : i+1]
	}
	chunk, raw := -1, []byte(nil)
	for _, p := range pats {
		if p.chunk != chunk {
			if raw, err = d.chunk(r, x.chunks[p.chunk]); err != nil {
				return err
			}
			chunk = p.chunk
		}
		err := d.eachBlockRow(raw[p.off:p.off+p.n], lv, seg, keep, func(t int64, st *stat) error { return fn(t, p.id, st) })
		if err != nil {
			return fmt.Errorf("pattern %d: %w", p.id, err)
		}
	}
	return nil
}

// colGroups decodes a pattern-major file's bytes into the group-major
// bytes they stand for (groups in time order, ids ascending): those of
// the patterns read before a fault, with the fault's error.
func colGroups(data []byte, lv level, seg int64) ([]byte, error) {
	byT := map[int64]map[uint32]*stat{}
	err := readCol(bytes.NewReader(data), int64(len(data)), lv, seg, nil, nil, func(t int64, id uint32, st *stat) error {
		g := byT[t]
		if g == nil {
			g = map[uint32]*stat{}
			byT[t] = g
		}
		c := *st
		c.h = slices.Clone(st.h)
		g[id] = &c
		return nil
	})
	ts := make([]int64, 0, len(byT))
	for t := range byT {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	var out []byte
	var sc groupScratch
	for _, t := range ts {
		out = sc.appendGroup(out, lv, seg, t, byT[t])
	}
	return out, err
}

// appendColRow appends a row as patternRows keeps it: uvarint(bytes)
// then the stat.
func appendColRow(b []byte, st *stat, scratch []byte) ([]byte, []byte) {
	scratch = st.appendEncode(scratch[:0])
	b = binary.AppendUvarint(b, uint64(len(scratch)))
	return append(b, scratch...), scratch
}
