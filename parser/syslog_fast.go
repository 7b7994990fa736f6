package parser

import (
	"bytes"
	"time"
)

// The relay fast path: the RFC 5424 and RFC 3164 headers that syslog-ng and
// rsyslog send when they forward, read without go-syslog and without
// allocating. It accepts only input for which it is sure to return exactly
// what parseRFC5424 and parseRFC3164 return (FuzzFastPath checks that on
// any input); anything else it declines, and the caller goes on to those
// parsers as before. Declining is always safe, so the shapes here are the
// common ones, checked strictly:
//
//	<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD[ MSG]
//	<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG
//	<PRI>YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm) HOST TAG[PID]: MSG
//
// where RFC 5424's TIMESTAMP is "-" or RFC 3339 with at most six fraction
// digits and every header field is 1 to its RFC length of bytes.

// fastRFC5424 reads msg (trailer trimmed) whose "<PRI>" is priEnd bytes
// long as RFC 5424, or returns false.
func fastRFC5424(msg []byte, priEnd int) (Message, bool) {
	b := msg[priEnd:]
	if len(b) < 2 || b[0] != '1' || b[1] != ' ' {
		return Message{}, false
	}
	i := 2
	n := rfc5424StampLen(b[i:])
	if n == 0 || i+n >= len(b) || b[i+n] != ' ' {
		return Message{}, false
	}
	i += n + 1
	// Lengths from RFC 5424 §6: go-syslog reads APP-NAME, PROCID and MSGID
	// differently beyond them; it does not bound HOSTNAME, 255 is safe. The
	// bytes of a field need no check: go-syslog takes any but a space.
	// Fields are short: a byte loop beats IndexByte's call.
	var f [4][]byte
	for k, max := range [...]int{255, 48, 128, 32} {
		j, end := i, min(len(b), i+max+1)
		for j < end && b[j] != ' ' {
			j++
		}
		if j == i || j == end { // empty, too long, or no space follows
			return Message{}, false
		}
		if j != i+1 || b[i] != '-' { // NILVALUE stays nil
			f[k] = b[i:j]
		}
		i = j + 1
	}
	n = sdLen(b[i:])
	if n == 0 {
		return Message{}, false
	}
	i += n
	body := b[i:]
	if len(body) > 0 {
		if body[0] != ' ' {
			return Message{}, false
		}
		body = body[1:]
	}
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		body = body[3:] // the BOM of a UTF-8 MSG
	}
	return Message{Host: f[0], Tag: f[1], ProcID: f[2], Body: body}, true
}

// fastRFC3164 reads msg (trailer trimmed) as RFC 3164 with a HOSTNAME, its
// timestamp of stampLen bytes (BSD or RFC 3339) right after "<PRI>", or
// returns false. Without a HOSTNAME ("tag:" right after the timestamp, GNU
// syslog()) it declines: relays always send one.
func fastRFC3164(msg []byte, priEnd, stampLen int) (Message, bool) {
	// go-syslog checks a BSD timestamp with package time; an RFC 3339 one
	// it never sees (parseRFC3164 replaces it).
	if stampLen == len("Jan _2 15:04:05") && !bsdStampValid(msg[priEnd:]) {
		return Message{}, false
	}
	r := msg[priEnd+stampLen+1:]
	sp := bytes.IndexByte(r, ' ')
	if sp <= 0 || r[sp-1] == ':' {
		return Message{}, false
	}
	tag, pid, body := splitTag(r[sp+1:])
	return Message{Host: r[:sp], Tag: tag, ProcID: pid, Body: body}, true
}

// rfc5424StampLen returns the length of the RFC 5424 TIMESTAMP at the start
// of b that go-syslog accepts for sure: "-", or
// "YYYY-MM-DDThh:mm:ss[.1-6 digits](Z|±hh:mm)" with month 01-12, day 01-31
// (go-syslog does not check the day against the month), hour 00-23, minute
// and second 00-59, and the offset's hour and minute in those ranges. It
// returns 0 for anything else.
func rfc5424StampLen(b []byte) int {
	if len(b) > 0 && b[0] == '-' {
		return 1
	}
	if len(b) < 20 {
		return 0
	}
	_ = b[19]
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' ||
		num2(b, 0) < 0 || num2(b, 2) < 0 || !in(num2(b, 5), 1, 12) || !in(num2(b, 8), 1, 31) ||
		!in(num2(b, 11), 0, 23) || !in(num2(b, 14), 0, 59) || !in(num2(b, 17), 0, 59) {
		return 0
	}
	n, frac := stampTail(b, 19)
	if n < 0 || frac > 6 || b[n-1] != 'Z' && (num2(b, n-5) > 23 || num2(b, n-2) > 59) {
		return 0
	}
	return n
}

// num2 returns the value of the two digits at b[i:], or -1.
func num2(b []byte, i int) int {
	c0, c1 := b[i]-'0', b[i+1]-'0'
	if c0 > 9 || c1 > 9 {
		return -1
	}
	return int(c0)*10 + int(c1)
}

// in reports whether lo <= v <= hi.
func in(v, lo, hi int) bool { return v >= lo && v <= hi }

// bsdDays is the longest month in days, as package time checks a
// timestamp without a year (year 0, a leap year).
var bsdDays = [...]int{time.January: 31, time.February: 29, time.March: 31, time.April: 30,
	time.May: 31, time.June: 30, time.July: 31, time.August: 31, time.September: 30,
	time.October: 31, time.November: 30, time.December: 31}

// bsdStampValid reports whether b, which bsdStampLen accepted, holds a
// date and time that time.Parse(time.Stamp) accepts: day 1 to the month's
// length, hour 00-23, minute and second 00-59.
func bsdStampValid(b []byte) bool {
	day := int(b[5] - '0')
	if b[4] != ' ' {
		day += 10 * int(b[4]-'0')
	}
	return day >= 1 && day <= bsdDays[monthOf(b)] &&
		in(num2(b, 7), 0, 23) && in(num2(b, 10), 0, 59) && in(num2(b, 13), 0, 59)
}

// monthOf returns the month whose English abbreviation ("Jan".."Dec", as
// RFC 3164 and syslog-ng write them) starts b, or 0. The three bytes are
// compared as one number: a string switch costs a third of a header.
func monthOf(b []byte) time.Month {
	if len(b) < 3 {
		return 0
	}
	switch uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) {
	case 'J'<<16 | 'a'<<8 | 'n':
		return time.January
	case 'F'<<16 | 'e'<<8 | 'b':
		return time.February
	case 'M'<<16 | 'a'<<8 | 'r':
		return time.March
	case 'A'<<16 | 'p'<<8 | 'r':
		return time.April
	case 'M'<<16 | 'a'<<8 | 'y':
		return time.May
	case 'J'<<16 | 'u'<<8 | 'n':
		return time.June
	case 'J'<<16 | 'u'<<8 | 'l':
		return time.July
	case 'A'<<16 | 'u'<<8 | 'g':
		return time.August
	case 'S'<<16 | 'e'<<8 | 'p':
		return time.September
	case 'O'<<16 | 'c'<<8 | 't':
		return time.October
	case 'N'<<16 | 'o'<<8 | 'v':
		return time.November
	case 'D'<<16 | 'e'<<8 | 'c':
		return time.December
	}
	return 0
}
