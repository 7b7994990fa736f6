package urlstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"graphmetrics/store/segfile"
)

// A level is one resolution: groups of rows of Step seconds stamped with
// their start, kept Keep seconds behind the instance's newest second, in
// segment files <Prefix>-<start>.u of Span seconds each.
type level struct {
	Prefix string
	Step   int64
	Span   int64
	Keep   int64
}

// Seconds are the journal of the minute still open (so a crash loses
// nothing), in 10-minute files kept 20 minutes; minutes are kept 48 hours
// in hour files, hours 400 days in day files (issue 12: a table of a day
// reads at most two days of hour rows; closed files are rewritten
// pattern-major, so the shorter the files, the less stays plain).
//
// lvWeek is the hour rows of earlier versions, in week files (prefix "h"):
// read, rewritten pattern-major when closed and pruned like lvHour, never
// written to. Hours are only written after the newest hour of both, so no
// hour is in both.
var levels = [4]level{
	{"s", 1, 600, 1200},
	{"m", 60, 3600, 48 * 3600},
	{"hd", 3600, 86400, 400 * 86400},
	{"h", 3600, 7 * 86400, 400 * 86400},
}

const (
	lvSec  = 0
	lvMin  = 1
	lvHour = 2
	lvWeek = 3
)

// hourly says a level holds hour rows.
func hourly(li int) bool { return li >= lvHour }

func floorTo(t, step int64) int64 { return segfile.FloorTo(t, step) }

// segments lists a level's segment starts in dir, oldest first.
func segments(dir string, lv level) ([]int64, error) {
	return segfile.List(dir, lv.Prefix, ".u", lv.Span)
}

// segLists are the segments of every level of an instance (indexed as
// levels), from one read of its directory.
type segLists [len(levels)][]int64

func listSegs(dir string) (segLists, error) {
	var l segLists
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return l, nil
		}
		return l, err
	}
	for li, lv := range levels {
		l[li] = segfile.ListEntries(ents, lv.Prefix, ".u", lv.Span)
	}
	return l, nil
}

func segPath(dir string, lv level, start int64) string {
	return segfile.Path(dir, lv.Prefix, ".u", start)
}

// A group is one step of one instance: every pattern's row in it.
//
//	uvarint(offset from the segment start in steps) uvarint(bytes of the rows)
//	rows: uvarint(pattern id) uvarint(bytes of the stat) stat
//	stat: uvarint(count) uvarint(errors) uvarint(hangs) uvarint(app µs sum)
//	      uvarint(app µs max) sparse histogram (store/hist encoding)
//
// The lengths let a reader skip groups and rows it does not want.

// appendGroup encodes the rows of step t, in id order.
func appendGroup(b []byte, lv level, seg, t int64, rows map[uint32]*stat) []byte {
	var sc groupScratch
	return sc.appendGroup(b, lv, seg, t, rows)
}

// groupScratch holds appendGroup's buffers between groups (an appender
// encodes many per write).
type groupScratch struct {
	ids      []uint32
	body, st []byte
}

