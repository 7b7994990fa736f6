package urlstore

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"

	"graphmetrics/store"
)

// The readers decode each instance's rows straight into dense per-pattern
// rows (no row or histogram allocated per decoded row) and read the
// instances of a pool in parallel, at most GOMAXPROCS at once.

// acc sums decoded stats into rows by pattern name. byID resolves the
// pattern ids of the instance being read to their row once. App times are
// summed in µs and converted once (TotalS), so the result does not depend
// on the order the instances were read in.
type acc struct {
	byURL map[string]*accRow
	byID  []*accRow
	d     *dict
	h     []pair // scratch histogram
	mg    *merger
}

type accRow struct {
	*Row
	sumUS uint64
}

func newAcc() *acc { return &acc{byURL: map[string]*accRow{}, mg: newMerger()} }

// use makes d the dictionary of the ids added next.
func (a *acc) use(d *dict) {
	a.d = d
	a.byID = append(a.byID[:0], make([]*accRow, len(d.names)+1)...)
}

// row is the row of pattern id of the current instance (an id not in its
// dictionary is Other, as dict.name says).
func (a *acc) row(id uint32) *accRow {
	if int(id) >= len(a.byID) {
		id = 0
	}
	if r := a.byID[id]; r != nil {
		return r
	}
	name := a.d.name(id)
	r := a.byURL[name]
	if r == nil {
		r = &accRow{Row: NewRow(name)}
		a.byURL[name] = r
	}
	a.byID[id] = r
	return r
}

// add decodes an encoded stat into r; a corrupt stat adds nothing.
func (a *acc) add(r *accRow, b []byte) error {
	st, err := decodeStat(b, a.h)
	if err != nil {
		return err
	}
	a.h = st.h
	st.addTo(r.Row)
	r.sumUS += st.sumUS
	return nil
}

// rows merges the workers' accumulators.
func rows(accs []*acc) []*Row {
	byURL := accs[0].byURL
	for _, o := range accs[1:] {
		for name, r := range o.byURL {
			if have := byURL[name]; have != nil {
				have.Merge(r.Row)
				have.sumUS += r.sumUS
			} else {
				byURL[name] = r
			}
		}
	}
	out := make([]*Row, 0, len(byURL))
	for _, r := range byURL {
		r.TotalS = float64(r.sumUS) / 1e6
		out = append(out, r.Row)
	}
	return out
}

// uvarint is binary.Uvarint of b[off:] with a fast path for one byte (most
// counts and bucket gaps).
func uvarint(b []byte, off int) (uint64, int) {
	if off < len(b) && b[off] < 0x80 {
		return uint64(b[off]), 1
	}
	return binary.Uvarint(b[off:])
}

// eachKeyPar calls fn for every key with an accumulator of its worker,
// reading at most GOMAXPROCS keys at once, and returns the workers'
// accumulators and the error of the first key (in keys' order) that
// failed.
func eachKeyPar[A any](keys []store.Key, newA func() A, fn func(a A, k store.Key) error) ([]A, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0), len(keys)))
	accs := make([]A, workers)
	errs := make([]error, len(keys))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range accs {
		accs[w] = newA()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(keys) {
					return
				}
				errs[i] = fn(accs[w], keys[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return accs, nil
}
