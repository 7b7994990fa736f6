package overview

import (
	"context"
	"fmt"
	"graphmetrics/web/internal/rrdretry"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/ziutek/rrd"
)

// settle is how old a second must be to be drawn in a sparkline.
const settle = 5

// sparkPoints is about how many points a sparkline has.
const sparkPoints = 120

// series is what one tracelog file says over the range.
type series struct {
	start, step  int64     // row i covers (start+i·step, start+(i+1)·step]
	rpm, waiting []float64 // per row, NaN unknown
	// The newest minute with data: per-second means of its 1-minute row.
	requests, errors, appSum, appN float64
	hung                           float64 // NaN: no such data source yet
	lastData                       int64   // end of the newest row with data; 0 none
	err                            error
}

// fetchAll reads files in parallel (librrd's fetch is thread-safe), at
// most one per core, as one batch.
func fetchAll(ctx context.Context, files []string, from, until int64) []series {
	out := make([]series, len(files))
	step := sparkStep(until - from)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = fetchOne(files[i], from, until, step)
			}
		}()
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// sparkStep is the row length asked of librrd: the 1-second archive for
// ranges of up to 10 minutes, the 1-minute one up to two hours, whole
// minutes (about sparkPoints rows) beyond. librrd answers at the step of
// the archive it picks.
func sparkStep(span int64) int64 {
	if span <= 600 {
		return 1
	}
	return max(60, (span/sparkPoints+59)/60*60)
}

func fetchOne(file string, from, until, step int64) series {
	s := series{hung: math.NaN()}
	res, err := rrdretry.Fetch(file, "AVERAGE", time.Unix(from, 0), time.Unix(until, 0), time.Duration(step)*time.Second)
	if err != nil {
		s.err = fmt.Errorf("fetch %s: %w", file, err)
		return s
	}
	defer res.FreeValues()
	s.start, s.step = res.Start.Unix(), int64(res.Step/time.Second)
	cols := columns(res.DsNames)
	if cols["requests"] < 0 || cols["waiting"] < 0 {
		s.err = fmt.Errorf("fetch %s: not a tracelog file", file)
		return s
	}
	// Rows that end after until are outside the range; the newest
	// seconds may still be arriving (lateness): left out of the sparkline
	// rather than drawn as a drop.
	end := until
	if s.step < 60 {
		end -= settle
	}
	n := min(rows(&res), max(int((end-s.start)/s.step), 0))
	s.rpm, s.waiting = make([]float64, n), make([]float64, n)
	for i := range n {
		s.rpm[i] = res.ValueAt(cols["requests"], i) * 60
		s.waiting[i] = res.ValueAt(cols["waiting"], i)
	}
	if s.step == 60 {
		s.lastMinute(&res, cols)
		return s
	}
	// A coarser archive: the last minute comes from the 1-minute one.
	last, err := rrdretry.Fetch(file, "AVERAGE", time.Unix(until-300, 0), time.Unix(until, 0), time.Minute)
	if err != nil {
		s.err = fmt.Errorf("fetch %s: %w", file, err)
		return s
	}
	defer last.FreeValues()
	s.lastMinute(&last, columns(last.DsNames))
	return s
}

// lastMinute takes the newest row with data.
func (s *series) lastMinute(res *rrd.FetchResult, cols map[string]int) {
	step := int64(res.Step / time.Second)
	for i := rows(res) - 1; i >= 0; i-- {
		req := res.ValueAt(cols["requests"], i)
		if math.IsNaN(req) {
			continue
		}
		s.requests, s.lastData = req, res.Start.Unix()+int64(i+1)*step
		get := func(ds string) float64 {
			if c := cols[ds]; c >= 0 {
				return res.ValueAt(c, i)
			}
			return math.NaN()
		}
		s.errors, s.appSum, s.appN, s.hung = get("errors"), get("app_sum"), get("app_n"), get("hung")
		return
	}
}

func columns(names []string) map[string]int {
	m := map[string]int{"requests": -1, "errors": -1, "app_sum": -1, "app_n": -1, "waiting": -1, "hung": -1}
	for i, n := range names {
		if _, ok := m[n]; ok {
			m[n] = i
		}
	}
	return m
}

// rows is how many rows librrd returned: row i ends at start+(i+1)·step.
// (ziutek/rrd's RowCnt counts one more, past the end of the values.)
func rows(res *rrd.FetchResult) int {
	return max(res.RowCnt-1, 0)
}
