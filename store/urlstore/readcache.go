package urlstore

import (
	"container/list"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Table reads a minute or hour segment as one merged group: every
// pattern's row summed over the segment's groups inside the range. The
// merged group of a segment is kept in a small LRU keyed by the file read
// (path, modification time, size) and the range, so a page loaded again
// decodes each instance's hours once, not hour by hour: closed segments
// never change, and the open one changes size when a group is appended.

// mergedSeg is one segment's groups inside a range, merged.
type mergedSeg struct {
	times []int64 // the groups' times
	rows  []byte  // rows, encoded as in a group
}

func (m *mergedSeg) bytes() int { return len(m.rows) + 8*len(m.times) + 64 }

// segCacheBytes bounds the LRU (a 24 h table of 50 instances holds about
// 50 × 20 KB).
const segCacheBytes = 32 << 20

type segLRU struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *lruEnt, most recent first
	byKey map[string]*list.Element
}

type lruEnt struct {
	key string
	m   *mergedSeg
}

var segCache = newSegLRU(segCacheBytes)

func newSegLRU(maxBytes int) *segLRU {
	return &segLRU{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// DropCache empties the cache of merged segments (for benchmarks of a
// first load).
func DropCache() { segCache.reset() }

// reset empties the cache.
func (c *segLRU) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	clear(c.byKey)
	c.size = 0
}

func (c *segLRU) get(key string) *mergedSeg {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byKey[key]
	if e == nil {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEnt).m
}

func (c *segLRU) put(key string, m *mergedSeg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey[key] != nil || m.bytes() > c.max/4 {
		return
	}
	c.byKey[key] = c.order.PushFront(&lruEnt{key, m})
	c.size += m.bytes()
	for c.size > c.max {
		e := c.order.Back()
		ent := e.Value.(*lruEnt)
		c.order.Remove(e)
		delete(c.byKey, ent.key)
		c.size -= ent.m.bytes()
	}
}

// merger merges segments for one reader goroutine (its scratch is dense:
// one histogram array per pattern seen).
type merger struct {
	slots map[uint32]*stat
	dense map[uint32][]uint64
	free  [][]uint64
	h     []pair
}

func newMerger() *merger {
	return &merger{slots: map[uint32]*stat{}, dense: map[uint32][]uint64{}}
}

// merged returns segments segs of level li merged over their groups of
// [from, until) (step-aligned); a missing segment is empty. Several
// segments are one cache entry (a year's table of day files would
// otherwise encode and decode each pattern's row 365 times).
func (mg *merger) merged(dir string, li int, segs []int64, from, until int64) (*mergedSeg, error) {
	lv := levels[li]
	var key strings.Builder
	paths := make([]string, len(segs))
	for i, seg := range segs {
		k, ok, err := fileKey(dir, lv, seg)
		if err != nil {
			return nil, err
		}
		if ok {
			paths[i] = k[:strings.IndexByte(k, 0)]
			key.WriteString(k)
			key.WriteByte(';')
		}
	}
	if key.Len() == 0 {
		return &mergedSeg{}, nil
	}
	from, until = max(from, segs[0]), min(until, segs[len(segs)-1]+lv.Span)
	key.WriteString(strconv.FormatInt(from, 36) + "," + strconv.FormatInt(until, 36))
	if m := segCache.get(key.String()); m != nil {
		return m, nil
	}
	m := &mergedSeg{}
	for i, seg := range segs {
		if paths[i] == "" {
			continue
		}
		if err := mg.mergeSeg(dir, lv, seg, paths[i], from, until, m); err != nil {
			mg.reset()
			return nil, err
		}
	}
	m.rows = mg.encode()
	segCache.put(key.String(), m)
	return m, nil
}

// mergeSeg adds segment seg's groups of [from, until) to the scratch and
// their times to m; path is the file fileKey found.
func (mg *merger) mergeSeg(dir string, lv level, seg int64, path string, from, until int64, m *mergedSeg) error {
	lo := max(from, seg)
	hi := min(until, seg+lv.Span)
	used := make([]bool, lv.Span/lv.Step)
	keep := func(t int64) bool { return t >= lo && t+lv.Step <= hi }
	err := fs.ErrNotExist
	if path != colPath(dir, lv, seg) {
		// Group-major: the one-pass decoder of encoded stats.
		_, _, err = readGroupMajor(dir, lv, seg, keep, func(t int64, rows []byte) error {
			used[(t-seg)/lv.Step] = true
			return eachRow(rows, mg.addEncoded)
		})
	}
	if errors.Is(err, fs.ErrNotExist) { // pattern-major (or rewritten since fileKey)
		err = readRows(dir, lv, seg, keep, nil, func(t int64, id uint32, st *stat) error {
			used[(t-seg)/lv.Step] = true
			mg.add(id, st)
			return nil
		})
	}
	// As scan: a torn or corrupt tail ends the segment, a file pruned
	// meanwhile reads as empty.
	if err != nil && !errors.Is(err, errCorrupt) && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for i, u := range used {
		if u {
			m.times = append(m.times, seg+int64(i)*lv.Step)
		}
	}
	return nil
}

// fileKey names the file a segment is read from (its closed file when
// there is one) with its modification time and size; ok is false when
// there is none or it cannot be read (err).
func fileKey(dir string, lv level, seg int64) (key string, ok bool, err error) {
	plain := segPath(dir, lv, seg)
	for _, path := range []string{plain + "c", plain + "z", plain} {
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		return path + "\x00" + strconv.FormatInt(fi.ModTime().UnixNano(), 36) + "," + strconv.FormatInt(fi.Size(), 36), true, nil
	}
	return "", false, nil
}

// slot makes pattern id's row in the scratch when it has none.
func (mg *merger) slot(id uint32) {
	if mg.slots[id] == nil {
		mg.slots[id] = &stat{}
		if n := len(mg.free); n > 0 {
			mg.dense[id], mg.free = mg.free[n-1], mg.free[:n-1]
		} else {
			mg.dense[id] = make([]uint64, Scheme.Len())
		}
	}
}

// add sums a decoded row into the scratch.
func (mg *merger) add(id uint32, st *stat) {
	mg.slot(id)
	d := mg.dense[id]
	for _, p := range st.h {
		d[p.i] += p.c
	}
	mg.slots[id].sum(st)
}

// addEncoded sums an encoded row into the scratch (a corrupt stat adds
// nothing).
func (mg *merger) addEncoded(id uint32, b []byte) error {
	fresh := mg.slots[id] == nil
	mg.slot(id)
	st, err := decodeStatInto(b, mg.dense[id])
	if err != nil {
		if fresh { // nothing of the pattern yet: no row
			mg.free = append(mg.free, mg.dense[id])
			delete(mg.dense, id)
			delete(mg.slots, id)
		}
		return err
	}
	mg.slots[id].sum(&st)
	return nil
}

// encode returns the scratch's rows encoded as a group's (ids ascending)
// and empties it.
func (mg *merger) encode() []byte {
	ids := make([]uint32, 0, len(mg.slots))
	for id := range mg.slots {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out, st []byte
	for _, id := range ids {
		s, d := mg.slots[id], mg.dense[id]
		s.h = mg.h[:0]
		for i, c := range d {
			if c != 0 {
				s.h = append(s.h, pair{uint16(i), c})
			}
		}
		mg.h = s.h
		st = s.appendEncode(st[:0])
		out = binary.AppendUvarint(out, uint64(id))
		out = binary.AppendUvarint(out, uint64(len(st)))
		out = append(out, st...)
	}
	mg.reset()
	return out
}

func (mg *merger) reset() {
	for id, d := range mg.dense {
		clear(d)
		mg.free = append(mg.free, d)
		delete(mg.dense, id)
	}
	clear(mg.slots)
}
