package parser

import "bytes"

// Small recognizers shared by the syslog and directory-line parsers. They
// only look at bytes, never allocate, and never read past the slice.

// utf8BOM is what RFC 5424 puts before a UTF-8 MSG, and what Python 2.7's
// SysLogHandler put between <PRI> and a unicode message.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c-'0' <= 9 }

// isMonth reports whether b starts with an English month abbreviation, as
// RFC 3164 and syslog-ng write them ("Jan".."Dec").
func isMonth(b []byte) bool { return monthOf(b) != 0 }

// bsdStampLen returns 15 if b starts with an RFC 3164 timestamp followed by a
// space, "Mmm dd hh:mm:ss " or "Mmm  d hh:mm:ss " (syslog-ng pads the day
// with a space), and 0 otherwise. Ranges are not checked here: the caller
// decides what an impossible date means.
func bsdStampLen(b []byte) int {
	if len(b) < 16 || !isMonth(b) || b[3] != ' ' || b[6] != ' ' ||
		b[9] != ':' || b[12] != ':' || b[15] != ' ' {
		return 0
	}
	if !(isDigit(b[4]) || b[4] == ' ') || !isDigit(b[5]) ||
		!isDigit(b[7]) || !isDigit(b[8]) || !isDigit(b[10]) ||
		!isDigit(b[11]) || !isDigit(b[13]) || !isDigit(b[14]) {
		return 0
	}
	return 15
}

// isoStampLen returns the length of an RFC 3339 timestamp at the start of b,
// "YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)", if a space follows it, else 0.
// rsyslog's RSYSLOG_ForwardFormat and syslog-ng's ts-format(iso) put one
// where RFC 3164 has "Mmm dd hh:mm:ss".
func isoStampLen(b []byte) int {
	if len(b) < 21 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(b[i]) {
			return 0
		}
	}
	n, _ := stampTail(b, 19)
	if n < 0 || n >= len(b) || b[n] != ' ' {
		return 0
	}
	return n
}

// stampTail reads the end of an RFC 3339 timestamp at b[n:], an optional
// fraction and the zone ("Z" or "±hh:mm", digits only), and returns the
// index after it and the number of fraction digits, or n = -1.
func stampTail(b []byte, n int) (end, frac int) {
	if n < len(b) && b[n] == '.' {
		n++
		for n+frac < len(b) && isDigit(b[n+frac]) {
			frac++
		}
		if frac == 0 {
			return -1, 0
		}
		n += frac
	}
	switch {
	case n < len(b) && b[n] == 'Z':
		return n + 1, frac
	case n+6 <= len(b) && (b[n] == '+' || b[n] == '-') && b[n+3] == ':' &&
		isDigit(b[n+1]) && isDigit(b[n+2]) && isDigit(b[n+4]) && isDigit(b[n+5]):
		return n + 6, frac
	}
	return -1, 0
}

// looksLikeRecord reports whether b starts like a tracelog record: a
// single-byte code, a space, a request id, a space, and a timestamp that
// starts with four digits and '-'. It tells a body that is just a record
// from one that starts with "customer instance": a customer name is never
// followed by a token and then a date.
func looksLikeRecord(b []byte) bool {
	if len(b) < 4 || !isCode(b[0]) || b[1] != ' ' {
		return false
	}
	return looksLikeRecordRest(b[2:])
}

// looksLikeRecordRest reports whether b starts like a record after its code
// and space: a request id, a space, four digits and '-'.
func looksLikeRecordRest(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp < 1 {
		return false
	}
	t := b[sp+1:]
	return len(t) >= 5 && isDigit(t[0]) && isDigit(t[1]) && isDigit(t[2]) && isDigit(t[3]) && t[4] == '-'
}

// splitTag splits "tag: body", "tag[pid]: body" (RFC 3164 TAG and the stock
// syslog file format) at the start of b. The space after the colon is
// optional. Without a tag terminated this way (a bare word followed by a
// space, as when a relay forwards a message that had no tag), tag and pid are
// nil and body is b: the word belongs to the body.
func splitTag(b []byte) (tag, pid, body []byte) {
	i := 0
	for i < len(b) && b[i] != ':' && b[i] != '[' && b[i] != ' ' {
		i++
	}
	if i == 0 || i == len(b) || b[i] == ' ' {
		return nil, nil, b
	}
	tag = b[:i]
	if b[i] == '[' {
		end := bytes.IndexByte(b[i+1:], ']')
		if end < 0 || i+1+end+1 >= len(b) || b[i+1+end+1] != ':' {
			return nil, nil, b
		}
		pid = b[i+1 : i+1+end]
		if bytes.IndexByte(pid, ' ') >= 0 {
			return nil, nil, b
		}
		i = i + 1 + end + 1
	}
	i++ // the colon
	if i < len(b) && b[i] == ' ' {
		i++
	}
	return tag, pid, b[i:]
}
