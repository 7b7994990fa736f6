package urlstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Benchmarks of tables over hour rows in closed files, whatever the span
// of the hour files (they use nothing of the layout but levels[lvHour]):
// a 24-hour table at the end of a full week, and a table of a year.

// spanPool is a pool of 50 instances made once per process.
type spanPool struct {
	once sync.Once
	dir  string
	err  error
}

var weekPool, yearPool spanPool

// weekStart is the start of a week before budgetStart.
const weekStart = budgetStart - budgetStart%(7*86400)

// make builds the pool: fill writes instance i0's directory, which is then
// closed (every hour file rewritten pattern-major) and linked into the 49
// others.
func (p *spanPool) make(b *testing.B, name string, fill func(dir string) error) string {
	p.once.Do(func() {
		if p.dir, p.err = os.MkdirTemp("", name); p.err != nil {
			return
		}
		src := Dir(p.dir, poolKeys()[0])
		if p.err = os.MkdirAll(src, 0o755); p.err != nil {
			return
		}
		if p.err = fill(src); p.err != nil {
			return
		}
		closeOlder(src, lvHour, math.MaxInt64, func(path string, err error) { p.err = err })
		ents, _ := os.ReadDir(src)
		for _, k := range poolKeys()[1:] {
			dst := Dir(p.dir, k)
			if err := os.MkdirAll(dst, 0o755); err != nil && p.err == nil {
				p.err = err
			}
			for _, e := range ents {
				if err := os.Link(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil && p.err == nil {
					p.err = err
				}
			}
		}
	})
	if p.err != nil {
		b.Fatal(p.err)
	}
	return p.dir
}

// BenchmarkTable24hPool50ColdClosedWeek: a table of the last 24 hours of
// a full week (169 hours written from the week's start) over a pool of 50
// whose hour files are all closed, the cache emptied before every op (a
// first load of a past day); ClosedWeek loaded again. Both report the
// closed hour files' bytes per hour row.
func BenchmarkTable24hPool50ColdClosedWeek(b *testing.B) { benchClosedWeek(b, true) }
func BenchmarkTable24hPool50ClosedWeek(b *testing.B)     { benchClosedWeek(b, false) }

func benchClosedWeek(b *testing.B, cold bool) {
	dir := weekPool.make(b, "urlstore-week", func(string) error {
		s := New(Options{DataDir: weekPool.dir})
		writeHours(b, s, poolKeys()[0], newFleetGen(1), weekStart, 169)
		return nil
	})
	benchTableIn(b, dir, weekStart+169*3600-86400, weekStart+169*3600, cold, 50*86400*budgetRate)
	// The closed files' bytes per hour row (of a week in one file or in 7).
	lv := levels[lvHour]
	files, _ := filepath.Glob(filepath.Join(Dir(dir, poolKeys()[0]), lv.Prefix+"-*.uc"))
	var size int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	b.ReportMetric(float64(size)/168, "B/hour-row-closed")
}

// yearPatterns is the patterns of the year's hour rows (the first ids of
// an hour of the budget's instance): a year of the full 200 would take a
// minute a table.
const yearPatterns = 5

// BenchmarkTableYearPool50Cold: a table of 365 days over a pool of 50,
// every hour of the year with the same rows of yearPatterns patterns (an
// hour of the budget's instance), the hour files closed, the cache
// emptied before every op.
func BenchmarkTableYearPool50Cold(b *testing.B) {
	var perHour uint64
	yearEnd := int64(weekStart)
	dir := yearPool.make(b, "urlstore-year", func(d string) error {
		src := Dir(poolData(b), poolKeys()[0])
		dict, err := os.ReadFile(filepath.Join(src, dictFile))
		if err == nil {
			err = os.WriteFile(filepath.Join(d, dictFile), dict, 0o644)
		}
		if err != nil {
			return err
		}
		var rows []byte // the first hour's rows of the first patterns
		lv := levels[lvHour]
		segs, err := segments(src, lv)
		if err != nil || len(segs) == 0 {
			return fmt.Errorf("hour segments %v: %v", segs, err)
		}
		_, _, err = readSeg(src, lv, segs[0], func(_ int64, g []byte) error {
			if rows != nil {
				return nil
			}
			rows = []byte{}
			return eachRow(g, func(id uint32, st []byte) error {
				if id <= yearPatterns {
					rows = binary.AppendUvarint(rows, uint64(id))
					rows = binary.AppendUvarint(rows, uint64(len(st)))
					rows = append(rows, st...)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		files := map[int64][]byte{}
		for t := yearEnd - 365*86400; t < yearEnd; t += 3600 {
			seg := floorTo(t, lv.Span)
			g := binary.AppendUvarint(files[seg], uint64((t-seg)/3600))
			g = binary.AppendUvarint(g, uint64(len(rows)))
			files[seg] = append(g, rows...)
		}
		for seg, data := range files {
			if err := os.WriteFile(segPath(d, lv, seg), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	rows, err := Table(dir, poolKeys()[:1], yearEnd-3600, yearEnd)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rows {
		perHour += r.Count
	}
	benchTableIn(b, dir, yearEnd-365*86400, yearEnd, true, 50*365*24*perHour)
}
