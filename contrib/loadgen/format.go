package main

import (
	"strconv"
	"time"
)

// The -header values.
const (
	headerNone    = "none"    // Python's SysLogHandler: <PRI> and the body
	headerRFC3164 = "rfc3164" // BSD timestamp and host name
	headerRFC5424 = "rfc5424" // as rsyslog and syslog-ng forward it
)

// formatter builds syslog messages without allocating: timestamps are
// formatted once per second and the rest is appended into one buffer.
type formatter struct {
	loc    *time.Location
	header string // headerNone, headerRFC3164 or headerRFC5424
	nul    bool   // trailing NUL, as Python's SysLogHandler sends
	buf    []byte
	data   []byte // scratch for record data, used by sim
	sec    int64
	stamp  []byte // "2006-01-02 15:04:05" of sec in loc
	bsd    []byte // "Jan _2 15:04:05" of sec in loc
	iso    []byte // "2006-01-02T15:04:05" of sec in loc
	offset []byte // "-07:00" of sec in loc
}

func newFormatter(loc *time.Location, header string, nul bool) *formatter {
	return &formatter{loc: loc, header: header, nul: nul, sec: -1 << 62,
		buf: make([]byte, 0, 512), data: make([]byte, 0, 128)}
}

func (f *formatter) second(sec int64) {
	if sec == f.sec {
		return
	}
	f.sec = sec
	t := time.Unix(sec, 0).In(f.loc)
	f.stamp = t.AppendFormat(f.stamp[:0], "2006-01-02 15:04:05")
	f.bsd = t.AppendFormat(f.bsd[:0], time.Stamp)
	f.iso = t.AppendFormat(f.iso[:0], "2006-01-02T15:04:05")
	f.offset = t.AppendFormat(f.offset[:0], "-07:00")
}

// message is one syslog message for a record of in at ns:
//
//	<14>customer instance CODE RID 2026-11-21 22:47:28.123456 DATA\x00
//	<14>Nov 21 22:47:28 zope3 tracelog: customer instance CODE RID ...
//	<14>1 2026-11-21T22:47:28.123456+00:00 zope3 tracelog - - - customer instance CODE RID ...
//
// The RFC 5424 header is rsyslog's RSYSLOG_SyslogProtocol23Format (six
// fraction digits and the zone offset). The record's fraction of the second
// is left out when it is zero, as zc.zservertracelog does.
func (f *formatter) message(in *instance, code byte, rid uint64, ns int64, data []byte) []byte {
	sec, usec := ns/1e9, ns%1e9/1e3
	f.second(sec)
	b := append(f.buf[:0], "<14>"...)
	switch f.header {
	case headerRFC3164:
		b = append(b, f.bsd...)
		b = append(b, ' ')
		b = append(b, in.host...)
		b = append(b, " tracelog: "...)
	case headerRFC5424:
		b = append(b, "1 "...)
		b = append(b, f.iso...)
		b = append(b, '.')
		b = appendPadded(b, usec, 6)
		b = append(b, f.offset...)
		b = append(b, ' ')
		b = append(b, in.host...)
		b = append(b, " tracelog - - - "...)
	}
	b = append(b, in.customer...)
	b = append(b, ' ')
	b = append(b, in.name...)
	b = append(b, ' ', code, ' ')
	b = strconv.AppendUint(b, rid, 10)
	b = append(b, ' ')
	b = append(b, f.stamp...)
	if usec != 0 {
		b = append(b, '.')
		b = appendPadded(b, usec, 6)
	}
	if len(data) > 0 {
		b = append(b, ' ')
		b = append(b, data...)
	}
	if f.nul {
		b = append(b, 0)
	}
	f.buf = b
	return b
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for ; v > 0 || i > len(tmp)-width; v /= 10 {
		i--
		tmp[i] = byte('0' + v%10)
	}
	return append(b, tmp[i:]...)
}