func (sc *groupScratch) appendGroup(b []byte, lv level, seg, t int64, rows map[uint32]*stat) []byte {
	ids := sc.ids[:0]
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	body := sc.body[:0]
	for _, id := range ids {
		sc.st = rows[id].appendEncode(sc.st[:0])
		body = binary.AppendUvarint(body, uint64(id))
		body = binary.AppendUvarint(body, uint64(len(sc.st)))
		body = append(body, sc.st...)
	}
	sc.ids, sc.body = ids, body
	b = binary.AppendUvarint(b, uint64((t-seg)/lv.Step))
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// maxGroup bounds one group's bytes (a corrupt length is refused).
const maxGroup = 16 << 20

var errCorrupt = errors.New("urlstore: corrupt segment")

// decodeGroups calls fn for every group of a segment's bytes with its
// time and rows' bytes, and returns how many bytes were valid: a torn last
// write or a corrupt group ends the scan.
func decodeGroups(data []byte, lv level, seg int64, fn func(t int64, rows []byte) error) (valid int, err error) {
	return decodeGroupsIf(data, lv, seg, nil, fn)
}

// decodeGroupsIf is decodeGroups calling fn only for the groups whose time
// keep accepts (nil: all); the rows of the other groups are skipped by
// their length, unchecked.
func decodeGroupsIf(data []byte, lv level, seg int64, keep func(t int64) bool, fn func(t int64, rows []byte) error) (valid int, err error) {
	for valid < len(data) {
		off, n := binary.Uvarint(data[valid:])
		if n <= 0 || off >= uint64(lv.Span/lv.Step) {
			return valid, fmt.Errorf("%w: group at byte %d: bad time", errCorrupt, valid)
		}
		size, m := binary.Uvarint(data[valid+n:])
		if m <= 0 || size > maxGroup || uint64(len(data)-valid-n-m) < size {
			return valid, fmt.Errorf("%w: group at byte %d: bad length", errCorrupt, valid)
		}
		start := valid + n + m
		rows := data[start : start+int(size)]
		t := seg + int64(off)*lv.Step
		if keep != nil && !keep(t) {
			valid = start + int(size)
			continue
		}
		if err := eachRow(rows, func(uint32, []byte) error { return nil }); err != nil {
			return valid, fmt.Errorf("group at byte %d: %w", valid, err)
		}
		if err := fn(t, rows); err != nil {
			return valid, err
		}
		valid = start + int(size)
	}
	return valid, nil
}

// eachRow calls fn for every row of a group with its pattern id and stat
// bytes.
func eachRow(rows []byte, fn func(id uint32, st []byte) error) error {
	for i := 0; i < len(rows); {
		id, n := uvarint(rows, i)
		if n <= 0 || id > 1<<31 {
			return fmt.Errorf("%w: row id", errCorrupt)
		}
		size, m := uvarint(rows, i+n)
		if m <= 0 || uint64(len(rows)-i-n-m) < size {
			return fmt.Errorf("%w: row length", errCorrupt)
		}
		s := i + n + m
		if err := fn(uint32(id), rows[s:s+int(size)]); err != nil {
			return err
		}
		i = s + int(size)
	}
	return nil
}

// readSeg reads one segment: its closed file when there is one (the
// pattern-major .uc or the compressed .uz), else the file being appended
// to. It returns the valid bytes and the size of the plain file, or 0, 0
// for a closed one.
func readSeg(dir string, lv level, seg int64, fn func(t int64, rows []byte) error) (int, int64, error) {
	return readSegIf(dir, lv, seg, nil, fn)
}

// readSegIf is readSeg with decodeGroupsIf's keep. A pattern-major file is
// decoded into the groups it stands for (readRows reads it faster).
func readSegIf(dir string, lv level, seg int64, keep func(int64) bool, fn func(t int64, rows []byte) error) (int, int64, error) {
	data, err := os.ReadFile(colPath(dir, lv, seg))
	if err == nil {
		groups, err := colGroups(data, lv, seg)
		if _, gerr := decodeGroupsIf(groups, lv, seg, keep, fn); gerr != nil {
			err = gerr
		}
		return 0, 0, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, 0, err
	}
	return readGroupMajor(dir, lv, seg, keep, fn)
}

// readGroupMajor is readSegIf of the .uz or plain file.
func readGroupMajor(dir string, lv level, seg int64, keep func(int64) bool, fn func(t int64, rows []byte) error) (int, int64, error) {
	data, plain, err := segfile.Read(segPath(dir, lv, seg))
	if err != nil {
		return 0, 0, err
	}
	valid, err := decodeGroupsIf(data, lv, seg, keep, fn)
	if !plain {
		return 0, 0, err
	}
	return valid, int64(len(data)), err
}

// colPath is the pattern-major file of a closed segment.
func colPath(dir string, lv level, seg int64) string { return segPath(dir, lv, seg) + "c" }

// readRows calls fn for the rows, decoded, of segment seg (of pattern
// *want, or all) in the groups keep accepts (nil: all): from its
// pattern-major file when there is one (of want only its chunk is read),
// else from its group-major file. st is valid during the call only.
func readRows(dir string, lv level, seg int64, keep func(int64) bool, want *uint32, fn func(t int64, id uint32, st *stat) error) error {
	f, err := os.Open(colPath(dir, lv, seg))
	if err == nil {
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if want != nil || fi.Size() > segfile.MaxSegment { // (readCol refuses the latter)
			return readCol(f, fi.Size(), lv, seg, keep, want, fn)
		}
		// Every chunk: one read of the file, not one per chunk.
		data := make([]byte, fi.Size())
		if _, err := io.ReadFull(f, data); err != nil {
			return err
		}
		return readCol(bytes.NewReader(data), int64(len(data)), lv, seg, keep, nil, fn)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var st stat // one for the segment: &st escapes to fn
	_, _, err = readGroupMajor(dir, lv, seg, keep, func(t int64, rows []byte) error {
		return eachRow(rows, func(id uint32, b []byte) error {
			if want != nil && id != *want {
				return nil
			}
			var err error
			if st, err = decodeStat(b, st.h); err != nil {
				return err
			}
			return fn(t, id, &st)
		})
	})
	return err
}
