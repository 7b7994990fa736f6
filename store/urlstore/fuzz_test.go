package urlstore

import (
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
				if s, err := decodeStat(b, nil); err == nil {
					s.addTo(NewRow("x"))
				}
				return nil
			})
		})
		if valid > len(data) {
			t.Fatalf("valid %d of %d bytes", valid, len(data))
		}
	})
}
