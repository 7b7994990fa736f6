package urlstore

import (
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// A closed minute or hour segment is rewritten pattern-major (.uc), so a
// reader of one pattern (Over) inflates that pattern's rows only:
//
//	"GMUC" 1                         magic, version
//	uvarint(bytes of the index) index
//	index:  uvarint(patterns P) uvarint(chunks C)
//	        C × uvarint(compressed bytes) uvarint(raw bytes)
//	        P × uvarint(id − previous id − 1)
//	            uvarint(its chunk − the previous pattern's chunk: 0 or 1)
//	            uvarint(bytes of its block)
//	chunks: each a DEFLATE stream of consecutive patterns' blocks, in id
//	        order; a chunk is closed once it holds colChunkMin raw bytes
//	block:  uvarint(rows R), then column by column R values each: step
//	        offset in the segment (the first as is, then the gap − 1),
//	        count, errors, hangs, app µs sum, app µs max, non-empty buckets;
//	        then the K bucket index gaps of every row (from −1 in each row,
//	        as store/hist), then their K counts
//
// A pattern's rows are in time order, one per step at most. Columns of
// like values compress better than interleaved rows (the group-major
// format), and a pattern's chunk is all a reader of one pattern inflates.

const colMagic = "GMUC\x01"

// colChunkMin is the raw bytes after which a chunk is closed: small
// patterns share a chunk (a DEFLATE stream of its own costs them more
// than their rows); a large one has its own.
var colChunkMin = 8192

// maxColChunk bounds a chunk's raw bytes, so a reader never inflates more
// for a chunk: a chunk is closed before a block would take it past this,
// and one block is at most 1 + 168 rows × (7 columns + 356 buckets × 2)
// uvarints, about 730 KB.
const maxColChunk = 1 << 20

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression)
	return w
}}

// colRef is one encoded stat of a pattern at a step offset.
type colRef struct {
	off uint32
	st  []byte
}

// encodeCol rewrites a closed segment's group-major bytes pattern-major.
// Groups from the first torn or corrupt one on are dropped (as the
// group-major readers stop there); rows of one pattern and step are summed.
func encodeCol(data []byte, lv level, seg int64) ([]byte, error) {
	byID := map[uint32][]colRef{}
	type idRef struct {
		id uint32
		r  colRef
	}
	var group []idRef
	var scratch []pair
	decodeGroups(data, lv, seg, func(t int64, rows []byte) error {
		group = group[:0]
		off := uint32((t - seg) / lv.Step)
		err := eachRow(rows, func(id uint32, b []byte) error {
			st, err := decodeStat(b, scratch)
			scratch = st.h
			group = append(group, idRef{id, colRef{off, b}})
			return err
		})
		if err != nil {
			return err
		}
		for _, g := range group {
			byID[g.id] = append(byID[g.id], g.r)
		}
		return nil
	})
	ids := make([]uint32, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var enc colEnc
	var index, chunks, raw []byte
	var nChunks int
	zw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(zw)
	var z bytes.Buffer
	closeChunk := func() error {
		z.Reset()
		zw.Reset(&z)
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			return err
		}
		chunks = append(chunks, z.Bytes()...)
		index = binary.AppendUvarint(index, uint64(z.Len()))
		index = binary.AppendUvarint(index, uint64(len(raw)))
		raw, nChunks = raw[:0], nChunks+1
		return nil
	}
	var pats []byte
	prev := -1
	var blk []byte
	for _, id := range ids {
		var err error
		if blk, err = enc.appendBlock(blk[:0], byID[id]); err != nil {
			return nil, err
		}
		if len(blk) > maxColChunk {
			return nil, fmt.Errorf("urlstore: pattern %d: block of %d bytes", id, len(blk))
		}
		newChunk := uint64(0)
		if len(raw) > 0 && (len(raw) >= colChunkMin || len(raw)+len(blk) > maxColChunk) {
			if err := closeChunk(); err != nil {
				return nil, err
			}
			newChunk = 1
		}
		raw = append(raw, blk...)
		pats = binary.AppendUvarint(pats, uint64(int(id)-prev-1))
		pats = binary.AppendUvarint(pats, newChunk)
		pats = binary.AppendUvarint(pats, uint64(len(blk)))
		prev = int(id)
	}
	if len(raw) > 0 {
		if err := closeChunk(); err != nil {
			return nil, err
		}
	}
	head := binary.AppendUvarint(nil, uint64(len(ids)))
	head = binary.AppendUvarint(head, uint64(nChunks))
	head = append(append(head, index...), pats...)
	out := append([]byte(colMagic), binary.AppendUvarint(nil, uint64(len(head)))...)
	out = append(append(out, head...), chunks...)
	return out, nil
}

// colEnc holds a block's column buffers between patterns.
type colEnc struct {
	cols  [7][]byte
	h     [2][]byte // bucket index gaps, counts
	pairs []pair    // a row's histogram
}

// appendBlock appends the block of one pattern's rows.
func (e *colEnc) appendBlock(b []byte, refs []colRef) ([]byte, error) {
	slices.SortStableFunc(refs, func(a, b colRef) int { return cmp.Compare(a.off, b.off) })
	for i := range e.cols {
		e.cols[i] = e.cols[i][:0]
	}
	e.h[0], e.h[1] = e.h[0][:0], e.h[1][:0]
	rows, prev := 0, -1
	for i := 0; i < len(refs); {
		st, err := decodeStat(refs[i].st, e.pairs)
		if err != nil {
			return nil, err
		}
		j := i + 1
		for ; j < len(refs) && refs[j].off == refs[i].off; j++ { // the same step twice: summed
			o, err := decodeStat(refs[j].st, nil)
			if err != nil {
				return nil, err
			}
			st.merge(&o)
		}
		e.pairs = st.h
		off := int(refs[i].off)
		vals := [7]uint64{uint64(off - prev - 1), st.n, st.errs, st.hangs, st.sumUS, st.maxUS, uint64(len(st.h))}
		for k, v := range vals {
			e.cols[k] = binary.AppendUvarint(e.cols[k], v)
		}
		hp := -1
		for _, p := range st.h {
			e.h[0] = binary.AppendUvarint(e.h[0], uint64(int(p.i)-hp-1))
			e.h[1] = binary.AppendUvarint(e.h[1], p.c)
			hp = int(p.i)
		}
		rows, prev, i = rows+1, off, j
	}
	if rows == 0 {
		return nil, errors.New("urlstore: pattern without rows")
	}
	b = binary.AppendUvarint(b, uint64(rows))
	for _, c := range e.cols {
		b = append(b, c...)
	}
	return append(append(b, e.h[0]...), e.h[1]...), nil
}
