// Package timerange is the time range of a page (and of a chart that pins
// its own): Graphite's `from` and `until` forms, parsed from untrusted
// query values, resolved against the current time, and written back into
// URLs in the same forms. Every chart, image, CSV and JSON of a page uses
// one Range, so a link shows exactly that view.
package timerange

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds of a resolved range (the renderer's: web/render).
const (
	MinTime     = 631152000  // 1990-01-01
	MaxTime     = 4102444800 // 2100-01-01
	MaxSpan     = 800 * 86400
	MinSpan     = 10 // seconds: a drag across a few pixels still draws
	DefaultSpan = 86400
	// Layout is the absolute form written into URLs (in the page's zone).
	Layout = "2006-01-02T15:04"
)

// Point is one end of a range: relative to now (Rel, Ago seconds before
// it) or an absolute time (At, Unix seconds). The zero Point is open.
type Point struct {
	Set bool
	Rel bool
	Ago int64
	At  int64
}

// Range is a from..until pair; either end may be open. An open until is
// now; an open from is DefaultSpan before until.
type Range struct {
	From, Until Point
}

// ErrSyntax wraps every parse failure.
var ErrSyntax = errors.New("bad time")

var units = []struct {
	name string
	sec  int64
}{ // longest names first within a prefix, as Graphite reads them
	{"seconds", 1}, {"second", 1}, {"secs", 1}, {"sec", 1}, {"s", 1},
	{"minutes", 60}, {"minute", 60}, {"mins", 60}, {"min", 60},
	{"months", 30 * 86400}, {"month", 30 * 86400}, {"mon", 30 * 86400}, {"m", 60},
	{"hours", 3600}, {"hour", 3600}, {"h", 3600},
	{"days", 86400}, {"day", 86400}, {"d", 86400},
	{"weeks", 7 * 86400}, {"week", 7 * 86400}, {"w", 7 * 86400},
	{"years", 365 * 86400}, {"year", 365 * 86400}, {"y", 365 * 86400},
}

// ParsePoint reads one end: "" (open), "now", "-15min" / "-15m" / "-3h" /
// "-7d" (Graphite's units s, min or m, h, d, w, mon, y), epoch seconds, or
// YYYY-MM-DDTHH:MM (also with seconds, a space for the T, or a date alone)
// in loc.
func ParsePoint(s string, loc *time.Location) (Point, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Point{}, nil
	case len(s) > 40:
		return Point{}, fmt.Errorf("%w: too long", ErrSyntax)
	case strings.EqualFold(s, "now"):
		return Point{Set: true, Rel: true}, nil
	case s[0] == '-':
		return parseOffset(s[1:])
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < MinTime || n > MaxTime {
			return Point{}, fmt.Errorf("%w: %d is not between 1990 and 2100", ErrSyntax, n)
		}
		return Point{Set: true, At: n}, nil
	}
	for _, layout := range []string{Layout, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if n := t.Unix(); n >= MinTime && n <= MaxTime {
				return Point{Set: true, At: n}, nil
			}
			return Point{}, fmt.Errorf("%w: %q is not between 1990 and 2100", ErrSyntax, s)
		}
	}
	return Point{}, fmt.Errorf("%w: %q (use -15min, -3h, -7d, now, epoch seconds or YYYY-MM-DDTHH:MM)", ErrSyntax, s)
}

func parseOffset(s string) (Point, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || i > 9 {
		return Point{}, fmt.Errorf("%w: -%s needs a number of units, as in -15min", ErrSyntax, s)
	}
	unit := strings.ToLower(s[i:])
	for _, u := range units {
		if unit == u.name {
			if n*u.sec > MaxTime-MinTime {
				return Point{}, fmt.Errorf("%w: -%s is too far back", ErrSyntax, s)
			}
			return Point{Set: true, Rel: true, Ago: n * u.sec}, nil
		}
	}
	return Point{}, fmt.Errorf("%w: unit %q (use s, min, h, d, w, mon or y)", ErrSyntax, s[i:])
}

