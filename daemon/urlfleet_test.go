package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// A simulated fleet for the URL statistics (issue 12): each instance is a
// FIFO queue served by six threads; requests of six URL families arrive at random and
// take app times from known distributions per family. The RID is the
// connection's: the lowest one free at the arrival (so RIDs are reused all
// the time, but never while in use). A few hang (C, never
// an A) and are either wiped by a restart (S) or dropped at
// request_timeout; 5% fail (500 or "Error:").

// urlFamily makes a URL and an app time; pattern is what graphmetrics
// should make of the URL.
type urlFamily struct {
	pattern string
	weight  int
	url     func(r *rand.Rand) string
	app     func(r *rand.Rand) float64
}

var urlFamilies = []urlFamily{
	{"/", 30, func(*rand.Rand) string { return "/" },
		func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()*0.5 - 3) }},
	{"/item/{n}", 25, func(r *rand.Rand) string { return fmt.Sprintf("/item/%d?page=%d", r.IntN(100000), r.IntN(9)) },
		func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()*0.8 - 2.5) }},
	{"/search", 15, func(r *rand.Rand) string { return fmt.Sprintf("/search?q=w%d", r.IntN(1000)) },
		func(r *rand.Rand) float64 { return 0.1 + r.ExpFloat64()*0.3 }},
	{"/report/{id}/pdf", 5, func(r *rand.Rand) string { return fmt.Sprintf("/report/a%x1/pdf", r.Uint64()) },
		func(r *rand.Rand) float64 { return 1.5 + r.Float64()*3 }},
	{"/static/site.css", 20, func(*rand.Rand) string { return "/static/site.css" },
		func(r *rand.Rand) float64 { return 0.002 + r.Float64()*0.001 }},
	{"/api/v1/{id}", 5, func(r *rand.Rand) string {
		return fmt.Sprintf("/api/v1/%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Uint64()>>16)
	}, func(r *rand.Rand) float64 { return r.ExpFloat64() * 0.05 }},
}

// urlReq is one generated request as graphmetrics should count it.
type urlReq struct {
	inst    string
	pattern string
	sec     int64   // second of its A, or of the S that wiped it (hang)
	app     float64 // seconds; -1 without (hung)
	appUS   int64
	err     bool
	hang    bool
	timeout bool // a hang dropped at request_timeout (second not known exactly)
}

type fleetOpts struct {
	insts    []string
	start    int64 // Unix s
	minutes  int64
	rate     float64          // requests/s per instance
	restarts map[string]int64 // instance → second (from start) of a restart
	hangLast int64            // no hangs after this second (from start): they could not time out
}

