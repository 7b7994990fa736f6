package graphite

import (
	"regexp"
	"strings"
	"sync"
	"time"

	"graphmetrics/store"
)

// Schema gives new files whose name matches Pattern their step and
// archives, like a carbon storage-schemas.conf section. The first match
// wins; a name that matches none gets the default (60 s for 14 days, 1 h
// for 2 years: store's metric defaults).
type Schema struct {
	Pattern *regexp.Regexp
	Step    time.Duration
	RRAs    []store.Archive
}

// Path is where a Graphite name is stored: rrd/metrics/graphite/a/b/c.rrd
// for "a.b.c".
func Path(name string) []string {
	return append([]string{"graphite"}, strings.Split(name, ".")...)
}

// holdRow is how long after a row's end its last value is kept open for
// later points of the same row (carbon lets the last one win; RRD cannot
// rewrite a row once written).
const holdRow = 2 * time.Second

// maxOlder bounds the points kept per series for rows behind its newest.
const maxOlder = 256

type series struct {
	path  []string
	step  int64
	rras  []store.Archive
	row   int64 // newest row with a value (update time)
	v     float64
	has   bool
	older []store.Point // rows behind row, in arrival order
}

// table holds every series' newest row until it is final, then hands it to
// the sink; it bounds the series it knows to max.
type table struct {
	mu      sync.Mutex
	m       map[string]*series
	max     int
	schemas []Schema
	dropped uint64 // older points beyond maxOlder
}

func newTable(max int, schemas []Schema) *table {
	return &table{m: make(map[string]*series), max: max, schemas: schemas}
}

// add records one point; name has passed CheckName. It returns false for a
// new series beyond max. The caller holds mu.
func (t *table) add(name []byte, v float64, ts int64) bool {
	s := t.m[string(name)]
	if s == nil {
		if len(t.m) >= t.max {
			return false
		}
		s = t.newSeries(string(name))
	}
	row := rowOf(ts, s.step)
	switch {
	case !s.has || row == s.row:
		s.row, s.v, s.has = row, v, true
	case row > s.row:
		s.older = t.keep(s.older, store.Point{Time: s.row, Value: s.v})
		s.row, s.v = row, v
	default:
		s.older = t.keep(s.older, store.Point{Time: row, Value: v})
	}
	return true
}

func (t *table) keep(older []store.Point, p store.Point) []store.Point {
	if len(older) >= maxOlder {
		t.dropped++
		older = append(older[:0], older[1:]...)
	}
	return append(older, p)
}

func (t *table) newSeries(name string) *series {
	s := &series{path: Path(name), step: 60}
	if sc, ok := Match(t.schemas, name); ok {
		s.step, s.rras = int64(sc.Step/time.Second), sc.RRAs
	}
	t.m[name] = s
	return s
}

// Match is the first schema whose pattern matches name.
func Match(schemas []Schema, name string) (Schema, bool) {
	for _, sc := range schemas {
		if sc.Pattern.MatchString(name) {
			return sc, true
		}
	}
	return Schema{}, false
}

// rowOf is the update time of the row (R−step, R] holding ts (store's
// convention: a point stamped T is the update at T).
func rowOf(ts, step int64) int64 {
	if ts <= 0 {
		return 0
	}
	return ((ts-1)/step + 1) * step
}

// write is one series' final points.
type write struct {
	path []string
	step time.Duration
	rras []store.Archive
	pts  []store.Point
}

// final takes the points that are final at now (all of them with force).
func (t *table) final(now int64, force bool) []write {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []write
	for _, s := range t.m {
		pts := s.older
		if s.has && (force || now >= s.row+int64(holdRow/time.Second)) {
			pts = append(pts, store.Point{Time: s.row, Value: s.v})
			s.has = false
		}
		if len(pts) == 0 {
			continue
		}
		s.older = nil
		out = append(out, write{s.path, time.Duration(s.step) * time.Second, s.rras, pts})
	}
	return out
}
