package main

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/urlstore"
)

// urlWant is what one instance or the pool should show for one pattern in
// one row (minute, hour or the whole run).
type urlWant struct {
	count, errors, hangs, timeouts uint64
	apps                           []float64
	sumUS, maxUS                   int64
}

// urlExpect sums reqs per who ("pool" or an instance), pattern and row
// [start + i·step, …); timeout hangs count in the row of the whole run
// (row 0 when step covers it), their second being the daemon's choice.
func urlExpect(reqs []urlReq, start, step int64) map[string]map[string]map[int64]*urlWant {
	out := map[string]map[string]map[int64]*urlWant{}
	get := func(who, pat string, row int64) *urlWant {
		if out[who] == nil {
			out[who] = map[string]map[int64]*urlWant{}
		}
		if out[who][pat] == nil {
			out[who][pat] = map[int64]*urlWant{}
		}
		w := out[who][pat][row]
		if w == nil {
			w = &urlWant{}
			out[who][pat][row] = w
		}
		return w
	}
	for _, q := range reqs {
		row := (q.sec - start) / step
		for _, who := range []string{q.inst, "pool"} {
			switch {
			case q.timeout:
				get(who, q.pattern, -1).timeouts++
			case q.hang:
				get(who, q.pattern, row).hangs++
			default:
				w := get(who, q.pattern, row)
				w.count++
				if q.err {
					w.errors++
				}
				w.apps = append(w.apps, q.app)
				w.sumUS += q.appUS
				w.maxUS = max(w.maxUS, q.appUS)
			}
		}
	}
	return out
}

// checkURLRow compares a Table row with what it should be: counts exactly,
// total and max to the µs, every percentile within Scheme's bound of the
// exact nearest-rank value. It returns the hangs beyond want's (timeouts).
func checkURLRow(t *testing.T, what string, got *urlstore.Row, w *urlWant) uint64 {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no row, want %d requests", what, w.count)
		return 0
	}
	if got.Count != w.count || got.Errors != w.errors || got.Hangs < w.hangs {
		t.Errorf("%s: count %d errors %d hangs %d, want %d %d %d", what, got.Count, got.Errors, got.Hangs, w.count, w.errors, w.hangs)
	}
	if math.Abs(got.TotalS-float64(w.sumUS)/1e6) > 1e-6*float64(len(w.apps)+1) || math.Abs(got.MaxS-float64(w.maxUS)/1e6) > 1e-9 {
		t.Errorf("%s: total %.6f max %.6f, want %.6f %.6f", what, got.TotalS, got.MaxS, float64(w.sumUS)/1e6, float64(w.maxUS)/1e6)
	}
	if len(w.apps) > 0 {
		slices.Sort(w.apps)
		for _, q := range []float64{0.5, 0.95, 0.99, 1} {
			want, est := hist.NearestRank(w.apps, q), got.Quantile(q)
			if !urlstore.Scheme.Within(est, want) {
				t.Errorf("%s p%g: %g s, exact %g s", what, q*100, est, want)
			}
		}
	}
	return got.Hangs - w.hangs
}

