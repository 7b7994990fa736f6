package urlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"sync"

	"graphmetrics/store"
	"graphmetrics/store/segfile"
)

// inst is one instance's write state. The files are the truth: every
// second with URL rows is appended to the seconds journal; a minute row is
// written once a later second is stored, an hour row (summed from the
// hour's minute file) once a minute row of a later hour is. Only the open
// minute is held in memory (the patterns seen in it, sparse); after a
// start it is rebuilt from the journal, and hours a crash left open are
// summed then, so a crash loses nothing and counts nothing twice.
type inst struct {
	mu     sync.Mutex
	s      *Store
	dir    string
	loaded bool
	made   bool // dir exists (checked once per load)
	dict   *dict
	// lastSec is the newest second stored; older ones are refused.
	lastSec int64
	// last[li] is the start of the newest group written at level li.
	last [len(levels)]int64
	// The open minute: its start and its rows by pattern id.
	openMin int64
	open    map[uint32]*stat
	// The second being written (rows), its spare stats and histogram
	// scratch, reused from second to second.
	sec   map[uint32]*stat
	free  []*stat
	pairs []pair
	// opened[li] is the segment last opened for appending.
	opened [len(levels)]int64
}

const never = math.MinInt64 / 2

// load reads the dictionary and the newest groups of each level once per
// process, cutting torn tails, then writes what a crash left unwritten.
func (in *inst) load(w *appender) error {
	if in.loaded {
		return nil
	}
	d, err := loadDict(in.dir, true)
	if err != nil {
		return err
	}
	in.dict, in.made = d, false
	in.openMin = never
	in.open = map[uint32]*stat{}
	for li := range levels {
		in.last[li] = never
		segs, err := segments(in.dir, levels[li])
		if err != nil {
			return err
		}
		if len(segs) == 0 {
			continue
		}
		seg := segs[len(segs)-1]
		if err := in.repair(li, seg); err != nil {
			return err
		}
	}
	// Hour rows of week files (earlier versions) count as written: hours
	// are only written after them.
	in.last[lvHour] = max(in.last[lvHour], in.last[lvWeek])
	in.lastSec = in.last[lvSec]
	if in.last[lvMin] != never {
		in.lastSec = max(in.lastSec, in.last[lvMin]+59)
	}
	if in.last[lvHour] != never {
		in.lastSec = max(in.lastSec, in.last[lvHour]+3599)
	}
	in.loaded = true
	// Hours whose minute file is complete but not summed (a later minute
	// row exists).
	msegs, err := segments(in.dir, levels[lvMin])
	if err != nil {
		return err
	}
	for _, seg := range msegs {
		if seg > in.last[lvHour] && seg < floorTo(in.last[lvMin], 3600) {
			if err := in.closeHour(w, seg); err != nil {
				return err
			}
		}
	}
	// Seconds after the newest minute row: the open minute.
	after := int64(never)
	if in.last[lvMin] != never {
		after = in.last[lvMin] + 60
	}
	ssegs, err := segments(in.dir, levels[lvSec])
	if err != nil {
		return err
	}
	for _, seg := range ssegs {
		if seg+levels[lvSec].Span <= after {
			continue
		}
		var replay []int64
		groups := map[int64]map[uint32]*stat{}
		_, _, err := readSeg(in.dir, levels[lvSec], seg, func(t int64, rows []byte) error {
			if t < after {
				return nil
			}
			m, err := decodeGroupStats(rows)
			replay, groups[t] = append(replay, t), m
			return err
		})
		if err != nil && !errors.Is(err, errCorrupt) {
			return err
		}
		for _, t := range replay {
			if err := in.toMinute(w, t, groups[t]); err != nil {
				return err
			}
		}
	}
	return nil
}

