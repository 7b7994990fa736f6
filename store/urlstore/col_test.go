package urlstore

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"

	"graphmetrics/store"
	"graphmetrics/store/segfile"
)

// rowKey is a row of a segment: its time and pattern.
type rowKey struct {
	t  int64
	id uint32
}

// groupRows decodes group-major bytes as encodeCol reads them: the groups
// before the first torn or corrupt one, rows of one step and pattern
// summed.
func groupRows(data []byte, lv level, seg int64) map[rowKey]stat {
	out := map[rowKey]stat{}
	decodeGroups(data, lv, seg, func(t int64, rows []byte) error {
		g := map[rowKey]stat{}
		err := eachRow(rows, func(id uint32, b []byte) error {
			st, err := decodeStat(b, nil)
			if o, ok := g[rowKey{t, id}]; ok && err == nil {
				o.merge(&st)
				st = o
			}
			g[rowKey{t, id}] = st
			return err
		})
		if err != nil {
			return err
		}
		for k, st := range g {
			if o, ok := out[k]; ok {
				o.merge(&st)
				st = o
			}
			out[k] = st
		}
		return nil
	})
	return out
}

// colRows decodes a pattern-major file's bytes (of pattern *want, or all).
func colRows(t *testing.T, data []byte, lv level, seg int64, want *uint32) (map[rowKey]stat, error) {
	out := map[rowKey]stat{}
	err := readCol(bytes.NewReader(data), int64(len(data)), lv, seg, nil, want, func(tm int64, id uint32, st *stat) error {
		k := rowKey{tm, id}
		if _, ok := out[k]; ok {
			t.Fatalf("row %v twice", k)
		}
		if want != nil && id != *want {
			t.Fatalf("row of pattern %d, want %d", id, *want)
		}
		c := *st
		c.h = slices.Clone(st.h)
		out[k] = c
		return nil
	})
	return out, err
}

func sameStats(a, b map[rowKey]stat) bool {
	return maps.EqualFunc(a, b, func(x, y stat) bool {
		return x.n == y.n && x.errs == y.errs && x.hangs == y.hangs && x.sumUS == y.sumUS &&
			x.maxUS == y.maxUS && slices.Equal(x.h, y.h)
	})
}

