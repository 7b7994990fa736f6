// Package rrdraw reads and edits the rows of an RRD file in memory, without
// librrd. It knows the on-disk layout librrd 1.x writes on 64-bit
// little-endian machines (format versions 0003 and 0004, which share it)
// and nothing else: it finds an archive's row for a time and reads or
// writes one value. Everything else in the file (last update, in-progress
// consolidation state) is left as it is, so an edited file stays one that
// librrd keeps updating.
//
// Parse checks every size against the buffer, so any bytes are safe input
// (see the fuzz test).
package rrdraw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Layout sizes of librrd's structures (rrd_format.h) on 64-bit machines.
const (
	statHeadSize = 128 // cookie, version, float cookie, ds_cnt, rra_cnt, pdp_step, par[10]
	dsDefSize    = 120 // ds_nam[20], dst[20], par[10]
	rraDefSize   = 120 // cf_nam[20] + pad, row_cnt, pdp_cnt, par[10]
	liveHeadSize = 16  // last_up, last_up_usec
	pdpPrepSize  = 112 // last_ds[30] + pad, scratch[10]
	cdpPrepSize  = 80  // scratch[10]
	floatCookie  = 8.642135e130
	maxCount     = 1 << 16 // data sources or archives: far beyond any real file
)

// DS is one data source's definition.
type DS struct{ Name, Type string }

// RRA is one archive's definition and place in the file.
type RRA struct {
	CF      string
	Rows    int64
	PDPs    int64   // primary steps per row
	XFF     float64 // xfiles factor
	curRow  int64
	dataOff int // byte offset of row 0
}

// File is a parsed RRD file over its bytes; Set edits them in place.
type File struct {
	Buf  []byte
	Step int64 // seconds
	Last int64 // last update, Unix s
	DS   []DS
	RRAs []RRA
}

var le = binary.LittleEndian

// ErrFormat wraps every reason a buffer is not a usable RRD file.
var ErrFormat = errors.New("not an RRD file of a known layout")

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

// Parse reads the header of an RRD file held in b.
func Parse(b []byte) (*File, error) {
	if len(b) < statHeadSize {
		return nil, bad("%d bytes, shorter than a header", len(b))
	}
	if string(b[:4]) != "RRD\x00" {
		return nil, bad("no RRD cookie")
	}
	switch v := cstr(b[4:9]); v {
	case "0003", "0004":
	default:
		return nil, bad("version %q (known: 0003, 0004)", v)
	}
	if math.Float64frombits(le.Uint64(b[16:])) != floatCookie {
		return nil, bad("float cookie mismatch (another architecture?)")
	}
	dsCnt, rraCnt, step := le.Uint64(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	if dsCnt == 0 || dsCnt > maxCount || rraCnt == 0 || rraCnt > maxCount || step == 0 || step > 1<<32 {
		return nil, bad("ds_cnt %d, rra_cnt %d, step %d", dsCnt, rraCnt, step)
	}
	nd, nr := int(dsCnt), int(rraCnt)
	f := &File{Buf: b, Step: int64(step)}
	off := statHeadSize
	need := off + nd*dsDefSize + nr*rraDefSize + liveHeadSize + nd*pdpPrepSize + nr*nd*cdpPrepSize + nr*8
	if len(b) < need {
		return nil, bad("%d bytes, header needs %d", len(b), need)
	}
	for range nd {
		f.DS = append(f.DS, DS{Name: cstr(b[off : off+20]), Type: cstr(b[off+20 : off+40])})
		off += dsDefSize
	}
	for range nr {
		r := RRA{CF: cstr(b[off : off+20])}
		rows, pdps := le.Uint64(b[off+24:]), le.Uint64(b[off+32:])
		// Row times stay far from overflow: a row at most 2^40 s, an
		// archive at most 2^61 s.
		if rows == 0 || rows > 1<<32 || pdps == 0 || pdps > 1<<32 ||
			pdps*step > 1<<40 || rows > (1<<61)/(pdps*step) {
			return nil, bad("archive %d: %d rows of %d steps", len(f.RRAs), rows, pdps)
		}
		r.Rows, r.PDPs = int64(rows), int64(pdps)
		r.XFF = math.Float64frombits(le.Uint64(b[off+40:]))
		f.RRAs = append(f.RRAs, r)
		off += rraDefSize
	}
	last := int64(le.Uint64(b[off:]))
	if last < 0 || last > 1<<61 {
		return nil, bad("last update %d", last)
	}
	f.Last = last
	off += liveHeadSize + nd*pdpPrepSize + nr*nd*cdpPrepSize
	data := off + nr*8
	for i := range f.RRAs {
		r := &f.RRAs[i]
		cur := le.Uint64(b[off:])
		if cur >= uint64(r.Rows) {
			return nil, bad("archive %d: current row %d of %d", i, cur, r.Rows)
		}
		r.curRow = int64(cur)
		r.dataOff = data
		data += int(r.Rows) * nd * 8
		if data > len(b) {
			return nil, bad("%d bytes, archives need more", len(b))
		}
		off += 8
	}
	if data != len(b) {
		return nil, bad("%d bytes, layout says %d", len(b), data)
	}
	return f, nil
}

// RowStep is the interval one row of archive r covers, in seconds.
func (f *File) RowStep(r int) int64 { return f.Step * f.RRAs[r].PDPs }

// Span is the end times of archive r's oldest and newest complete rows.
// A row ending at t covers (t − RowStep, t], as in rrdtool fetch.
func (f *File) Span(r int) (first, last int64) {
	s := f.RowStep(r)
	last = f.Last - f.Last%s
	return last - s*(f.RRAs[r].Rows-1), last
}

// off is the byte offset of (row ending at t, ds) in archive r, or -1
// when t is not a row end the archive holds.
func (f *File) off(r int, t int64, ds int) int {
	first, last := f.Span(r)
	s := f.RowStep(r)
	if t < first || t > last || (t-first)%s != 0 || ds < 0 || ds >= len(f.DS) {
		return -1
	}
	a := &f.RRAs[r]
	row := (a.curRow + 1 + (t-first)/s) % a.Rows
	return a.dataOff + int(row)*len(f.DS)*8 + ds*8
}

// Get reads the value of data source ds in archive r's row ending at t; ok
// is false when the archive holds no such row (unknown values are NaN).
func (f *File) Get(r int, t int64, ds int) (v float64, ok bool) {
	o := f.off(r, t, ds)
	if o < 0 {
		return math.NaN(), false
	}
	return math.Float64frombits(le.Uint64(f.Buf[o:])), true
}

// Set writes v into data source ds of archive r's row ending at t; false
// when the archive holds no such row.
func (f *File) Set(r int, t int64, ds int, v float64) bool {
	o := f.off(r, t, ds)
	if o < 0 {
		return false
	}
	le.PutUint64(f.Buf[o:], math.Float64bits(v))
	return true
}

// RowUnknown says whether every value of archive r's row ending at t is
// unknown (false when there is no such row).
func (f *File) RowUnknown(r int, t int64) bool {
	for ds := range f.DS {
		v, ok := f.Get(r, t, ds)
		if !ok || !math.IsNaN(v) {
			return false
		}
	}
	return true
}

// FirstKnown is the start of the oldest interval holding any known value
// in any archive, or Last when there is none.
func (f *File) FirstKnown() int64 {
	first := f.Last
	for r := range f.RRAs {
		lo, hi := f.Span(r)
		s := f.RowStep(r)
		for t := lo; t <= hi && t-s < first; t += s {
			if !f.RowUnknown(r, t) {
				first = t - s
				break
			}
		}
	}
	return first
}