// repair finds the newest group of a level's newest segment, cutting a
// torn or corrupt tail off its plain file.
func (in *inst) repair(li int, seg int64) error {
	lv := levels[li]
	path := segPath(in.dir, lv, seg)
	valid, size, err := readSeg(in.dir, lv, seg, func(t int64, _ []byte) error {
		in.last[li] = max(in.last[li], t)
		return nil
	})
	switch {
	case err != nil && size > 0 && int64(valid) < size:
		in.s.repaired.Add(1)
		in.s.lim.Log(in.s.log, "torn", "cut a torn URL group", "file", path, "err", err)
		if err := os.Truncate(path, int64(valid)); err != nil {
			return fmt.Errorf("repair %s: %w", path, err)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		in.s.lim.Log(in.s.log, "corrupt", "corrupt URL segment", "file", path, "err", err)
	}
	return nil
}

// decodeGroupStats decodes a group's rows.
func decodeGroupStats(rows []byte) (map[uint32]*stat, error) {
	m := map[uint32]*stat{}
	err := eachRow(rows, func(id uint32, b []byte) error {
		st, err := decodeStat(b, nil)
		if err != nil {
			return err
		}
		if o := m[id]; o != nil {
			o.merge(&st)
		} else {
			m[id] = &st
		}
		return nil
	})
	return m, err
}

// rows maps a second's URLStats to pattern ids (adding new patterns to the
// dictionary up to max_patterns, the rest to Other). The map and its stats
// are reused for the next second: toMinute copies what it keeps.
func (in *inst) rows(us []store.URLStat) (map[uint32]*stat, error) {
	if in.sec == nil {
		in.sec = map[uint32]*stat{}
	}
	for _, st := range in.sec {
		st.reset()
		in.free = append(in.free, st)
	}
	clear(in.sec)
	for i := range us {
		id, err := in.dict.id(us[i].Pattern, in.s.opts.MaxPatterns)
		if err != nil {
			return nil, err
		}
		if id == 0 {
			in.s.other.Add(1)
		}
		st := in.sec[id]
		if st == nil {
			if n := len(in.free); n > 0 {
				st, in.free = in.free[n-1], in.free[:n-1]
			} else {
				st = &stat{}
			}
			in.sec[id] = st
		}
		if in.pairs, err = st.addURL(&us[i], in.pairs); err != nil {
			return nil, err
		}
	}
	return in.sec, nil
}

// addSecond journals second t and feeds it to the open minute.
func (in *inst) addSecond(w *appender, t int64, rows map[uint32]*stat) error {
	if err := w.append(in, lvSec, t, rows); err != nil {
		return err
	}
	in.lastSec, in.last[lvSec] = t, t
	return in.toMinute(w, t, rows)
}

// toMinute adds second t's rows to the open minute, first writing the open
// minute when t is past it.
func (in *inst) toMinute(w *appender, t int64, rows map[uint32]*stat) error {
	m := floorTo(t, 60)
	if len(in.open) > 0 && in.openMin != m {
		if in.openMin > in.last[lvMin] {
			if err := in.writeMinute(w); err != nil {
				return err
			}
		}
		clear(in.open)
	}
	in.openMin = m
	for id, st := range rows {
		if o := in.open[id]; o != nil {
			o.merge(st)
		} else {
			c := *st
			c.h = slices.Clone(st.h) // st is reused for the next second
			in.open[id] = &c
		}
	}
	return nil
}

// writeMinute writes the open minute; the first minute of a new hour
// closes the hour before.
func (in *inst) writeMinute(w *appender) error {
	prevHour := floorTo(in.last[lvMin], 3600)
	if err := w.append(in, lvMin, in.openMin, in.open); err != nil {
		return err
	}
	if in.last[lvMin] != never && prevHour < floorTo(in.openMin, 3600) && prevHour > in.last[lvHour] {
		in.last[lvMin] = in.openMin
		return in.closeHour(w, prevHour)
	}
	in.last[lvMin] = in.openMin
	return nil
}

// closeHour sums hour h's minute rows (its minute file) into an hour row.
func (in *inst) closeHour(w *appender, h int64) error {
	sum := map[uint32]*stat{}
	err := readRows(in.dir, levels[lvMin], h, nil, nil, func(_ int64, id uint32, st *stat) error {
		if o := sum[id]; o != nil {
			o.merge(st)
		} else {
			c := *st
			c.h = slices.Clone(st.h)
			sum[id] = &c
		}
		return nil
	})
	if errors.Is(err, errCorrupt) { // what decoded before the fault is summed
		in.s.lim.Log(in.s.log, "corrupt", "corrupt URL segment", "file", segPath(in.dir, levels[lvMin], h), "err", err)
	} else if err != nil {
		return err
	}
	if len(sum) == 0 {
		return nil
	}
	if err := w.append(in, lvHour, h, sum); err != nil {
		return err
	}
	in.last[lvHour] = h
	return nil
}

// prune deletes the level's segments that ended Keep before the newest
// second and compresses the older minute and hour ones (the journal's are
// only deleted); it runs when a segment file is opened for appending.
func (in *inst) prune(li int, seg int64) {
	if in.opened[li] == seg && seg != 0 {
		return
	}
	in.opened[li] = seg
	lis := []int{li}
	if li == lvHour { // and the week files of earlier versions: all closed
		lis = append(lis, lvWeek)
	}
	for _, li := range lis {
		switch li {
		case lvWeek:
			in.compressOld(li, math.MaxInt64)
		case lvMin:
			in.compressOld(li, seg)
		case lvHour: // yesterday stays plain: a table of the last 24 hours inflates nothing
			in.compressOld(li, seg-levels[li].Span)
		}
		lv := levels[li]
		newest := max(in.lastSec, in.last[li])
		segfile.RemoveOlder(in.dir, lv.Prefix, ".u", lv.Span, newest-lv.Keep, func(err error) {
			in.s.lim.Log(in.s.log, "prune", "prune URL segment", "err", err)
		})
	}
}

// TryLock and Unlock let the instance map forget an idle instance only
// when no write holds it.
func (in *inst) TryLock() bool { return in.mu.TryLock() }

// Unlock releases TryLock.
func (in *inst) Unlock() { in.mu.Unlock() }
