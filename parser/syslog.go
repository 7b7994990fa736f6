package parser

import (
	"bytes"
	"fmt"
)

// MaxMessageSize is the largest syslog message ParseSyslog accepts (1 MiB).
// Tracelog lines are short; anything near this is an attack or a mistake.
const MaxMessageSize = 1 << 20

var (
	errOversize = fmt.Errorf("%w: more than %d bytes", ErrOversize, MaxMessageSize)
	errEmpty    = fmt.Errorf("%w: empty message", ErrMalformedSyslog)
	errPRI      = fmt.Errorf("%w: bad <PRI> (want <0> to <191>)", ErrMalformedSyslog)
)

// ParseSyslog parses one framed syslog message. Trailing NUL, CR and LF are
// trimmed first. Four shapes are recognized, by their first bytes:
//
//   - "<PRI>" and then the body, what Python's logging.handlers.SysLogHandler
//     sends: Host and Tag are empty and Body is the rest (a UTF-8 BOM after
//     <PRI>, which Python 2.7 put there, is dropped). This is the fast path:
//     it does not allocate.
//   - RFC 5424, "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]", parsed by
//     go-syslog's RFC 5424 parser. A NILVALUE "-" field is returned empty;
//     the BOM before MSG is dropped.
//   - RFC 3164, "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG", parsed by
//     go-syslog's RFC 3164 parser, also without HOST (GNU syslog(), logger
//     talking to a local socket) and with an RFC 3339 timestamp instead of
//     the BSD one (rsyslog's forward format).
//
// The RFC 5424 and RFC 3164 headers that syslog-ng and rsyslog send when
// forwarding are read first by a fast path that does not allocate either
// (see syslog_fast.go): it returns exactly what go-syslog's parsers lead to,
// or declines and leaves the message to them.
//   - No "<" at all: the whole message is the body, as RFC 3164 §4.3.3 asks
//     a relay to treat it.
//
// A message whose body merely starts like a tracelog record is always taken
// as the first shape, so no record can be mistaken for a header. The slices
// of the result alias msg. The timestamp and priority of the header are not
// returned: tracelog records carry their own time.
func ParseSyslog(msg []byte) (Message, error) {
	if len(msg) > MaxMessageSize {
		return Message{}, errOversize
	}
	msg = trimTrailer(msg)
	if len(msg) == 0 {
		return Message{}, errEmpty
	}
	if msg[0] != '<' {
		return Message{Body: msg}, nil
	}
	n := priLen(msg)
	if n == 0 {
		return Message{}, errPRI
	}
	rest := msg[n:]
	switch {
	case looksLikeRecord(rest):
	case isRFC5424(rest):
		if m, ok := fastRFC5424(msg, n); ok {
			return m, nil
		}
		return parseRFC5424(msg, n)
	default:
		stamp := bsdStampLen(rest)
		if stamp == 0 {
			stamp = isoStampLen(rest)
		}
		if stamp == 0 {
			break
		}
		if m, ok := fastRFC3164(msg, n, stamp); ok {
			return m, nil
		}
		return parseRFC3164(msg, n, stamp)
	}
	return Message{Body: bytes.TrimPrefix(rest, utf8BOM)}, nil
}

// priLen returns the length of a valid "<PRI>" at the start of b (PRI 0 to
// 191, one to three digits), or 0.
func priLen(b []byte) int {
	pri := 0
	for i := 1; i < len(b) && i <= 4; i++ {
		c := b[i]
		if c == '>' {
			if i == 1 || pri > 191 {
				return 0
			}
			return i + 1
		}
		if !isDigit(c) {
			return 0
		}
		pri = pri*10 + int(c-'0')
	}
	return 0
}

// isRFC5424 reports whether b (what follows <PRI>) starts with an RFC 5424
// VERSION (one nonzero digit, the only form go-syslog reads) and a TIMESTAMP
// that is NILVALUE or starts with a year.
func isRFC5424(b []byte) bool {
	if len(b) < 4 || b[0] < '1' || b[0] > '9' || b[1] != ' ' {
		return false
	}
	t := b[2:]
	if t[0] == '-' {
		return t[1] == ' '
	}
	return len(t) >= 5 && isDigit(t[0]) && isDigit(t[1]) && isDigit(t[2]) && isDigit(t[3]) && t[4] == '-'
}
