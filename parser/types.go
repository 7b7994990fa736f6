package parser

import "errors"

// Record is one tracelog line: CODE RID TIMESTAMP [DATA].
// RID and Data alias the parsed line.
type Record struct {
	Code byte   // 'B','I','C','A','E','D','S','X','U', or an extension code
	RID  []byte // request id, per process, reused
	Time int64  // Unix time in microseconds, the local timestamp read in the configured zone
	// Repeat is set when the wall time occurs twice (the clocks were set
	// back over it): Time is its first occurrence, Time+Repeat (µs) its
	// second. Which one the record means depends on its sender's other
	// records, so the parser leaves the choice to the caller.
	Repeat int64
	// Skipped: the wall time does not exist (the clocks were set forward
	// over it), which a correct clock never logs; Time is time.Date's
	// reading of it.
	Skipped bool
	Data    []byte // everything after the timestamp and one space; may be empty
}

// Message is one syslog message or one syslog-ng directory line, reduced to
// what attribution needs. Slices alias the input.
type Message struct {
	Host   []byte // HOSTNAME; empty when the message had no header
	Tag    []byte // APP-NAME / tag
	ProcID []byte // PROCID / [pid]; may be empty
	Body   []byte // MSG, trailing NUL, CR and LF trimmed
}

// Rejection reasons; callers count them by errors.Is.
var (
	ErrMalformedSyslog = errors.New("malformed syslog message")
	ErrBadRecord       = errors.New("bad tracelog record")
	ErrBadTime         = errors.New("impossible timestamp")
	ErrOversize        = errors.New("oversized message")
)
