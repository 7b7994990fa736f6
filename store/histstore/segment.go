package histstore

import (
	"encoding/binary"
	"fmt"

	"graphmetrics/store/hist"
	"graphmetrics/store/segfile"
)

// A level is one resolution: rows of Step seconds stamped with their start,
// kept Keep seconds behind the instance's newest second, in segment files
// <Prefix>-<start>.h of Span seconds each.
type level struct {
	Prefix string
	Step   int64
	Span   int64
	Keep   int64
}

// The levels follow the RRD archives' defaults (SPEC §4): 1 s for 3 h,
// 1 min for 8 days, 1 h for 400 days.
var levels = [3]level{
	{"s", 1, 3600, 3 * 3600},
	{"m", 60, 86400, 8 * 86400},
	{"h", 3600, 30 * 86400, 400 * 86400},
}

func floorTo(t, step int64) int64 { return segfile.FloorTo(t, step) }

// segments lists a level's segment starts in dir, oldest first.
func segments(dir string, lv level) ([]int64, error) {
	return segfile.List(dir, lv.Prefix, ".h", lv.Span)
}

func segPath(dir string, lv level, start int64) string {
	return segfile.Path(dir, lv.Prefix, ".h", start)
}

// appendRow encodes one row: uvarint(offset in steps from the segment
// start), then the histogram.
func appendRow(b []byte, lv level, seg, t int64, h *hist.Hist) []byte {
	b = binary.AppendUvarint(b, uint64((t-seg)/lv.Step))
	return h.AppendEncode(b)
}

// decodeRows calls fn for every row of a segment's bytes and returns how
// many bytes were valid: a torn last write or a corrupt row ends the scan.
func decodeRows(data []byte, lv level, seg int64, fn func(t int64, h *hist.Hist)) (valid int, err error) {
	for valid < len(data) {
		off, n := binary.Uvarint(data[valid:])
		if n <= 0 || off >= uint64(lv.Span/lv.Step) {
			return valid, fmt.Errorf("row at byte %d: bad time", valid)
		}
		h := hist.New(hist.Default)
		m, err := h.Decode(data[valid+n:])
		if err != nil {
			return valid, fmt.Errorf("row at byte %d: %w", valid, err)
		}
		fn(seg+int64(off)*lv.Step, h)
		valid += n + m
	}
	return valid, nil
}

// readSeg reads one segment's rows with from ≤ T < until: its compressed
// file when there is one (a closed segment), else the file being appended
// to. It returns the valid bytes and the size of the plain file, or 0, 0
// for a compressed one.
func readSeg(dir string, lv level, seg, from, until int64, fn func(t int64, h *hist.Hist)) (int, int64, error) {
	data, plain, err := segfile.Read(segPath(dir, lv, seg))
	if err != nil {
		return 0, 0, err
	}
	if !plain {
		_, err := decodeRows(data, lv, seg, func(t int64, h *hist.Hist) {
			if t >= from && t < until {
				fn(t, h)
			}
		})
		return 0, 0, err
	}
	valid, err := decodeRows(data, lv, seg, func(t int64, h *hist.Hist) {
		if t >= from && t < until {
			fn(t, h)
		}
	})
	return valid, int64(len(data)), err
}
