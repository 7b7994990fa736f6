package main

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/daemon/kinesis/kinesalitetest"
)

// Load generators of the crash tests: each runs in its own goroutine, in
// real time, until stopped; event times are wall-clock times.

// tracelogTime is a record timestamp in UTC (the test daemons' zone).
func tracelogTime(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.000000")
}

// genRequest appends the records of one complete request (B I C A E) of rid
// started at b (unix µs) and returns the time of its A record.
func genRequest(rng *rand.Rand, rid string, b int64, emit func(at int64, rec string)) int64 {
	c := b + 200 + rng.Int64N(20000)
	a := c + 5000 + rng.Int64N(300000) // up to 0.3 s in the application: busy > 0
	status := "200 93638"
	if rng.IntN(30) == 0 {
		status = "500 120"
	}
	emit(b, fmt.Sprintf("B %s %s GET /site/page%d", rid, tracelogTime(b), rng.IntN(100)))
	emit(b+150, fmt.Sprintf("I %s %s 0", rid, tracelogTime(b+150)))
	emit(c, fmt.Sprintf("C %s %s", rid, tracelogTime(c)))
	emit(a, fmt.Sprintf("A %s %s %s", rid, tracelogTime(a), status))
	emit(a+100, fmt.Sprintf("E %s %s", rid, tracelogTime(a+100)))
	return a
}

// genLoop runs tick every 10 ms in a goroutine until the returned stop is
// called; stop waits for the goroutine to end.
func genLoop(tick func(now time.Time)) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				tick(now)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// dirEvent is a directory line due at a time; dirQueue orders them.
type dirEvent struct {
	at   int64
	seq  int
	line string
}

type dirQueue []dirEvent

func (q dirQueue) Len() int { return len(q) }
func (q dirQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q dirQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dirQueue) Push(x any)   { *q = append(*q, x.(dirEvent)) }
func (q *dirQueue) Pop() (x any) { x, *q = (*q)[len(*q)-1], (*q)[:len(*q)-1]; return x }

// startDirWriter appends syslog-ng directory lines (`host customer instance
// [:] RECORD`, both forms) to path as a syslog-ng would: requests start on
// insts instances at about perSec a second each, and each line is written
// once its time has come, so the file is in time order. Instance 0 also
// restarts (an S record) after 3 s. It returns stop, which waits for the
// last write.
func startDirWriter(t *testing.T, path string, insts int, perSec float64) (stop func()) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().UnixMicro()
	next := make([]int64, insts)
	for i := range next {
		next[i] = start + rng.Int64N(int64(1e6/perSec))
	}
	var q dirQueue
	seq, rid, restarted := 0, 0, false
	prefix := func(i int) string {
		sep := " "
		if i%2 == 1 {
			sep = " : " // syslog-ng 3 clients
		}
		return fmt.Sprintf("zope%d acme app-%d%s", i%3, 8080+i, sep)
	}
	var b strings.Builder
	stopLoop := genLoop(func(now time.Time) {
		us := now.UnixMicro()
		for i := range next {
			for next[i] <= us {
				rid++
				genRequest(rng, fmt.Sprint(rid), next[i], func(at int64, rec string) {
					seq++
					heap.Push(&q, dirEvent{at, seq, prefix(i) + rec})
				})
				next[i] += int64(1e6/perSec*0.5) + rng.Int64N(int64(1e6/perSec))
			}
		}
		if !restarted && us-start > 3e6 {
			restarted = true
			seq++
			heap.Push(&q, dirEvent{us, seq, prefix(0) + "S 0 " + tracelogTime(us)})
		}
		b.Reset()
		for q.Len() > 0 && q[0].at <= us {
			b.WriteString(heap.Pop(&q).(dirEvent).line + "\n")
		}
		if _, err := f.WriteString(b.String()); err != nil {
			t.Errorf("append to %s: %v", path, err)
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			stopLoop()
			// Finish the requests in flight, so the file ends complete.
			b.Reset()
			for q.Len() > 0 {
				b.WriteString(heap.Pop(&q).(dirEvent).line + "\n")
			}
			f.WriteString(b.String())
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// syslogCounts is what a syslogSender sent: requests (A records) per
// instance and second.
type syslogCounts struct {
	mu       sync.Mutex
	requests map[string]map[int64]int
	records  int
	newest   int64 // time of the newest record sent (unix µs)
}

// startSyslogSender sends perSec requests a second on each of insts
// instances to addr over UDP, as Python's SysLogHandler does
// (`<PRI>customer instance RECORD` and a NUL), and counts into c what it
// sent. The instances send in step, with the same times, so each flush of
// the daemon has a second to write to every one of their files.
func startSyslogSender(t testing.TB, addr string, insts int, perSec float64, c *syslogCounts) (stop func()) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	every := time.Duration(float64(time.Second) / perSec)
	next, rid := time.Now(), 0
	type rec struct {
		at   int64
		text string
	}
	stopLoop := genLoop(func(now time.Time) {
		for !next.After(now) {
			next = next.Add(every)
			rid++
			// The request ended just now: its records are in the past.
			var recs []rec
			genRequest(rng, fmt.Sprint(rid), now.UnixMicro()-330000, func(at int64, text string) {
				recs = append(recs, rec{at, text})
			})
			for i := range insts {
				inst := fmt.Sprint("sys-", i)
				for _, r := range recs {
					if _, err := conn.Write([]byte("<14>acme " + inst + " " + r.text + "\x00")); err != nil {
						continue // refused: the daemon is gone
					}
					c.mu.Lock()
					c.records++
					c.newest = max(c.newest, r.at)
					if strings.HasPrefix(r.text, "A ") {
						if c.requests[inst] == nil {
							c.requests[inst] = map[int64]int{}
						}
						c.requests[inst][r.at/1e6]++
					}
					c.mu.Unlock()
				}
			}
		}
	})
	return func() {
		stopLoop()
		conn.Close()
	}
}

// startKinesisProducer puts one more minute of every series of ms every
// 100 ms. ms belongs to the producer until stop returns.
func startKinesisProducer(t *testing.T, k *kinesalitetest.Server, ms *metricSet) (stop func()) {
	upto := ms.next[0]
	last := time.Now()
	return genLoop(func(now time.Time) {
		if now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		upto++
		if err := k.Send(context.Background(), crashStream, kinesalitetest.Entries(ms.records(upto))); err != nil {
			t.Error(err)
		}
	})
}
