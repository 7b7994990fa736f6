package parser

import (
	"math"
	"sync/atomic"
	"time"
)

// zoneSpan is one offset of a zone and the UTC seconds [start, end) in which
// it applies, as time.Time.ZoneBounds reports them.
type zoneSpan struct {
	loc        *time.Location
	start, end int64
	offset     int64
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

// offset returns loc's offset from UTC in seconds at the instant utc.
func (c *zoneCache) offset(loc *time.Location, utc int64) int64 {
	for i := range c.slots {
		if z := c.slots[i].Load(); z != nil && z.loc == loc && utc >= z.start && utc < z.end {
			return z.offset
		}
	}
	t := time.Unix(utc, 0).In(loc)
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	z := &zoneSpan{loc: loc, start: math.MinInt64, end: math.MaxInt64, offset: int64(off)}
	if !s.IsZero() {
		z.start = s.Unix()
	}
	if !e.IsZero() {
		z.end = e.Unix()
	}
	c.slots[c.next.Add(1)%uint32(len(c.slots))].Store(z)
	return z.offset
}

// wallToUTC converts wall-clock seconds in loc (seconds since 1970-01-01
// 00:00 of the local calendar) to Unix seconds, choosing the same offset as
// time.Date: look the offset up as if the wall time were UTC, and if it is
// not zero, look again at the instant that offset gives. A wall time skipped
// by a DST change (02:30 on spring-forward day) and one that occurs twice
// thus resolve exactly as time.Date resolves them.
func wallToUTC(wall int64, loc *time.Location) int64 {
	if loc == nil || loc == time.UTC {
		return wall
	}
	off := zones.offset(loc, wall)
	if off != 0 {
		off = zones.offset(loc, wall-off)
	}
	return wall - off
}