// urlFleet generates the fleet's trace log lines per instance (in time
// order) and the requests as they should be counted.
func urlFleet(seed uint64, o fleetOpts) (map[string][]string, []urlReq) {
	r := rand.New(rand.NewPCG(seed, seed))
	total := 0
	for _, f := range urlFamilies {
		total += f.weight
	}
	pick := func() urlFamily {
		n := r.IntN(total)
		for _, f := range urlFamilies {
			if n < f.weight {
				return f
			}
			n -= f.weight
		}
		panic("unreachable")
	}
	ts := func(us int64) string { return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.000000") }
	type ev struct {
		t    int64
		line string
	}
	lines := map[string][]string{}
	var reqs []urlReq
	for ii, inst := range o.insts {
		var evs []ev
		add := func(t int64, f string, a ...any) { evs = append(evs, ev{t, fmt.Sprintf(f, a...)}) }
		const threads = 6
		free := make([]int64, threads) // µs each thread is free from
		var conns []int64              // µs each connection (RID) is free from
		end := (o.start + o.minutes*60) * 1e6
		restart := int64(math.MaxInt64)
		if s, ok := o.restarts[inst]; ok {
			restart = (o.start + s) * 1e6
		}
		// The log starts mid-request: an A whose B was never seen.
		add(o.start*1e6+1000, "C 0.-99 %s", ts(o.start*1e6+1000))
		add(o.start*1e6+3000, "A 0.-99 %s 200 10", ts(o.start*1e6+3000))
		reqs = append(reqs, urlReq{inst: inst, pattern: "?", sec: o.start, app: 0.002, appUS: 2000})
		var pend []urlReq // in flight when the restart comes
		hangs := 0
		if restart != math.MaxInt64 {
			// Two requests the restart surely wipes: one running, one
			// still reading its input, on RIDs of their own.
			add(restart-3e6, "B 0.-777 %s GET /report/b00c5e1f/pdf", ts(restart-3e6))
			add(restart-3e6+500, "I 0.-777 %s 0", ts(restart-3e6+500))
			add(restart-3e6+900, "C 0.-777 %s", ts(restart-3e6+900))
			add(restart-1e6, "B 0.-778 %s GET /search?q=upload", ts(restart-1e6))
			pend = append(pend, urlReq{inst: inst, pattern: "/report/{id}/pdf", sec: restart / 1e6, app: -1, hang: true},
				urlReq{inst: inst, pattern: "/search", sec: restart / 1e6, app: -1, hang: true})
		}
		for a := o.start*1e6 + 10_000 + int64(ii)*777; a < end; a += int64(r.ExpFloat64() / o.rate * 1e6) {
			f := pick()
			url, app := f.url(r), f.app(r)
			if a >= restart && pend != nil {
				// After the restart every thread and connection is free.
				for i := range free {
					free[i] = restart + 1e6
				}
				conns = conns[:0]
				reqs, pend = append(reqs, pend...), nil
				add(restart, "S 0 %s", ts(restart))
			}
			k := 0
			for i := range free {
				if free[i] < free[k] {
					k = i
				}
			}
			if free[k] == math.MaxInt64 {
				continue // every thread hung: the instance answers nothing
			}
			c := max(a+1000, free[k])
			appUS := int64(math.Round(app * 1e6))
			fin := c + appUS
			conn := 0
			for conn < len(conns) && conns[conn] > a {
				conn++
			}
			if conn == len(conns) {
				conns = append(conns, 0)
			}
			rid := fmt.Sprintf("0.-%d", 14514000+conn)
			// Hung requests time out (request_timeout): none before a
			// restart, which would wipe them or not depending on when the
			// daemon's tick drops them.
			// At most three, so that threads are left to serve.
			hang := f.pattern == "/report/{id}/pdf" && r.IntN(20) == 0 && a < (o.start+o.hangLast)*1e6 &&
				(restart == math.MaxInt64 || a > restart) && hangs < 3
			if restart != math.MaxInt64 && a < restart && fin+1000 > restart {
				// In flight at the restart: the S wipes it.
				if c >= restart || a+500 >= restart {
					continue
				}
				add(a, "B %s %s GET %s", rid, ts(a), url)
				add(a+500, "I %s %s 0", rid, ts(a+500))
				if c < restart {
					add(c, "C %s %s", rid, ts(c))
				}
				free[k], conns[conn] = math.MaxInt64, math.MaxInt64
				pend = append(pend, urlReq{inst: inst, pattern: f.pattern, sec: restart / 1e6, app: -1, hang: true})
				continue
			}
			if fin+1000 >= end {
				continue
			}
			add(a, "B %s %s GET %s", rid, ts(a), url)
			add(a+500, "I %s %s 0", rid, ts(a+500))
			add(c, "C %s %s", rid, ts(c))
			if hang {
				hangs++
				free[k], conns[conn] = math.MaxInt64, math.MaxInt64
				reqs = append(reqs, urlReq{inst: inst, pattern: f.pattern, app: -1, hang: true, timeout: true})
				continue
			}
			q := urlReq{inst: inst, pattern: f.pattern, sec: fin / 1e6, app: float64(appUS) / 1e6, appUS: appUS}
			data := "200 512"
			switch r.IntN(40) {
			case 0, 1:
				data, q.err = "500 0", true
			case 2:
				data, q.err = "Error: ZODB.POSException.ConflictError", true
			}
			add(fin, "A %s %s %s", rid, ts(fin), data)
			add(fin+1000, "E %s %s", rid, ts(fin+1000))
			free[k], conns[conn] = fin+1000, fin+1000
			reqs = append(reqs, q)
		}
		if pend != nil {
			reqs = append(reqs, pend...)
			add(restart, "S 0 %s", ts(restart))
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
		for _, e := range evs {
			lines[inst] = append(lines[inst], e.line)
		}
	}
	return lines, reqs
}
