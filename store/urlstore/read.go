package urlstore

import (
	"errors"
	"fmt"
	"io/fs"

	"graphmetrics/store"
)

// MaxPoints bounds the steps of an Over series (400 days of hours fit).
const MaxPoints = 10_000

// MaxRange is the longest range Table and Over accept.
const MaxRange = 401 * 86400

// ErrRange is returned for an empty or too long range.
var ErrRange = errors.New("urlstore: bad range")

// Table returns every pattern's row over [from, until), merged over the
// instances of keys (unsorted: Top sorts and cuts). An instance is read at
// minute resolution when from is within the last 47 hours of its data
// (minute rows are kept 48 hours), the range then rounded out to whole
// minutes; otherwise at hour resolution, rounded out to whole hours. Whole
// hours inside the range are read from hour rows, the rest from minute
// rows, and the minute still open from the seconds journal, so the newest
// minute is complete too. Missing instances read as empty.
func Table(dataDir string, keys []store.Key, from, until int64) ([]*Row, error) {
	if until <= from || until-from > MaxRange {
		return nil, fmt.Errorf("%w: %d..%d", ErrRange, from, until)
	}
	accs, err := eachKeyPar(keys, newAcc, func(a *acc, k store.Key) error {
		dir := Dir(dataDir, k)
		d, err := loadDict(dir, false)
		if err != nil {
			return err
		}
		a.use(d)
		l, err := listSegs(dir)
		if err != nil {
			return err
		}
		res := resolution(l, from)
		f, u := floorTo(from, res), ceilTo(until, res)
		err = scan(dir, l, f, u, 3600, nil, a.mg, func(_ int64, id uint32, b []byte) error {
			return a.add(a.row(id), b)
		})
		if err != nil {
			return fmt.Errorf("urlstore %s: %w", dir, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows(accs), nil
}

// Over returns one pattern's rows (url as Table names it, Other included)
// per step over [from, until), merged over the instances of keys. The step
// is rounded up to a multiple of 60 s, or of 3600 s when it is an hour or
// more or when from is older than some instance's minute rows, and raised
// until the series has at most MaxPoints steps; from is rounded down and
// until up to the step.
func Over(dataDir string, keys []store.Key, url string, from, until, step int64) (*Series, error) {
	if until <= from || until-from > MaxRange {
		return nil, fmt.Errorf("%w: %d..%d", ErrRange, from, until)
	}
	res := int64(60)
	if step >= 3600 {
		res = 3600
	}
	for _, k := range keys {
		l, err := listSegs(Dir(dataDir, k))
		if err != nil {
			return nil, err
		}
		res = max(res, resolution(l, from))
	}
	step = max(ceilTo(max(step, 1), res), ceilTo((until-from+MaxPoints-1)/MaxPoints, res))
	from, until = floorTo(from, step), ceilTo(until, step)
	n := (until - from) / step
	srs, err := eachKeyPar(keys, func() *overAcc { return &overAcc{R: make([]*Row, n), sumUS: make([]uint64, n)} }, func(o *overAcc, k store.Key) error {
		dir := Dir(dataDir, k)
		d, err := loadDict(dir, false)
		if err != nil {
			return err
		}
		want, ok := uint32(0), url == Other
		if !ok {
			want, ok = d.ids[url]
		}
		if !ok {
			return nil
		}
		l, err := listSegs(dir)
		if err != nil {
			return err
		}
		err = scan(dir, l, from, until, step, &want, nil, func(t int64, _ uint32, b []byte) error {
			st, err := decodeStat(b, o.h)
			if err != nil {
				return err
			}
			o.h = st.h
			i := (t - from) / step
			if o.R[i] == nil {
				o.R[i] = NewRow(url)
			}
			st.addTo(o.R[i])
			o.sumUS[i] += st.sumUS
			return nil
		})
		if err != nil {
			return fmt.Errorf("urlstore %s: %w", dir, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sr := &Series{Start: from, Step: step, R: srs[0].R}
	for _, o := range srs[1:] {
		for i, r := range o.R {
			switch {
			case r == nil:
			case sr.R[i] == nil:
				sr.R[i] = r
			default:
				sr.R[i].Merge(r)
			}
			srs[0].sumUS[i] += o.sumUS[i]
		}
	}
	for i, r := range sr.R {
		if r != nil {
			r.TotalS = float64(srs[0].sumUS[i]) / 1e6
		}
	}
	return sr, nil
}

// closedRun is the day files of hour rows that Table reads as one: those
// of segs[i]'s week (i's included) that overlap [from, until) and start
// before the day before the newest (closed, so the run's cache entry stays
// valid). Other segments are read alone.
func closedRun(segs []int64, i, li int, from, until int64) []int64 {
	const week = 7 * 86400
	lv := levels[li]
	closed := func(seg int64) bool {
		return seg+2*lv.Span <= segs[len(segs)-1] && seg+lv.Span > from && seg < until
	}
	if li != lvHour || !closed(segs[i]) {
		return segs[i : i+1]
	}
	w := floorTo(segs[i], week)
	lo, hi := i, i+1
	for lo > 0 && floorTo(segs[lo-1], week) == w && closed(segs[lo-1]) {
		lo--
	}
	for hi < len(segs) && floorTo(segs[hi], week) == w && closed(segs[hi]) {
		hi++
	}
	return segs[lo:hi]
}

// overAcc is one worker's part of an Over series.
type overAcc struct {
	R     []*Row
	sumUS []uint64 // app µs per step (see acc)
	h     []pair
}

func ceilTo(t, step int64) int64 { return -floorTo(-t, step) }

// resolution is 60 when an instance still holds minute rows for from, else
// 3600.
func resolution(l segLists, from int64) int64 {
	newest := int64(never)
	for _, li := range []int{lvSec, lvMin} {
		if segs := l[li]; len(segs) > 0 {
			newest = max(newest, segs[len(segs)-1])
		}
	}
	if newest == never || from >= newest-47*3600 {
		return 60
	}
	return 3600
}

// scan calls fn for the rows (of pattern *want, or all) that make up
// [from, until), from and until being multiples of the resolution read:
// hour rows for the whole hours inside, minute rows for the other minutes,
// journal seconds for minutes not written yet. Rows of a level coarser
// than gran (a multiple of 60) are not used.
//
// With mg (Table: want nil, gran 3600), a minute or hour segment is read
// merged (readcache.go) and fn is called once per pattern with the
// segment's start; with want (Over), as its pattern's rows (readover.go).
func scan(dir string, l segLists, from, until, gran int64, want *uint32, mg *merger, fn func(t int64, id uint32, st []byte) error) error {
	usedH := map[int64]bool{}
	usedM := map[int64]bool{}
	for li := len(levels) - 1; li >= lvSec; li-- {
		lv := levels[li]
		if gran%lv.Step != 0 {
			continue
		}
		for si, seg := range l[li] {
			if seg+lv.Span <= from || seg >= until || li == lvMin && usedH[seg] {
				continue
			}
			if mg != nil && li != lvSec {
				segs := closedRun(l[li], si, li, from, until)
				if len(segs) > 1 && segs[0] != seg {
					continue // read with the run's first
				}
				m, err := mg.merged(dir, li, segs, from, until)
				if err != nil {
					return err
				}
				for _, t := range m.times {
					if hourly(li) {
						usedH[t] = true
					} else {
						usedM[t] = true
					}
				}
				if err := eachRow(m.rows, func(id uint32, st []byte) error { return fn(seg, id, st) }); err != nil {
					return err
				}
				continue
			}
			if want != nil && li != lvSec {
				m, err := patternRows(dir, li, seg, *want)
				if err != nil {
					return err
				}
				err = m.each(func(t int64, st []byte) error {
					if t < from || t+lv.Step > until {
						return nil
					}
					if hourly(li) {
						usedH[t] = true
					} else {
						usedM[t] = true
					}
					return fn(t, *want, st)
				})
				if err != nil {
					return err
				}
				continue
			}
			keep := func(t int64) bool {
				return t >= from && t+lv.Step <= until &&
					(li != lvSec || !usedM[floorTo(t, 60)] && !usedH[floorTo(t, 3600)])
			}
			_, _, err := readSegIf(dir, lv, seg, keep, func(t int64, rows []byte) error {
				switch {
				case hourly(li):
					usedH[t] = true
				case li == lvMin:
					usedM[t] = true
				}
				return eachRow(rows, func(id uint32, st []byte) error {
					if want != nil && id != *want {
						return nil
					}
					return fn(t, id, st)
				})
			})
			// A torn tail of a file being written is not an error for a
			// reader; a file pruned meanwhile reads as empty.
			if err != nil && !errors.Is(err, errCorrupt) && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
