package histstore

import (
	"errors"
	"fmt"
	"math"

	"graphmetrics/store"
	"graphmetrics/store/hist"
)

// Series is a histogram per step: H[i] covers [Start+i·Step, Start+(i+1)·Step),
// nil when no request finished in it.
type Series struct {
	Start, Step int64
	H           []*hist.Hist
}

// MaxPoints bounds the steps of one Read.
const MaxPoints = 100_000

// ErrRange is returned for an empty or too long range.
var ErrRange = errors.New("histstore: bad range")

// Read returns the instance's histograms over [from, until) at step seconds
// (rounded up to the resolution that still holds from: 1 s, 1 min or 1 h
// rows, and to a multiple of it). Rows not yet consolidated (the minute and
// hour still open) are summed from the finer rows, so the newest steps are
// complete too. A missing instance reads as empty.
func Read(dataDir string, k store.Key, from, until, step int64) (*Series, error) {
	return ReadDir(Dir(dataDir, k), from, until, step)
}

// ReadDir is Read of one instance directory.
func ReadDir(dir string, from, until, step int64) (*Series, error) {
	step = max(step, 1)
	base := 0
	for base < len(levels)-1 && (step >= levels[base+1].Step || !holds(dir, levels[base], from)) {
		base++
	}
	res := levels[base].Step
	step = (step + res - 1) / res * res
	from = floorTo(from, step)
	if until <= from || (until-from)/step > MaxPoints {
		return nil, fmt.Errorf("%w: %d..%d at %d s", ErrRange, from, until, step)
	}
	sr := &Series{Start: from, Step: step, H: make([]*hist.Hist, (until-from+step-1)/step)}
	add := func(t int64, h *hist.Hist) {
		i := (t - from) / step
		if sr.H[i] == nil {
			sr.H[i] = h
			return
		}
		sr.H[i].Merge(h)
	}
	cutoff := int64(never)
	for li := base; li >= 0; li-- {
		lv := levels[li]
		segs, err := segments(dir, lv)
		if err != nil {
			return nil, err
		}
		last := int64(never)
		lo := max(from, cutoff)
		for i, seg := range segs {
			newest := i == len(segs)-1
			if !newest && (seg+lv.Span <= lo || seg >= until) {
				continue
			}
			_, _, err := readSeg(dir, lv, seg, never, math.MaxInt64, func(t int64, h *hist.Hist) {
				last = max(last, t)
				if t >= lo && t < until {
					add(t, h)
				}
			})
			if err != nil && !newest {
				return nil, err
			}
		}
		if last != never {
			cutoff = max(cutoff, last+lv.Step)
		}
	}
	return sr, nil
}

// holds says whether a level still keeps rows as old as from: its rows are
// kept Keep seconds behind its newest, which is in its newest segment.
func holds(dir string, lv level, from int64) bool {
	segs, err := segments(dir, lv)
	return err == nil && (len(segs) == 0 || from >= segs[len(segs)-1]-lv.Keep)
}
