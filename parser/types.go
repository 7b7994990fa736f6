package parser

import "errors"

// Record is one tracelog line: CODE RID TIMESTAMP [DATA].
// RID and Data alias the parsed line.
type Record struct {
	Code byte   // 'B','I','C','A','E','D','S','X','U', or an extension code
	RID  []byte // request id, per process, reused
	Time int64  // Unix time in microseconds, the local timestamp read in the configured zone
	Data []byte // everything after the timestamp and one space; may be empty
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
