package parser

import (
	"bufio"
	"bytes"
)

// FrameOverhead is the most bytes an octet-counting header ("LEN SP", LEN up
// to 9 digits) adds to a message. A reader that feeds a frame splitter made
// with max must be able to buffer max+FrameOverhead bytes, or a maximal
// octet-counted frame can never be completed (bufio.Scanner would then stop
// with ErrTooLong).
const FrameOverhead = 10

// NewFrameSplitter returns a bufio.SplitFunc for a syslog TCP stream whose
// messages are at most max bytes. It is NewFrameSplitterFunc without an
// oversize callback: oversized frames are discarded silently.
func NewFrameSplitter(max int) bufio.SplitFunc {
	return NewFrameSplitterFunc(max, nil)
}

// NewFrameSplitterFunc returns a bufio.SplitFunc that cuts a syslog TCP
// stream into messages, choosing the framing for every message anew, because
// one connection may carry both (a relay mixing senders) and senders disagree:
//
//   - Octet counting (RFC 6587 §3.4.1): "LEN SP MSG", where LEN is 1 to 9
//     digits without a leading zero. The token is exactly MSG, which may
//     contain newlines and NULs and keeps any trailing newline (rsyslog and
//     syslog-ng leave one in RFC 5424 messages; the parser trims it).
//   - Otherwise non-transparent framing: the message ends at the first '\n'
//     (logger, syslog-ng, rsyslog) or '\0' (Python's SysLogHandler over TCP,
//     which sends NUL-terminated messages with no newline). The terminator is
//     not part of the token; a '\r' before '\n' is kept, the parser trims it.
//
// Empty frames (consecutive terminators, a "\0\n" pair) are skipped, so every
// token is non-empty. At end of input an unterminated rest, or the MSG of an
// octet-counted frame cut short, is returned as one last message: it is what
// the sender managed to send.
//
// A message longer than max is never returned. Its bytes are discarded as
// they stream in — up to and including the next terminator, or exactly LEN
// bytes for an octet-counted frame whose LEN exceeds max, which keeps the
// stream in sync with a sender that frames correctly — and then oversize, if
// not nil, is called once with the number of message bytes dropped. The
// connection goes on with the next message: one bad message costs only
// itself. The split function therefore never returns an error and never asks
// for more than max+FrameOverhead bytes of buffer.
//
// The returned function keeps state (the discard in progress), so it belongs
// to one stream. max < 1 is taken as 1.
func NewFrameSplitterFunc(max int, oversize func(dropped int)) bufio.SplitFunc {
	if max < 1 {
		max = 1
	}
	f := &framer{max: max, oversize: oversize}
	return f.split
}

// NewLineSplitterFunc is NewFrameSplitterFunc without octet counting: a
// message ends at the first '\n' or '\0', whatever it starts with. Line
// protocols (Graphite plaintext, statsd over TCP) need it, since their lines
// may start with digits and a space.
func NewLineSplitterFunc(max int, oversize func(dropped int)) bufio.SplitFunc {
	if max < 1 {
		max = 1
	}
	f := &framer{max: max, oversize: oversize, linesOnly: true}
	return f.split
}

// framer is the state of one stream's splitter.
type framer struct {
	max       int
	oversize  func(int)
	linesOnly bool // no octet counting

	// An oversized message being discarded: skipLine discards up to the next
	// terminator, skipCount discards that many more bytes; dropped counts the
	// bytes discarded so far.
	skipLine  bool
	skipCount int
	dropped   int
}

func (f *framer) split(data []byte, atEOF bool) (int, []byte, error) {
	if f.skipLine || f.skipCount > 0 {
		return f.discard(data, atEOF), nil, nil
	}
	// Terminators between messages make empty frames; skip them all at once.
	skip := 0
	for skip < len(data) && (data[skip] == '\n' || data[skip] == 0) {
		skip++
	}
	if skip > 0 {
		return skip, nil, nil
	}
	if len(data) == 0 {
		return 0, nil, nil
	}

	if f.linesOnly {
		// Straight to the terminator search below.
	} else if n, hdr, ok := octetCount(data); ok {
		if n > f.max {
			// Drop exactly the announced frame.
			f.skipCount = n
			f.dropped = 0
			return hdr + f.discard(data[hdr:], atEOF), nil, nil
		}
		if len(data)-hdr >= n {
			return hdr + n, data[hdr : hdr+n], nil
		}
		if !atEOF {
			return 0, nil, nil
		}
		// Cut short by the end of the stream: what arrived is the last
		// message.
		if len(data) == hdr {
			return hdr, nil, nil
		}
		return len(data), data[hdr:], nil
	} else if hdr < 0 && !atEOF {
		// Only digits so far: cannot tell the framing yet.
		return 0, nil, nil
	}

	if i := terminator(data); i >= 0 {
		if i > f.max {
			f.report(i)
			return i + 1, nil, nil
		}
		return i + 1, data[:i], nil
	}
	if len(data) > f.max {
		// No terminator within reach: start discarding, so the reader never
		// has to buffer more than max bytes of one line.
		f.skipLine = true
		f.dropped = len(data)
		if atEOF {
			f.finishSkip()
		}
		return len(data), nil, nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// discard consumes what it can of an oversized message and returns how many
// bytes of data it used.
func (f *framer) discard(data []byte, atEOF bool) int {
	var adv int
	if f.skipCount > 0 {
		adv = min(f.skipCount, len(data))
		f.skipCount -= adv
		f.dropped += adv
		if f.skipCount == 0 {
			f.finishSkip()
		}
	} else if i := terminator(data); i >= 0 {
		adv = i + 1
		f.dropped += i
		f.finishSkip()
	} else {
		adv = len(data)
		f.dropped += adv
	}
	if atEOF && (f.skipLine || f.skipCount > 0) && adv == len(data) {
		f.finishSkip()
	}
	return adv
}

func (f *framer) finishSkip() {
	f.skipLine, f.skipCount = false, 0
	f.report(f.dropped)
	f.dropped = 0
}

func (f *framer) report(n int) {
	if f.oversize != nil {
		f.oversize(n)
	}
}

// octetCount reports whether data starts with an RFC 6587 octet count
// "LEN SP" and returns LEN and the header length. hdr is -1 (with ok false)
// when data so far is 1 to 9 digits that a later space could still make into
// a header.
func octetCount(data []byte) (n, hdr int, ok bool) {
	if data[0] < '1' || data[0] > '9' {
		return 0, 0, false
	}
	for i, c := range data {
		switch {
		case c >= '0' && c <= '9':
			if i >= 9 {
				return 0, 0, false
			}
			n = n*10 + int(c-'0')
		case c == ' ':
			return n, i + 1, true
		default:
			return 0, 0, false
		}
	}
	return 0, -1, false
}

// terminator returns the index of the first '\n' or '\0' in data, or -1.
// Two IndexByte scans (vectorized) beat one IndexAny (a byte loop), and the
// second only searches in front of the first hit. They look at a window
// that grows fourfold until it holds a terminator: data is the reader's
// whole buffer, and a NUL-terminated stream (Python's) has no newline, so
// an unbounded first scan would read the whole buffer for every message.
func terminator(data []byte) int {
	for win := 256; ; win *= 4 {
		w := data[:min(win, len(data))]
		i := bytes.IndexByte(w, '\n')
		head := w
		if i >= 0 {
			head = w[:i]
		}
		if j := bytes.IndexByte(head, 0); j >= 0 {
			return j
		}
		if i >= 0 || len(w) == len(data) {
			return i
		}
	}
}
