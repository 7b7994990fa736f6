package store

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"
	_ "time/tzdata"

	"graphmetrics/parser"
)

// BenchmarkParseAggregate is the tracelog hot path from text: each record is
// written as a line (local wall time in America/New_York, 200 µs of event
// time apart), parsed with parser.ParseRecord in that zone and aggregated
// (one op = one record). "july" is an ordinary night; "fallback" starts at
// 01:55 EDT on 2026-11-01, in the hour the clocks then repeat: every
// record has two instants and its instance chooses, the first 1.5 M in the
// first occurrence, the rest in the second. Run with -cpu 1 for the
// one-core figure.
func BenchmarkParseAggregate(b *testing.B) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		start time.Time
	}{
		{"july", time.Date(2026, 7, 1, 5, 55, 0, 0, time.UTC)},
		{"fallback", time.Date(2026, 11, 1, 5, 55, 0, 0, time.UTC)},
	} {
		for _, nInst := range []int{1, 1000} {
			b.Run(fmt.Sprintf("%s/instances=%d", c.name, nInst), func(b *testing.B) {
				benchParseAggregate(b, ny, c.start, nInst)
			})
		}
	}
}

func benchParseAggregate(b *testing.B, loc *time.Location, start time.Time, nInst int) {
	codes := []byte("BICAE")
	data := []string{" GET /index.html", " 0", "", " 200 9229", ""}
	rids := make([]string, 16)
	for i := range rids {
		rids[i] = fmt.Sprintf("0.-14514%05d", i)
	}
	insts := make([][]byte, nInst)
	for i := range insts {
		insts[i] = []byte(fmt.Sprintf("app-%d", 8000+i))
	}
	host, cust := []byte("zope1.example.net"), []byte("customer")
	clk := &fakeClock{now: start.Add(24 * time.Hour)}
	// The fleet is new to the aggregator: its admission limits must not
	// refuse 1,000 instances in the benchmark's first minute.
	a, err := NewAggregator(AggOptions{Sink: &nullSink{}, Now: clk.Now, FlushInterval: time.Second, Shards: 2,
		MaxInstances: 1 << 30, NewInstancesPerMinute: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	a.Start()
	const batchSize = 256
	line := make([]byte, 0, 128)
	var wall []byte
	wallSec := int64(-1)
	t0 := start.UnixMicro()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	batch := a.NewBatch()
	for i := 0; i < b.N; i++ {
		req, c := i/5, i%5
		us := t0 + int64(i)*200
		if s := us / 1e6; s != wallSec {
			wallSec = s
			wall = time.Unix(s, 0).In(loc).AppendFormat(wall[:0], "2006-01-02 15:04:05.")
		}
		line = append(line[:0], codes[c], ' ')
		line = append(line, rids[(req/nInst)%len(rids)]...)
		line = append(line, ' ')
		line = append(line, wall...)
		line = strconv.AppendInt(line, 1e6+us%1e6, 10) // 7 digits: drop the leading 1
		copy(line[len(line)-7:], line[len(line)-6:])
		line = append(line[:len(line)-1], data[c]...)
		rec, err := parser.ParseRecord(line, loc)
		if err != nil {
			b.Fatalf("%q: %v", line, err)
		}
		batch.Add(host, cust, insts[req%nInst], rec)
		if batch.Len() == batchSize {
			a.Submit(batch)
			batch = a.NewBatch()
		}
	}
	a.Submit(batch)
	if err := a.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	st := a.Stats()
	if st.Records != uint64(b.N) {
		b.Fatalf("stats %+v after %d records", st, b.N)
	}
	b.ReportMetric(float64(st.Late)/float64(b.N), "late/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	// On a shared machine wall time mostly measures the neighbours: the
	// process's CPU time (every goroutine of the pipeline) is the figure
	// per core.
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