// TestURLFleet sends a simulated fleet through the real daemon over syslog
// and checks the URL statistics of every minute and hour, per instance and
// for the pool, against the exact values.
func TestURLFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, daemontest.ConfigKeys(dataDir, "", `request_timeout = "5m"`, ""))
	defer d.Stop()
	insts := []string{"app-8080", "app-8081", "app-8082"}
	start := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour).Unix()
	lines, reqs := urlFleet(7, fleetOpts{insts: insts, start: start, minutes: 70, rate: 2,
		restarts: map[string]int64{"app-8081": 35 * 60}, hangLast: 58 * 60})
	for _, inst := range insts {
		sendPython(t, "tcp", d.TCP, "acme "+inst+" ", lines[inst])
	}
	keys := map[string][]store.Key{}
	for _, inst := range insts {
		k := store.Key{Host: "127.0.0.1", Customer: "acme", Instance: inst}
		keys[inst] = []store.Key{k}
		keys["pool"] = append(keys["pool"], k)
	}
	whole := urlExpect(reqs, start, 1<<40)["pool"]
	var wantN, wantH uint64
	for _, rows := range whole {
		for _, w := range rows {
			wantN += w.count
			wantH += w.hangs + w.timeouts
		}
	}
	var lastN, lastH uint64
	var lastErr error
	defer func() {
		if t.Failed() {
			t.Logf("last read: %d requests, %d hangs, %v", lastN, lastH, lastErr)
			_, hb := d.Health()
			t.Logf("aggregator %+v urls %+v", hb.Detail.Inputs["syslog"].Aggregator, hb.Detail.URLs)
			for _, inst := range insts {
				rows, _ := urlstore.Table(dataDir, keys[inst], start, start+2*3600)
				for _, r := range rows {
					w := urlExpect(reqs, start, 1<<40)[inst][r.URL]
					t.Logf("%s %s: hangs %d, want %d + %d timeouts", inst, r.URL, r.Hangs, w[0].hangsOrZero(), w[-1].timeoutsOrZero())
				}
			}
		}
	}()
	testwait.For(t, 60*time.Second, fmt.Sprintf("%d requests and %d hangs in the URL tables", wantN, wantH), func() bool {
		rows, err := urlstore.Table(dataDir, keys["pool"], start, start+2*3600)
		var n, h uint64
		for _, r := range rows {
			n, h = n+r.Count, h+r.Hangs
		}
		lastN, lastH, lastErr = n, h, err
		return err == nil && n == wantN && h == wantH
	})
	var checked, sHangs, tHangs int
	for _, step := range []int64{60, 3600} {
		exp := urlExpect(reqs, start, step)
		for who, pats := range exp {
			extra := map[string]uint64{}
			for row := int64(0); row*step < 70*60; row++ {
				from := start + row*step
				got, err := urlstore.Table(dataDir, keys[who], from, from+step)
				if err != nil {
					t.Fatal(err)
				}
				byURL := map[string]*urlstore.Row{}
				for _, r := range got {
					byURL[r.URL] = r
				}
				for pat, rows := range pats {
					w := rows[row]
					if w == nil {
						w = &urlWant{}
						if byURL[pat] == nil {
							continue
						}
					}
					extra[pat] += checkURLRow(t, fmt.Sprintf("%s %s step %d row %d", who, pat, step, row), byURL[pat], w)
					delete(byURL, pat)
					checked++
					if step == 60 && who == "pool" {
						sHangs += int(w.hangs)
					}
				}
				for pat := range byURL {
					t.Errorf("%s step %d row %d: unexpected pattern %q", who, step, row, pat)
				}
			}
			for pat, rows := range pats {
				if w := rows[-1]; extra[pat] != w.timeoutsOrZero() {
					t.Errorf("%s %s step %d: %d hangs at request_timeout, want %d", who, pat, step, extra[pat], w.timeoutsOrZero())
				}
				if who == "pool" && step == 60 {
					tHangs += int(rows[-1].timeoutsOrZero())
				}
			}
		}
	}
	if sHangs == 0 || tHangs == 0 {
		t.Errorf("the fleet had %d hangs at the restart and %d at request_timeout: both must be tested", sHangs, tHangs)
	}
	// A click on a URL: its count and p95 per minute over the pool.
	sr, err := urlstore.Over(dataDir, keys["pool"], "/item/{n}", start, start+70*60, 60)
	if err != nil {
		t.Fatal(err)
	}
	exp := urlExpect(reqs, start, 60)["pool"]["/item/{n}"]
	for i, r := range sr.R {
		if w := exp[(sr.Start-start)/60+int64(i)]; w != nil && w.count > 0 {
			checkURLRow(t, fmt.Sprintf("over minute %d", i), r, w)
		}
	}
	t.Logf("%d rows checked at minute and hour resolution; %d hangs at the restart, %d at request_timeout", checked, sHangs, tHangs)
}

func (w *urlWant) timeoutsOrZero() uint64 {
	if w == nil {
		return 0
	}
	return w.timeouts
}

func (w *urlWant) hangsOrZero() uint64 {
	if w == nil {
		return 0
	}
	return w.hangs
}
