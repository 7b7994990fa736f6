package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/histstore"
)

// fleetReq is one generated request: it finished at End (µs) after App s
// in the application.
type fleetReq struct {
	inst string
	end  int64 // µs
	app  float64
}

// latencyFleet generates 70 minutes of three instances of one pool, two
// requests a second each, whose app times come from known distributions:
// app-8080 lognormal, app-8081 bimodal (fast pages and slow reports),
// app-8082 lognormal until minute 40, then a sudden slow tail (15% of its
// requests take 5–20 s).
func latencyFleet(start int64) (lines map[string][]string, reqs []fleetReq) {
	r := rand.New(rand.NewPCG(13, 13))
	lines = map[string][]string{}
	dist := map[string]func(sec int64) float64{
		"app-8080": func(int64) float64 { return math.Exp(r.NormFloat64()*0.8 - 2.5) },
		"app-8081": func(int64) float64 {
			if r.IntN(10) < 7 {
				return 0.004 + r.Float64()*0.02
			}
			return 1.5 + r.Float64()*2
		},
		"app-8082": func(sec int64) float64 {
			if sec >= 40*60 && r.IntN(100) < 15 {
				return 5 + r.Float64()*15
			}
			return math.Exp(r.NormFloat64()*0.5 - 3)
		},
	}
	type ev struct {
		t    int64
		line string
	}
	ts := func(us int64) string {
		return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.000000")
	}
	for _, inst := range []string{"app-8080", "app-8081", "app-8082"} {
		var evs []ev
		rid := 0
		for sec := int64(0); sec < 70*60; sec++ {
			for k := range 2 {
				rid++
				app := dist[inst](sec)
				end := (start+sec)*1_000_000 + int64(k)*400_000 + int64(r.IntN(300_000))
				c := end - int64(math.Round(app*1e6))
				id := fmt.Sprintf("%x", rid)
				evs = append(evs, ev{c, fmt.Sprintf("C %s %s", id, ts(c))}, ev{end, fmt.Sprintf("A %s %s 200 512", id, ts(end))})
				reqs = append(reqs, fleetReq{inst, end, float64(end-c) / 1e6})
			}
		}
		slices.SortStableFunc(evs, func(a, b ev) int { return int(a.t - b.t) })
		for _, e := range evs {
			lines[inst] = append(lines[inst], e.line)
		}
	}
	return lines, reqs
}

// TestLatencyFleet sends the fleet through the real daemon over syslog and
// checks every percentile of every minute and hour, per instance and for
// the pool, against the exact nearest-rank values.
func TestLatencyFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, ""))
	defer d.Stop()
	start := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour).Unix()
	lines, reqs := latencyFleet(start)
	for inst, ls := range lines {
		sendPython(t, "tcp", d.TCP, "acme "+inst+" ", ls)
	}
	dir := func(inst string) string {
		return histstore.Dir(dataDir, store.Key{Host: "127.0.0.1", Customer: "acme", Instance: inst})
	}
	last := map[string]int64{}
	for _, q := range reqs {
		last[q.inst] = max(last[q.inst], q.end/1_000_000)
	}
	for inst, sec := range last {
		testwait.For(t, 30*time.Second, "the last second of "+inst, func() bool {
			sr, err := histstore.ReadDir(dir(inst), sec, sec+1, 1)
			return err == nil && sr.H[0] != nil
		})
	}
	insts := []string{"app-8080", "app-8081", "app-8082"}
	for _, step := range []int64{60, 3600} {
		// exact[who][row] are the app times of the requests that finished
		// in the row; who is an instance or "pool".
		exact := map[string]map[int64][]float64{"pool": {}}
		for _, q := range reqs {
			row := (q.end/1_000_000 - start) / step
			if exact[q.inst] == nil {
				exact[q.inst] = map[int64][]float64{}
			}
			exact[q.inst][row] = append(exact[q.inst][row], q.app)
			exact["pool"][row] = append(exact["pool"][row], q.app)
		}
		got := map[string]*histstore.Series{}
		pool := (*histstore.Series)(nil)
		for _, inst := range insts {
			sr, err := histstore.ReadDir(dir(inst), start, start+70*60, step)
			if err != nil {
				t.Fatal(err)
			}
			if sr.Step != step || sr.Start != start {
				t.Fatalf("read at step %d: step %d start %d", step, sr.Step, sr.Start)
			}
			got[inst] = sr
			if pool == nil {
				pool = &histstore.Series{Start: sr.Start, Step: sr.Step, H: make([]*hist.Hist, len(sr.H))}
			}
			for i, h := range sr.H {
				if h == nil {
					continue
				}
				if pool.H[i] == nil {
					pool.H[i] = hist.New(hist.Default)
				}
				pool.H[i].Merge(h)
			}
		}
		got["pool"] = pool
		checked := 0
		for who, rows := range exact {
			for row, vals := range rows {
				if len(vals) < 100 {
					continue
				}
				h := got[who].H[row]
				if h == nil || h.Total() != uint64(len(vals)) {
					t.Fatalf("%s step %d row %d: histogram of %v values, want %d", who, step, row, h, len(vals))
				}
				slices.Sort(vals)
				for _, q := range []float64{0.5, 0.95, 0.99} {
					want, est := hist.NearestRank(vals, q), h.Quantile(q)
					if !hist.Default.Within(est, want) {
						t.Errorf("%s step %d row %d p%g: %g s, exact %g s", who, step, row, q*100, est, want)
					}
					checked++
				}
			}
		}
		t.Logf("step %d: %d percentiles within %.2f%% of the exact values", step, checked, 100*hist.Default.RelErr())
	}
	// The slow tail shows: app-8082's p99 jumps from under a second to
	// seconds at minute 40.
	sr := got8082(t, dir("app-8082"), start)
	if before, after := sr.H[39].Quantile(0.99), sr.H[41].Quantile(0.99); before > 1 || after < 5 {
		t.Errorf("slow tail not seen: p99 %g s before, %g s after", before, after)
	}
}

func got8082(t *testing.T, dir string, start int64) *histstore.Series {
	sr, err := histstore.ReadDir(dir, start, start+70*60, 60)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}
