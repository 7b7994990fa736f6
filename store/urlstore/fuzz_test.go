package urlstore

import (
	"slices"
	"testing"
)

// Segment files are read back after crashes and may be damaged: decoding
// any bytes must fail cleanly, never panic, and never return more valid
// bytes than it was given.
func FuzzDecodeGroups(f *testing.F) {
	st := &stat{n: 3, errs: 1, hangs: 1, sumUS: 123456, maxUS: 100000, h: []pair{{5, 1}, {200, 2}}}
	good := appendGroup(nil, levels[lvMin], 0, 120, map[uint32]*stat{0: st, 7: st})
	f.Add(good)
	f.Add(append(good, good[:5]...))
	f.Add([]byte{0, 200, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		valid, _ := decodeGroups(data, levels[lvMin], 0, func(_ int64, rows []byte) error {
			return eachRow(rows, func(_ uint32, b []byte) error {
				s, err := decodeStat(b, nil)
				if err == nil {
					s.addTo(NewRow("x"))
				}
				// The one-pass decoder agrees, and adds nothing when
				// the stat is corrupt.
				d := make([]uint64, Scheme.Len())
				if _, err2 := decodeStatInto(b, d); (err == nil) != (err2 == nil) {
					t.Fatalf("decodeStat %v, decodeStatInto %v", err, err2)
				}
				var sum uint64
				for i, c := range d {
					sum += c
					if err == nil && c != 0 && !slices.ContainsFunc(s.h, func(p pair) bool { return int(p.i) == i && p.c == c }) {
						t.Fatalf("bucket %d: %d", i, c)
					}
				}
				if err != nil && sum != 0 {
					t.Fatalf("a corrupt stat added %d", sum)
				}
				return nil
			})
		})
		if valid > len(data) {
			t.Fatalf("valid %d of %d bytes", valid, len(data))
		}
	})
}
