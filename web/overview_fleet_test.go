package web

import (
	"fmt"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
)

// fleet sends tracelog records of live instances through Python's
// SysLogHandler over TCP, stamped with the current time: every instance
// finishes rate requests a second; a backlog instance also starts one
// request a second that never gets a thread; a silent one stops.
type fleet struct {
	t    testing.TB
	addr string
	rate int
	inst []*fleetInst
	rid  int
}

type fleetInst struct {
	prefix  string    // "customer instance "
	backlog time.Time // from then on, a request a second waits forever
	stop    time.Time // no records from then on (zero: never)
}

// send writes every instance's records for the seconds [from, until).
func (f *fleet) send(from, until time.Time) error {
	var lines []string
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000") }
	for s := from.Truncate(time.Second); s.Before(until); s = s.Add(time.Second) {
		for _, in := range f.inst {
			if !in.stop.IsZero() && !s.Before(in.stop) {
				continue
			}
			for k := range f.rate {
				f.rid++
				t := s.Add(time.Duration(k) * time.Second / time.Duration(f.rate))
				rid := fmt.Sprintf("r%d", f.rid)
				lines = append(lines,
					in.prefix+"B "+rid+" "+stamp(t)+" GET /x",
					in.prefix+"I "+rid+" "+stamp(t.Add(time.Millisecond))+" 0",
					in.prefix+"C "+rid+" "+stamp(t.Add(2*time.Millisecond)),
					in.prefix+"A "+rid+" "+stamp(t.Add(20*time.Millisecond))+" 200 10",
					in.prefix+"E "+rid+" "+stamp(t.Add(21*time.Millisecond)))
			}
			if !in.backlog.IsZero() && !s.Before(in.backlog) {
				f.rid++
				rid := fmt.Sprintf("w%d", f.rid)
				lines = append(lines, in.prefix+"B "+rid+" "+stamp(s.Add(500*time.Millisecond))+" GET /slow",
					in.prefix+"I "+rid+" "+stamp(s.Add(501*time.Millisecond))+" 0")
			}
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return daemontest.SendPythonErr("tcp", f.addr, "", lines)
}

// live sends each second as it ends until stop is closed.
func (f *fleet) live(last time.Time, stop <-chan struct{}) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if next := time.Now().Truncate(time.Second); next.After(last) {
			if err := f.send(last, next); err != nil {
				f.t.Errorf("fleet: %v", err)
				return
			}
			last = next
		}
	}
}

// overviewFleet starts the daemon with thresholds short enough for a test
// and sends 150 s of history (10 requests a second each) ending now, then
// keeps the live instances going (until the test ends); it returns once
// the silent one is silent: pool
// shop/app-instances (app-8080 healthy, app-8081 with a growing backlog,
// app-8082 silent), shop/worker-workers and aaa/web-instances healthy.
func overviewFleet(t *testing.T) *daemontest.Daemon {
	t.Helper()
	dataDir := t.TempDir()
	d := daemontest.New(t, dataDir, daemontest.Config(dataDir, "[web.overview]\nbacklog_for = \"5s\"\nsilent_after = \"5s\"\n"))
	d.AddUser("alice", alicePW)
	d.Start()
	now := time.Now()
	f := &fleet{t: t, addr: d.TCP, rate: 10, inst: []*fleetInst{
		{prefix: "shop app-8080 "},
		{prefix: "shop app-8081 ", backlog: now.Add(-40 * time.Second)},
		{prefix: "shop app-8082 ", stop: now.Truncate(time.Second).Add(time.Second)},
		{prefix: "shop worker1 "},
		{prefix: "aaa web-9000 "},
		{prefix: "aaa web-9001 "},
	}}
	last := now.Truncate(time.Second).Add(time.Second)
	if err := f.send(last.Add(-150*time.Second), last); err != nil {
		t.Fatal(err)
	}
	// Live, a second at a time, for as long as the test runs; the silent
	// instance has been quiet for longer than silent_after when this returns.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		f.live(last, stop)
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	testwait.For(t, 30*time.Second, "silent_after to pass", func() bool { return time.Since(f.inst[2].stop) > 8*time.Second })
	return d
}