// checkCol encodes group-major bytes pattern-major and checks that every
// row reads back as the group-major decoding has it, all patterns at once
// and one by one, and that colGroups gives the same rows.
func checkCol(t *testing.T, data []byte, lv level, seg int64) []byte {
	want := groupRows(data, lv, seg)
	enc, err := encodeCol(data, lv, seg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := colRows(t, enc, lv, seg, nil)
	if err != nil || !sameStats(got, want) {
		t.Fatalf("read back (err %v): %d rows, want %d", err, len(got), len(want))
	}
	byID := map[uint32]map[rowKey]stat{}
	for k, st := range want {
		if byID[k.id] == nil {
			byID[k.id] = map[rowKey]stat{}
		}
		byID[k.id][k] = st
	}
	for id, w := range byID {
		got, err := colRows(t, enc, lv, seg, &id)
		if err != nil || !sameStats(got, w) {
			t.Fatalf("pattern %d (err %v): %d rows, want %d", id, err, len(got), len(w))
		}
	}
	missing := uint32(1 << 31)
	if got, err := colRows(t, enc, lv, seg, &missing); err != nil || len(got) != 0 && byID[missing] == nil {
		t.Fatalf("a pattern not in the file: %v %v", got, err)
	}
	groups, err := colGroups(enc, lv, seg)
	if err != nil || !sameStats(groupRows(groups, lv, seg), want) {
		t.Fatalf("colGroups (err %v)", err)
	}
	return enc
}

// TestColRoundTrip: segments of random rows, small and large patterns,
// minute and hour levels, read back pattern-major exactly, with chunks of
// one pattern each and of many.
func TestColRoundTrip(t *testing.T) {
	old := colChunkMin
	defer func() { colChunkMin = old }()
	for _, chunkMin := range []int{0, 4096, 1 << 20} {
		colChunkMin = chunkMin
		for _, li := range []int{lvMin, lvHour} {
			lv := levels[li]
			seg := int64(t0) - int64(t0)%lv.Span
			var data []byte
			for step := int64(0); step < lv.Span/lv.Step; step += 1 + step%3 {
				rows := map[uint32]*stat{}
				for id := range uint32(40) {
					if (int64(id)+step)%(1+int64(id)%7) != 0 {
						continue
					}
					st := &stat{n: uint64(id) * 100, errs: uint64(id % 3), hangs: uint64(step % 2), sumUS: uint64(step) << 30, maxUS: uint64(id) << 20}
					for b := int(id % 5); b < Scheme.Len(); b += 1 + int(id)%40 + int(step)%3 {
						st.h = append(st.h, pair{uint16(b), uint64(b*int(step)) + 1})
					}
					rows[id*3] = st
				}
				data = appendGroup(data, lv, seg, seg+step*lv.Step, rows)
			}
			// A repeated step, then a torn group: summed, dropped.
			data = appendGroup(data, lv, seg, seg+lv.Step, map[uint32]*stat{3: {n: 1, h: []pair{{2, 1}}}})
			data = append(data, data[:7]...)
			enc := checkCol(t, data, lv, seg)
			t.Logf("chunks of %d: level %s: %d bytes group-major, %d pattern-major", chunkMin, lv.Prefix, len(data), len(enc))
		}
	}
}

// FuzzCol: any bytes as a group-major segment rewrite pattern-major to the
// same rows; any bytes as a pattern-major file read without a panic, and
// what reads cleanly reads the same after a rewrite.
func FuzzCol(f *testing.F) {
	st := &stat{n: 3, errs: 1, hangs: 1, sumUS: 123456, maxUS: 100000, h: []pair{{5, 1}, {200, 2}}}
	good := appendGroup(nil, levels[lvMin], 0, 120, map[uint32]*stat{0: st, 7: st})
	good = appendGroup(good, levels[lvMin], 0, 180, map[uint32]*stat{7: st, 9: {hangs: 2}})
	f.Add(good)
	enc, err := encodeCol(good, levels[lvMin], 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add(append(good, good[:5]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		lv := levels[lvMin]
		checkCol(t, data, lv, 0)
		got, err := colRows(t, data, lv, 0, nil)
		if err != nil {
			return
		}
		groups, err := colGroups(data, lv, 0)
		if err != nil || !sameStats(groupRows(groups, lv, 0), got) {
			t.Fatalf("colGroups (err %v) differs from readCol", err)
		}
		checkCol(t, groups, lv, 0)
	})
}

// BenchmarkColChunk reports the size of a closed minute and hour file of
// the budget's data for several chunk sizes (run with -benchtime 1x).
func BenchmarkColChunk(b *testing.B) {
	dir := poolData(b)
	d := Dir(dir, poolKeys()[0])
	for _, chunkMin := range []int{0, 1024, 4096, 8192, 16384, 1 << 30} {
		b.Run(fmt.Sprint(chunkMin), func(b *testing.B) {
			old := colChunkMin
			colChunkMin = chunkMin
			defer func() { colChunkMin = old }()
			for _, li := range []int{lvMin, lvHour} {
				lv := levels[li]
				segs, _ := segments(d, lv)
				var groups []byte
				n := 0
				readSeg(d, lv, segs[0], func(t int64, rows []byte) error {
					groups = appendGroupBytes(groups, lv, segs[0], t, rows)
					n++
					return nil
				})
				enc, err := encodeCol(groups, lv, segs[0])
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(enc))/float64(n), "B/"+lv.Prefix+"-group")
			}
		})
	}
}

// appendGroupBytes appends a group of encoded rows.
func appendGroupBytes(b []byte, lv level, seg, t int64, rows []byte) []byte {
	b = binary.AppendUvarint(b, uint64((t-seg)/lv.Step))
	b = binary.AppendUvarint(b, uint64(len(rows)))
	return append(b, rows...)
}

// Segments compressed whole (.uz) by earlier versions still read exactly,
// next to pattern-major ones.
func TestOldCompressedSegments(t *testing.T) {
	dataDir, reqs, _ := writeClosed(t)
	dir := Dir(dataDir, keyA)
	l, err := listSegs(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := 0
	for _, seg := range l[lvMin] {
		data, err := os.ReadFile(colPath(dir, levels[lvMin], seg))
		if err != nil || seg != t0 { // the first closed one only
			continue
		}
		groups, err := colGroups(data, levels[lvMin], seg)
		plain := segPath(dir, levels[lvMin], seg)
		if err == nil {
			err = os.WriteFile(plain, groups, 0o644)
		}
		if err == nil {
			err = segfile.Compress(plain, flate.DefaultCompression, func(d []byte) int { return len(d) })
		}
		if err == nil {
			err = os.Remove(colPath(dir, levels[lvMin], seg))
		}
		if err != nil {
			t.Fatal(err)
		}
		old++
	}
	if old != 1 {
		t.Fatalf("%d segments made old", old)
	}
	DropCache()
	keys := []store.Key{keyA}
	for _, rg := range [][2]int64{{t0 + 60, t0 + 3540}, {t0 + 1800, t0 + 7260}, {t0, t0 + 3*3600}} {
		checkTable(t, dataDir, keys, reqs, rg[0], rg[1])
		sr, err := Over(dataDir, keys, "/u3", rg[0], rg[1], 300)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range sr.R {
			f := sr.Start + int64(i)*sr.Step
			sameRow(t, fmt.Sprintf("over at %d", f), row, expect(reqs, f, f+sr.Step)["/u3"])
		}
	}
}
