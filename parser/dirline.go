package parser

import (
	"bytes"
	"fmt"
)

var (
	errDirEmpty = fmt.Errorf("%w: empty directory line", ErrMalformedSyslog)
	errDirHost  = fmt.Errorf("%w: directory line has no host and body", ErrMalformedSyslog)
)

// ParseDirLine parses one line of a syslog-ng directory (SPEC §2.2), in
// either of its two formats:
//
//   - the stock syslog file format "Mmm dd hh:mm:ss HOST TAG[PID]: RECORD"
//     (also with an RFC 3339 timestamp, syslog-ng's ts-format(iso)): Host,
//     Tag and ProcID are taken from it and Body is RECORD; a message that
//     had no tag leaves the word after HOST in Body;
//   - the graphmetrics template "HOST CUSTOMER INSTANCE [:] RECORD": Host is
//     HOST and Body is the rest, for Attribute to split.
//
// A line is in the stock format when it starts with a month name, day and
// hh:mm:ss (or an RFC 3339 timestamp) and a space: no host name looks like
// that. Trailing CR, LF and NUL are ignored; the slices alias line.
func ParseDirLine(line []byte) (Message, error) {
	line = trimTrailer(line)
	if len(line) == 0 {
		return Message{}, errDirEmpty
	}
	n := bsdStampLen(line)
	if n == 0 {
		n = isoStampLen(line)
	}
	if n > 0 {
		host, rest, ok := cutWord(line[n+1:])
		if !ok {
			return Message{}, errDirHost
		}
		tag, pid, body := splitTag(rest)
		return Message{Host: host, Tag: tag, ProcID: pid, Body: body}, nil
	}
	host, rest, ok := cutWord(line)
	if !ok {
		return Message{}, errDirHost
	}
	return Message{Host: host, Body: rest}, nil
}

// cutWord splits b at its first space into a non-empty word and a non-empty
// rest.
func cutWord(b []byte) (word, rest []byte, ok bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp == len(b)-1 {
		return nil, nil, false
	}
	return b[:sp], b[sp+1:], true
}