// Parse reads from and until; an end earlier than the start at any time
// (both absolute, or both relative) is refused here, the rest by Resolve.
func Parse(from, until string, loc *time.Location) (Range, error) {
	f, err := ParsePoint(from, loc)
	if err != nil {
		return Range{}, fmt.Errorf("from: %w", err)
	}
	u, err := ParsePoint(until, loc)
	if err != nil {
		return Range{}, fmt.Errorf("until: %w", err)
	}
	r := Range{From: f, Until: u}
	if f.Set && u.Set && f.Rel == u.Rel {
		if _, _, err := r.Resolve(time.Unix(MaxTime-1, 0)); err != nil {
			return Range{}, err
		}
	}
	return r, nil
}

// FromQuery parses the "from" and "until" query values.
func FromQuery(v url.Values, loc *time.Location) (Range, error) {
	return Parse(v.Get("from"), v.Get("until"), loc)
}

// Last is the trailing range of the last span.
func Last(span time.Duration) Range {
	return Range{From: Point{Set: true, Rel: true, Ago: int64(span / time.Second)}}
}

// Between is the fixed range start..end (Unix seconds).
func Between(start, end int64) Range {
	return Range{From: Point{Set: true, At: start}, Until: Point{Set: true, At: end}}
}

func (p Point) at(now int64) int64 {
	if p.Rel {
		return now - p.Ago
	}
	return p.At
}

// Resolve returns the range's start and end at now, checked against the
// bounds.
func (r Range) Resolve(now time.Time) (start, end int64, err error) {
	end = now.Unix()
	if r.Until.Set {
		end = r.Until.at(now.Unix())
	}
	start = end - DefaultSpan
	if r.From.Set {
		start = r.From.at(now.Unix())
	}
	switch {
	case end-start < MinSpan:
		return 0, 0, fmt.Errorf("%w: the range must be at least %d seconds, from before until", ErrSyntax, MinSpan)
	case end-start > MaxSpan:
		return 0, 0, fmt.Errorf("%w: the range must be at most %d days", ErrSyntax, MaxSpan/86400)
	case start < MinTime || end > MaxTime:
		return 0, 0, fmt.Errorf("%w: the range must lie between 1990 and 2100", ErrSyntax)
	}
	return start, end, nil
}

// Trailing reports whether the range moves with the current time (its end
// is now or relative to now), so its charts refresh.
func (r Range) Trailing() bool { return !r.Until.Set || r.Until.Rel }

// Settled reports whether the range can no longer change: it ended more
// than after before now.
func (r Range) Settled(now time.Time, after time.Duration) bool {
	if r.Trailing() {
		return false
	}
	_, end, err := r.Resolve(now)
	return err == nil && end < now.Add(-after).Unix()
}

// IsZero reports whether both ends are open (the default range).
func (r Range) IsZero() bool { return !r.From.Set && !r.Until.Set }

// Format writes a point in the form Parse reads: "now", "-15min",
// "YYYY-MM-DDTHH:MM" in loc when on a whole minute, else (or with a nil
// loc) epoch seconds.
func (p Point) Format(loc *time.Location) string {
	switch {
	case !p.Set:
		return ""
	case p.Rel && p.Ago == 0:
		return "now"
	case p.Rel:
		return "-" + offset(p.Ago)
	case p.At%60 == 0 && loc != nil:
		return time.Unix(p.At, 0).In(loc).Format(Layout)
	}
	return strconv.FormatInt(p.At, 10)
}

// offset writes seconds in the largest unit that divides them.
func offset(sec int64) string {
	for _, u := range []struct {
		name string
		sec  int64
	}{{"y", 365 * 86400}, {"d", 86400}, {"h", 3600}, {"min", 60}} {
		if sec%u.sec == 0 {
			return strconv.FormatInt(sec/u.sec, 10) + u.name
		}
	}
	return strconv.FormatInt(sec, 10) + "s"
}

// Encode sets "from" and "until" in v (deleting open ends).
func (r Range) Encode(v url.Values, loc *time.Location) {
	v.Del("from")
	v.Del("until")
	if s := r.From.Format(loc); s != "" {
		v.Set("from", s)
	}
	if s := r.Until.Format(loc); s != "" {
		v.Set("until", s)
	}
}
