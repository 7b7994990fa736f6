package tail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchLines is the size of the catch-up benchmark's backlog:
// GM_TAIL_BENCH_LINES (10000000 is the target, about 1 GB),
// default 1000000 to keep `go test -bench` short.
func benchLines(b *testing.B) int {
	if s := os.Getenv("GM_TAIL_BENCH_LINES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1000000
}

// benchBacklog generates the backlog once per process: 10 consecutive
// files of a busy fleet, 50 instances at 500 requests a second in all
// (10M lines are 67 minutes of it). RRD work grows with instance-seconds,
// not with lines: 10M lines of this make 200,000 RRD rows.
var backlog struct {
	dir   string
	files []string
	bytes int64
	lines int
}

func benchBacklog(b *testing.B) {
	n := benchLines(b)
	if backlog.lines == n {
		return
	}
	if backlog.dir != "" {
		os.RemoveAll(backlog.dir)
	}
	dir, err := os.MkdirTemp("", "tail-bench")
	if err != nil {
		b.Fatal(err)
	}
	backlog.dir, backlog.files, backlog.bytes, backlog.lines = dir, nil, 0, n
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	const files, perSec = 10, 500
	perFile := n / files / 5 * 5
	span := time.Duration(float64(perFile/5) / perSec * float64(time.Second))
	for h := range files {
		p := filepath.Join(dir, fmt.Sprintf("trace-%02d.log", h))
		if err := genFile(p, perFile, 50, t0.Add(time.Duration(h)*span), perSec, uint64(h)); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(p)
		backlog.files = append(backlog.files, p)
		backlog.bytes += fi.Size()
	}
	backlog.lines = perFile * files
	b.Logf("backlog: %d lines, %d MB in %d files", backlog.lines, backlog.bytes>>20, len(backlog.files))
}

// catTime is `cat` of the backlog to /dev/null, from the page cache (a
// first cat warms it).
func catTime(b *testing.B) time.Duration {
	run := func() time.Duration {
		cmd := exec.Command("cat", backlog.files...)
		cmd.Stdout = io.Discard
		devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		defer devnull.Close()
		cmd.Stdout = devnull
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	run()
	return min(run(), run())
}

// BenchmarkCatchUp reads the backlog from a cold start (no snapshot) to
// the end: "read" hands lines to a counter (the tailer's own cost:
// reading, splitting, positions); "store" parses them into the real
// aggregator, which writes real RRD files, and includes the final flush.
// Reported as lines/s, MB/s and the ratio to `cat` of the same files.
func BenchmarkCatchUp(b *testing.B) {
	benchBacklog(b)
	cat := catTime(b)
	b.Logf("cat: %s (%.0f MB/s)", cat.Round(time.Millisecond), float64(backlog.bytes)/1e6/cat.Seconds())
	for _, mode := range []string{"read", "store"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				total += catchUpOnce(b, mode)
			}
			per := total / time.Duration(b.N)
			b.ReportMetric(float64(backlog.lines)/per.Seconds(), "lines/s")
			b.ReportMetric(float64(backlog.bytes)/1e6/per.Seconds(), "MB/s")
			b.ReportMetric(per.Seconds()/cat.Seconds(), "x-cat")
			b.ReportMetric(per.Seconds(), "s/catch-up")
		})
	}
}

func catchUpOnce(b *testing.B, mode string) time.Duration {
	b.StopTimer()
	dir := b.TempDir()
	var lines atomic.Int64
	o := Options{
		Paths:     []string{filepath.Join(backlog.dir, "*.log")},
		StateFile: filepath.Join(dir, "state", "tail.json"),
		Logger:    slog.New(slog.DiscardHandler),
	}
	var sf *storeFeed
	switch mode {
	case "read":
		o.Handle = func(l [][]byte) { lines.Add(int64(len(l))) }
		o.Checkpoint = func(context.Context) ([]byte, error) { return nil, nil }
		o.Restore = func([]byte) error { return nil }
	case "store":
		var err error
		if sf, err = newStoreFeed(filepath.Join(dir, "rrd"), 10*time.Second); err != nil {
			b.Fatal(err)
		}
		o.Handle = func(l [][]byte) { lines.Add(int64(len(l))); sf.Handle(l) }
		o.Checkpoint, o.Restore = sf.agg.Checkpoint, sf.agg.Restore
	}
	tl, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	t0 := time.Now()
	if err := tl.Start(); err != nil {
		b.Fatal(err)
	}
	if sf != nil {
		sf.agg.Start()
	}
	for !tl.Stats().CaughtUp {
		time.Sleep(time.Millisecond)
	}
	ctx := context.Background()
	if err := tl.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if sf != nil {
		if err := sf.close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	d := time.Since(t0)
	b.StopTimer()
	if int(lines.Load()) != backlog.lines {
		b.Fatalf("%d lines handed over, want %d", lines.Load(), backlog.lines)
	}
	if sf != nil {
		st := sf.agg.Stats()
		ws := sf.w.Stats()
		if sf.bad != 0 || st.Records != uint64(backlog.lines) || st.Late != 0 || ws.Errors != 0 {
			b.Fatalf("bad %d, aggregator %+v, writer %+v", sf.bad, st, ws)
		}
		b.Logf("store: %s, %d RRD rows in %d updates (%s in librrd)", d.Round(time.Millisecond), ws.Rows, ws.Updates, ws.WriteTime.Round(time.Millisecond))
	}
	return d
}
