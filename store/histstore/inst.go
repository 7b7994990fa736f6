package histstore

import (
	"fmt"
	"math"
	"os"
	"sync"

	"graphmetrics/store/hist"
	"graphmetrics/store/segfile"
)

// inst is one instance's write state. The files are the truth: a minute
// row is written once a later second is stored, an hour row once a later
// minute row is; the minute and hour still open are rebuilt from the finer
// rows when the instance is first written after a start, so a crash between
// two appends loses nothing and counts nothing twice.
type inst struct {
	mu     sync.Mutex
	s      *Store
	dir    string
	loaded bool
	// lastSec is the newest second stored; older ones are refused.
	lastSec int64
	// last[li] is the start of the newest row written at level li.
	last [len(levels)]int64
	// open[li] accumulates the row still open at level li (1: minute, 2: hour).
	open  [len(levels)]*hist.Hist
	openT [len(levels)]int64
	// opened[li] is the segment last opened for appending.
	opened [len(levels)]int64
}

const never = math.MinInt64 / 2

// load reads back the newest rows of each level once per process, cutting a
// torn last row off the newest segment.
func (in *inst) load() error {
	if in.loaded {
		return nil
	}
	in.lastSec = never
	for li := range levels {
		in.last[li] = never
		in.open[li] = hist.New(hist.Default)
		in.openT[li] = never
	}
	type pending struct {
		li int
		t  int64
		h  *hist.Hist
	}
	var replay []pending
	for li := len(levels) - 1; li >= 0; li-- {
		lv := levels[li]
		segs, err := segments(in.dir, lv)
		if err != nil {
			return err
		}
		// Rows the coarser level has not consolidated yet: after its last row.
		after := int64(never)
		if li+1 < len(levels) && in.last[li+1] != never {
			after = in.last[li+1] + levels[li+1].Step
		}
		for i, seg := range segs {
			if seg+lv.Span <= after && i != len(segs)-1 {
				continue
			}
			path := segPath(in.dir, lv, seg)
			valid, size, err := readSeg(in.dir, lv, seg, never, math.MaxInt64, func(t int64, h *hist.Hist) {
				in.last[li] = max(in.last[li], t)
				if li+1 < len(levels) && t >= after {
					replay = append(replay, pending{li, t, h})
				}
			})
			if err != nil && i == len(segs)-1 && size > 0 && int64(valid) < size {
				in.s.repaired.Add(1)
				in.s.lim.Log(in.s.log, "torn", "cut a torn row", "file", path, "err", err)
				if err := os.Truncate(path, int64(valid)); err != nil {
					return fmt.Errorf("repair %s: %w", path, err)
				}
			} else if err != nil {
				in.s.lim.Log(in.s.log, "corrupt", "corrupt histogram segment", "file", path, "err", err)
			}
		}
	}
	in.lastSec = in.last[0]
	if in.last[1] != never {
		in.lastSec = max(in.lastSec, in.last[1]+59)
	}
	if in.last[2] != never {
		in.lastSec = max(in.lastSec, in.last[2]+3599)
	}
	in.loaded = true
	// Feed the unconsolidated rows upwards, coarsest first, writing the rows
	// a crash left out.
	var w appender
	defer w.close()
	for _, p := range replay {
		if err := in.consolidate(&w, p.li+1, p.t, p.h); err != nil {
			return err
		}
	}
	return w.close()
}

// addSecond stores second t and feeds it to the open minute.
func (in *inst) addSecond(w *appender, t int64, h *hist.Hist) error {
	if err := w.append(in.dir, 0, t, h, in.prune); err != nil {
		return err
	}
	in.lastSec, in.last[0] = t, t
	return in.consolidate(w, 1, t, h)
}

// consolidate adds a row of level li−1 stamped t to the open row of level
// li, first writing the open row when t is past it.
func (in *inst) consolidate(w *appender, li int, t int64, h *hist.Hist) error {
	if li >= len(levels) {
		return nil
	}
	rt := floorTo(t, levels[li].Step)
	o := in.open[li]
	if o.Total() > 0 && in.openT[li] != rt {
		if in.openT[li] > in.last[li] {
			if err := w.append(in.dir, li, in.openT[li], o, in.prune); err != nil {
				return err
			}
			in.last[li] = in.openT[li]
			if err := in.consolidate(w, li+1, in.openT[li], o); err != nil {
				return err
			}
		}
		o.Reset()
	}
	in.openT[li] = rt
	return o.Merge(h)
}

// prune deletes the level's segments that ended Keep before the newest
// second and compresses the older ones; it runs when a new segment file is
// opened.
func (in *inst) prune(li int, seg int64) {
	if in.opened[li] == seg && seg != 0 {
		return // not a new segment: the same as the last flush's
	}
	in.opened[li] = seg
	in.compressOld(li, seg)
	lv := levels[li]
	newest := max(in.lastSec, in.last[li])
	segfile.RemoveOlder(in.dir, lv.Prefix, ".h", lv.Span, newest-lv.Keep, func(err error) {
		in.s.lim.Log(in.s.log, "prune", "prune histogram segment", "err", err)
	})
}

// TryLock and Unlock let the instance map forget an idle instance only
// when no write holds it.
func (in *inst) TryLock() bool { return in.mu.TryLock() }

// Unlock releases TryLock.
func (in *inst) Unlock() { in.mu.Unlock() }
