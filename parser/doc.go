// Package parser turns untrusted bytes into tracelog records: syslog framing
// and headers, the "customer instance [:]" body prefix, the two syslog-ng
// directory line formats, and the tracelog records themselves.
//
// Everything here is pure (bytes in, values out), never panics on any input,
// and avoids allocating on the hot path: returned byte slices alias the input.
package parser
