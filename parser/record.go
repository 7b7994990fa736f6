package parser

import (
	"bytes"
	"fmt"
	"time"
)

// Record rejections. They are built once so that rejecting a line costs no
// allocation: a flood of garbage must not become a flood of garbage
// collection. Each wraps ErrBadRecord or ErrBadTime for errors.Is.
var (
	errNoCode      = fmt.Errorf("%w: no single-byte code followed by a space", ErrBadRecord)
	errEmptyRID    = fmt.Errorf("%w: empty request id (double space)", ErrBadRecord)
	errCtrlRID     = fmt.Errorf("%w: control character in request id", ErrBadRecord)
	errLongRID     = fmt.Errorf("%w: request id longer than %d bytes", ErrBadRecord, MaxRID)
	errNoTime      = fmt.Errorf("%w: missing timestamp", ErrBadRecord)
	errDoubleSpace = fmt.Errorf("%w: double space before timestamp", ErrBadRecord)

	errTimeShort  = fmt.Errorf("%w: timestamp cut short", ErrBadTime)
	errTimeSyntax = fmt.Errorf("%w: timestamp is not YYYY-MM-DD hh:mm:ss", ErrBadTime)
	errTimeFrac   = fmt.Errorf("%w: fraction of a second must have 1 to 9 digits", ErrBadTime)
	errTimeTrail  = fmt.Errorf("%w: timestamp not followed by a space", ErrBadTime)
	errTimeYear   = fmt.Errorf("%w: year outside 1970..2200", ErrBadTime)
	errTimeMonth  = fmt.Errorf("%w: month outside 1..12", ErrBadTime)
	errTimeDay    = fmt.Errorf("%w: day outside the month", ErrBadTime)
	errTimeOfDay  = fmt.Errorf("%w: hour, minute or second out of range", ErrBadTime)
)

// MaxRID is the longest request id accepted (issue 11): real ones are a
// few digits, and each open request keeps its id in memory.
const MaxRID = 64

// ParseRecord parses one tracelog line, "CODE RID TIMESTAMP [DATA]" with
// single spaces (SPEC §1). The timestamp is local wall time in loc (nil means
// UTC). A wall time that the clocks pass twice (set back) gives its first
// occurrence in Time and the distance to the second in Repeat; one they skip
// (set forward) is read as time.Date reads it, with Skipped set. Trailing
// CR, LF and NUL are ignored.
//
// Any printable ASCII byte is a valid code: extension records ('-' and
// others) are returned as they are and left to the caller to ignore. RID and
// Data alias line. ParseRecord does not allocate.
func ParseRecord(line []byte, loc *time.Location) (Record, error) {
	line = trimTrailer(line)
	if len(line) < 2 || !isCode(line[0]) || line[1] != ' ' {
		return Record{}, errNoCode
	}
	rest := line[2:]
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return Record{}, errNoTime
	}
	if sp == 0 {
		return Record{}, errEmptyRID
	}
	rid := rest[:sp]
	if len(rid) > MaxRID {
		return Record{}, errLongRID
	}
	for _, c := range rid {
		if c < 0x20 || c == 0x7f {
			return Record{}, errCtrlRID
		}
	}
	ts := rest[sp+1:]
	if len(ts) == 0 {
		return Record{}, errNoTime
	}
	if ts[0] == ' ' {
		return Record{}, errDoubleSpace
	}
	wall, usec, n, err := parseStamp(ts)
	if err != nil {
		return Record{}, err
	}
	data := ts[n:]
	if len(data) > 0 {
		data = data[1:] // parseStamp guarantees a space here
	}
	utc, repeat, skipped := wallToUTC(wall, loc)
	return Record{
		Code:    line[0],
		RID:     rid,
		Time:    utc*1_000_000 + usec,
		Repeat:  repeat * 1_000_000,
		Skipped: skipped,
		Data:    data,
	}, nil
}

// isCode reports whether c can be a record code: printable ASCII but space.
func isCode(c byte) bool { return c > ' ' && c < 0x7f }

// trimTrailer drops the NULs, CRs and LFs that senders leave at the end of a
// message or line (Python's SysLogHandler appends a NUL; rsyslog and
// syslog-ng leave a newline; files written on Windows have CRLF).
func trimTrailer(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case 0, '\n', '\r':
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

// parseStamp reads "YYYY-MM-DD hh:mm:ss[.f]" or "YYYY-MM-DDThh:mm:ss[.f]"
// (f 1 to 9 digits) at the start of b, which must end there or continue with
// a space. It returns the wall time as seconds since 1970-01-01 00:00 of the
// same calendar (no zone applied), the microseconds (more digits are
// truncated, as time.Time.UnixMicro would) and the timestamp's length.
func parseStamp(b []byte) (wall, usec int64, n int, err error) {
	if len(b) < 19 {
		return 0, 0, 0, errTimeShort
	}
	if b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, 0, 0, errTimeSyntax
	}
	year, ok1 := digits4(b[0:4])
	month, ok2 := digits2(b[5:7])
	day, ok3 := digits2(b[8:10])
	hour, ok4 := digits2(b[11:13])
	minute, ok5 := digits2(b[14:16])
	sec, ok6 := digits2(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, 0, 0, errTimeSyntax
	}
	switch {
	case year < 1970 || year > 2200:
		return 0, 0, 0, errTimeYear
	case month < 1 || month > 12:
		return 0, 0, 0, errTimeMonth
	case day < 1 || day > daysIn(month, year):
		return 0, 0, 0, errTimeDay
	case hour > 23 || minute > 59 || sec > 59:
		return 0, 0, 0, errTimeOfDay
	}
	n = 19
	if n < len(b) && b[n] == '.' {
		n++
		start := n
		scale := int64(100_000)
		for n < len(b) && b[n]-'0' <= 9 {
			if n-start < 6 {
				usec += int64(b[n]-'0') * scale
				scale /= 10
			}
			n++
		}
		if d := n - start; d < 1 || d > 9 {
			return 0, 0, 0, errTimeFrac
		}
	}
	if n < len(b) && b[n] != ' ' {
		return 0, 0, 0, errTimeTrail
	}
	days := daysFromCivil(year, month, day)
	wall = days*86400 + int64(hour)*3600 + int64(minute)*60 + int64(sec)
	return wall, usec, n, nil
}

func digits2(b []byte) (int, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	return int(d0)*10 + int(d1), d0 <= 9 && d1 <= 9
}

func digits4(b []byte) (int, bool) {
	hi, ok1 := digits2(b[0:2])
	lo, ok2 := digits2(b[2:4])
	return hi*100 + lo, ok1 && ok2
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to the given proleptic
// Gregorian date (H. Hinnant's algorithm; year >= 1 here).
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := int64(month+9) % 12 // March is 0
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
