// Package parser turns untrusted bytes into tracelog records: syslog framing
// and headers, the "customer instance [:]" body prefix, the two syslog-ng
// directory line formats, and the tracelog records themselves.
//
// Timestamps are local wall time read in a given zone. A wall time that
// occurs twice (the clocks set back over it) gives both instants (Record.Time
// and Record.Repeat), since only the sender's other records tell which one
// it means: store chooses per instance. One the clocks skipped is read as
// time.Date reads it, flagged (Record.Skipped).
//
// Everything here is pure (bytes in, values out), never panics on any input,
// and avoids allocating on the hot path: returned byte slices alias the input.
package parser
