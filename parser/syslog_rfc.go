package parser

import (
	"bytes"
	"fmt"

	"gopkg.in/mcuadros/go-syslog.v2/format"
)

// The RFC 3164 and RFC 5424 headers are parsed by go-syslog's format parsers,
// which decide whether a header is valid. They return copies (strings in a
// map), while Message aliases its input, so the fields they found are then
// located in msg by the layout of the header, and a field that is not where
// the layout puts it rejects the message. That check also keeps go-syslog's
// quirks out: it skips one byte after a field whether or not it is a space,
// and returns its own os.Hostname() for an RFC 3164 header without HOSTNAME.
// Where go-syslog is wrong about valid input (STRUCTURED-DATA, see
// parseRFC5424; a bare word taken for a TAG, see splitTag), the fields are
// found here.

var errLayout = fmt.Errorf("%w: header fields not where the format puts them", ErrMalformedSyslog)

// goSyslog runs one go-syslog parser over msg. Its parsers index past the end
// of short or odd input ("<13>Nov 21 22:47:28 host" panics), so a panic is
// turned into an error.
func goSyslog(f format.Format, msg []byte) (parts format.LogParts, err error) {
	defer func() {
		if r := recover(); r != nil {
			parts, err = nil, fmt.Errorf("go-syslog panicked: %v", r)
		}
	}()
	p := f.GetParser(msg)
	if err := p.Parse(); err != nil {
		return nil, err
	}
	return p.Dump(), nil
}

func partString(parts format.LogParts, key string) string {
	s, _ := parts[key].(string)
	return s
}

// parseRFC5424 parses "<PRI>V TIMESTAMP HOST APP PROCID MSGID SD [MSG]";
// priEnd is the length of "<PRI>".
func parseRFC5424(msg []byte, priEnd int) (Message, error) {
	parts, err := goSyslog(&format.RFC5424{}, msg)
	if err != nil {
		return Message{}, fmt.Errorf("%w: rfc5424: %v", ErrMalformedSyslog, err)
	}
	// HOSTNAME, APP-NAME, PROCID and MSGID follow "<PRI>V TIMESTAMP ", one
	// space apart.
	pos := priEnd + 2
	sp := bytes.IndexByte(msg[pos:], ' ')
	if sp < 0 {
		return Message{}, errLayout
	}
	pos += sp + 1
	var fields [4][]byte
	for i, key := range [...]string{"hostname", "app_name", "proc_id", "msg_id"} {
		f := partString(parts, key)
		if !hasPrefix(msg[pos:], f) {
			return Message{}, errLayout
		}
		if f != "-" { // NILVALUE
			fields[i] = msg[pos : pos+len(f)]
		}
		pos += len(f)
		if pos < len(msg) {
			if msg[pos] != ' ' {
				return Message{}, errLayout
			}
			pos++
		}
	}
	// go-syslog ends STRUCTURED-DATA at the first "] ", also inside a quoted
	// value (where RFC 5424 lets "\]" appear), so MSG is found here instead.
	n := sdLen(msg[pos:])
	if n == 0 {
		return Message{}, errLayout
	}
	body := msg[pos+n:]
	if len(body) > 0 {
		if body[0] != ' ' {
			return Message{}, errLayout
		}
		body = body[1:]
	}
	return Message{
		Host:   fields[0],
		Tag:    fields[1],
		ProcID: fields[2],
		Body:   bytes.TrimPrefix(body, utf8BOM),
	}, nil
}

// sdLen returns the length of the RFC 5424 STRUCTURED-DATA at the start of
// b: NILVALUE or one or more "[ID PARAM=\"VALUE\"...]" elements, where a
// VALUE may hold "\"", "\\" and "\]" (a backslash takes the next byte
// whatever it is). It returns 0 if there is none. SD is on the relay fast
// path: the loop skips the bytes that do not matter with a table lookup
// each (sdLenRef in the tests is the plain byte loop it must agree with).
func sdLen(b []byte) int {
	if len(b) > 0 && b[0] == '-' {
		return 1
	}
	n := 0
	for n < len(b) && b[n] == '[' {
		quoted := false
		i := n + 1
	element:
		for {
			for i < len(b) && !sdSpecial[b[i]] {
				i++
			}
			if i >= len(b) {
				return 0
			}
			switch b[i] {
			case '"':
				quoted = !quoted
			case '\\':
				if quoted {
					i++
				}
			case ']':
				if !quoted {
					break element
				}
			}
			i++
		}
		n = i + 1
	}
	return n
}

// sdSpecial marks the bytes sdLen stops at.
var sdSpecial = [256]bool{'"': true, '\\': true, ']': true}

// parseRFC3164 parses "<PRI>STAMP [HOST] TAG[PID]: MSG", where STAMP (at
// msg[priEnd:], stampLen bytes) is "Mmm dd hh:mm:ss" or RFC 3339.
func parseRFC3164(msg []byte, priEnd, stampLen int) (Message, error) {
	hdrEnd := priEnd + stampLen + 1
	in := msg
	if stampLen != len("Jan _2 15:04:05") {
		// go-syslog reads RFC 3339 only without a fraction; the time is of
		// no use here, so it is shown a BSD one instead.
		const bsd = "Jan  1 00:00:00 "
		in = make([]byte, 0, priEnd+len(bsd)+len(msg)-hdrEnd)
		in = append(append(append(in, msg[:priEnd]...), bsd...), msg[hdrEnd:]...)
	}
	parts, err := goSyslog(&format.RFC3164{}, in)
	if err != nil {
		return Message{}, fmt.Errorf("%w: rfc3164: %v", ErrMalformedSyslog, err)
	}
	r := msg[hdrEnd:]
	tok := r
	if sp := bytes.IndexByte(r, ' '); sp >= 0 {
		tok = r[:sp]
	}
	var host []byte
	if len(tok) > 0 && tok[len(tok)-1] == ':' {
		// No HOSTNAME: the first word is "tag:" or "tag[pid]:". go-syslog
		// then makes up a hostname, and returns no tag only when it did not
		// accept the timestamp.
		if partString(parts, "tag") == "" {
			return Message{}, errLayout
		}
	} else {
		if string(tok) != partString(parts, "hostname") {
			return Message{}, errLayout
		}
		host = tok
		r = r[len(tok):]
		if len(r) > 0 {
			r = r[1:]
		}
	}
	tag, pid, body := splitTag(r)
	return Message{Host: host, Tag: tag, ProcID: pid, Body: body}, nil
}

// hasPrefix is bytes.HasPrefix for a string prefix, without converting.
func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}
