package urlstore

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"strconv"
)

// Over reads a minute or hour segment as the rows of its one pattern,
// kept in the cache of readcache.go keyed by the file and the pattern: the
// page that shows a chart and the chart's over.json, a refresh and Back
// read a closed segment (a DEFLATE-compressed file, most of the cost)
// once. Groups without the pattern are not noted as read: their rows of
// the pattern are empty at every level.

// patternRows returns the groups of segment seg of level li that have a
// row of pattern want: times, and rows as uvarint(bytes) stat each.
func patternRows(dir string, li int, seg int64, want uint32) (*mergedSeg, error) {
	lv := levels[li]
	key, ok, err := fileKey(dir, lv, seg)
	if !ok {
		return &mergedSeg{}, err
	}
	key += ",p" + strconv.FormatUint(uint64(want), 36)
	if m := segCache.get(key); m != nil {
		return m, nil
	}
	m := &mergedSeg{}
	var scratch []byte
	err = readRows(dir, lv, seg, nil, &want, func(t int64, _ uint32, st *stat) error {
		m.times = append(m.times, t)
		m.rows, scratch = appendColRow(m.rows, st, scratch)
		return nil
	})
	// As scan: a torn or corrupt tail ends the segment, a file pruned
	// meanwhile reads as empty.
	if err != nil && !errors.Is(err, errCorrupt) && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	segCache.put(key, m)
	return m, nil
}

// each calls fn for every group's time and stat of a patternRows result.
func (m *mergedSeg) each(fn func(t int64, st []byte) error) error {
	off := 0
	for _, t := range m.times {
		n, k := binary.Uvarint(m.rows[off:])
		off += k
		if err := fn(t, m.rows[off:off+int(n)]); err != nil {
			return err
		}
		off += int(n)
	}
	return nil
}
