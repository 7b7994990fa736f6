package parser

import (
	"math"
	"sync/atomic"
	"time"
)

// zoneSpan is one offset of a zone and the UTC seconds [start, end) in which
// it applies, as time.Time.ZoneBounds reports them, with the offsets that
// apply just before start and from end on (equal to offset when the span
// is unbounded on that side).
type zoneSpan struct {
	loc              *time.Location
	start, end       int64
	offset           int64
	prevOff, nextOff int64
}

// zoneCache remembers the last few zone spans looked up. A zone changes its
// offset at most a few times a year, so nearly every record falls in a
// cached span and converting its time costs a few comparisons instead of a
// search of the zone's transitions. The slots let several zones (per-source
// overrides) be used at once without evicting each other on every record.
//
// It is the package's only state: a memo of immutable zone data, safe for
// concurrent use (each slot is swapped atomically), invisible to callers.
type zoneCache struct {
	slots [4]atomic.Pointer[zoneSpan]
	next  atomic.Uint32
}

var zones zoneCache

// span returns the span of loc that holds the instant utc.
func (c *zoneCache) span(loc *time.Location, utc int64) *zoneSpan {
	for i := range c.slots {
		if z := c.slots[i].Load(); z != nil && z.loc == loc && utc >= z.start && utc < z.end {
			return z
		}
	}
	t := time.Unix(utc, 0).In(loc)
	off := offsetAt(loc, utc)
	s, e := t.ZoneBounds()
	z := &zoneSpan{loc: loc, start: math.MinInt64, end: math.MaxInt64, offset: off, prevOff: off, nextOff: off}
	if !s.IsZero() {
		z.start = s.Unix()
		z.prevOff = offsetAt(loc, z.start-1)
	}
	if !e.IsZero() {
		z.end = e.Unix()
		z.nextOff = offsetAt(loc, z.end)
	}
	c.slots[c.next.Add(1)%uint32(len(c.slots))].Store(z)
	return z
}

func offsetAt(loc *time.Location, utc int64) int64 {
	_, off := time.Unix(utc, 0).In(loc).Zone()
	return int64(off)
}

// wallToUTC converts wall-clock seconds in loc (seconds since 1970-01-01
// 00:00 of the local calendar) to Unix seconds.
//
// A wall time that occurs twice (the hour repeated when the clocks are set
// back) returns its first occurrence and, in repeat, the seconds from it to
// the second; which one a record means is not the parser's to know (store
// decides per instance). A wall time that does not exist (skipped when the
// clocks are set forward) is read as time.Date reads it, and skipped is
// set. Every other wall time has exactly one instant, the one time.Date
// returns.
func wallToUTC(wall int64, loc *time.Location) (utc, repeat int64, skipped bool) {
	if loc == nil || loc == time.UTC {
		return wall, 0, false
	}
	// time.Date's choice: the offset in force at the wall time read as
	// UTC, corrected once if the instant it gives lies outside that span.
	z := zones.span(loc, wall)
	utc = wall - z.offset
	if z.offset != 0 && (utc < z.start || utc >= z.end) {
		z = zones.span(loc, utc)
		utc = wall - z.offset
	}
	if utc < z.start || utc >= z.end {
		// The instant's own span must give back the same wall time.
		zt := zones.span(loc, utc)
		if zt.offset != z.offset {
			return utc, 0, true
		}
		z = zt
	}
	// The same wall time in the span before or after, when an offset
	// change sets the clocks back across it.
	if z.prevOff > z.offset {
		if t := wall - z.prevOff; t < z.start && offsetAt(loc, t) == z.prevOff {
			return t, utc - t, false
		}
	}
	if z.nextOff < z.offset {
		if t := wall - z.nextOff; t >= z.end && offsetAt(loc, t) == z.nextOff {
			return utc, t - utc, false
		}
	}
	return utc, 0, false
}
