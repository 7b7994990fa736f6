package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"graphmetrics/parser/testwait"
	"graphmetrics/store"
)

const testBase = 1772366400 // 2026-03-01T12:00:00Z

func rec(name string, t int64, v float64) string {
	return fmt.Sprintf(`{"timestamp":%q,"name":%q,"value":%v,"units":"x"}`,
		time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05.000000"), name, v)
}

// recs makes n records of one series with values from..from+n-1, a minute
// apart.
func recs(name string, from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, rec(name, testBase+int64(i)*60, float64(i)))
	}
	return out
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("KINESIS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func fastOpts(t testing.TB, api API, sink Sink, streams ...Stream) Options {
	return Options{
		Streams: streams, StateDir: t.TempDir(), Sink: sink, Logger: testLogger(t), Client: api,
		ListInterval: 50 * time.Millisecond, IdleInterval: 10 * time.Millisecond, MinInterval: 5 * time.Millisecond,
		BackoffBase: 5 * time.Millisecond, BackoffMax: 40 * time.Millisecond, FutureLimit: -1,
	}
}

func startConsumer(t testing.TB, o Options) *Consumer {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

func closeConsumer(t testing.TB, c *Consumer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// checkSeries fails unless key holds exactly the values from..from+n-1, in
// order, at the times recs gave them.
func checkSeries(t testing.TB, sink *recSink, key string, from, n int) {
	t.Helper()
	pts := sink.points(key)
	if len(pts) != n {
		t.Errorf("%s: %d points, want %d: %v", key, len(pts), n, pts)
		return
	}
	for i, p := range pts {
		if want := (store.Point{Time: testBase + int64(from+i)*60, Value: float64(from + i)}); p != want {
			t.Errorf("%s: point %d = %v, want %v", key, i, p, want)
			return
		}
	}
}

func readCheckpoint(t testing.TB, dir, stream, shard string) (checkpoint, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kinesis", stream, shard+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return checkpoint{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatal(err)
	}
	return cp, true
}

// Throttling, expired iterators and network errors on every call are
// retried; nothing is lost or doubled; GetRecords keeps its rate limit.
// The backoffs and rate limits run on synctest's fake clock (as every test
// of the fake stream does), so the intervals checked are exact.
func TestFaults(t *testing.T) { synctest.Test(t, testFaults) }

func testFaults(t *testing.T) {
	f := newFake("s", "shardId-0", "shardId-1")
	f.put("shardId-0", recs("//h/a#m", 0, 40)...)
	f.put("shardId-1", recs("//h/b#m", 0, 40)...)
	f.listHook = func(n int) error {
		if n == 1 {
			return errNetwork
		}
		return nil
	}
	f.iterHook = func(shard string, n int) error {
		switch n {
		case 1:
			return &types.LimitExceededException{Message: aws.String("rate")}
		case 2:
			return errNetwork
		}
		return nil
	}
	f.getHook = func(shard string, n int) error {
		switch n {
		case 2, 3:
			return &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
		case 5:
			return errNetwork
		case 7:
			return &types.ExpiredIteratorException{Message: aws.String("old")}
		}
		return nil
	}
	sink := newRecSink()
	o := fastOpts(t, f, sink, Stream{Name: "s"})
	o.RecordsPerGet = 7
	o.MinInterval = 20 * time.Millisecond
	c := startConsumer(t, o)
	testwait.For(t, 20*time.Second, "80 records", func() bool { return c.Stats().Records == 80 })
	// A while longer: nothing more may arrive.
	time.Sleep(time.Second)
	synctest.Wait()
	closeConsumer(t, c)
	checkSeries(t, sink, "s/h/a/m", 0, 40)
	checkSeries(t, sink, "s/h/b/m", 0, 40)
	st := c.Stats()
	if st.Throttles < 2*3 || st.IteratorResets < 2*2 || st.Errors < 1+2*2 {
		t.Errorf("stats %+v", st)
	}
	for _, shard := range []string{"shardId-0", "shardId-1"} {
		calls := f.getCalls[shard]
		for i := 1; i < len(calls); i++ {
			if d := calls[i].Sub(calls[i-1]); d < o.MinInterval {
				t.Errorf("%s: GetRecords %d came %v after the previous one", shard, i, d)
			}
		}
		cp, ok := readCheckpoint(t, o.StateDir, "s", shard)
		if last := f.shard(shard).recs[39].SequenceNumber; !ok || cp.Sequence != *last || cp.Closed {
			t.Errorf("%s checkpoint %+v, want sequence %s", shard, cp, *last)
		}
	}
}

// Every wait honours Close: a shard backing off for a minute stops at once
// (on synctest's fake clock, waiting out the backoff would show as a
// minute).
func TestCloseDuringBackoff(t *testing.T) { synctest.Test(t, testCloseDuringBackoff) }

func testCloseDuringBackoff(t *testing.T) {
	f := newFake("s", "shardId-0")
	f.getHook = func(string, int) error {
		return &types.ProvisionedThroughputExceededException{Message: aws.String("no")}
	}
	o := fastOpts(t, f, newRecSink(), Stream{Name: "s"})
	o.BackoffBase, o.BackoffMax = time.Minute, time.Minute
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "a throttled call", func() bool { return f.getCount("shardId-0") >= 1 })
	synctest.Wait() // every goroutine blocked: the shard is in its backoff
	start := time.Now()
	closeConsumer(t, c)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if c.Stats().Throttles == 0 {
		t.Fatal("no throttle counted")
	}
}

// ListShards pages are fetched with NextToken alone (the fake refuses it
// with StreamName, as AWS does), and every shard of every page is read.
func TestListShardsPaging(t *testing.T) { synctest.Test(t, testListShardsPaging) }

func testListShardsPaging(t *testing.T) {
	ids := []string{"shardId-0", "shardId-1", "shardId-2", "shardId-3", "shardId-4"}
	f := newFake("s", ids...)
	f.pageSize = 2
	for i, id := range ids {
		f.put(id, recs(fmt.Sprintf("//h%d/x#m", i), 0, 3)...)
	}
	sink := newRecSink()
	c := startConsumer(t, fastOpts(t, f, sink, Stream{Name: "s"}))
	testwait.For(t, 10*time.Second, "15 records", func() bool { return c.Stats().Records == 15 })
	closeConsumer(t, c)
	for i := range ids {
		checkSeries(t, sink, fmt.Sprintf("s/h%d/x/m", i), 0, 3)
	}
	if st := c.Stats(); st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A reshard while records flow: split p0 into c2 and c3, then merge c3 and
// p1 into c4. Each series moves from a parent to a child; it must arrive
// whole and in order, so every parent was finished before its child.
func TestReshardFake(t *testing.T) { synctest.Test(t, testReshardFake) }

func testReshardFake(t *testing.T) {
	f := newFake("s", "shardId-0", "shardId-1")
	o := fastOpts(t, f, nil, Stream{Name: "s"})
	sink := newRecSink()
	o.Sink = sink
	o.RecordsPerGet = 3 // parents take many calls, children have data early
	f.put("shardId-0", recs("//a#m", 0, 30)...)
	f.put("shardId-0", recs("//b#m", 0, 30)...)
	f.put("shardId-1", recs("//c#m", 0, 30)...)
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "first records", func() bool { return c.Stats().Records > 0 })
	f.addChild("shardId-2", "shardId-0", "")
	f.addChild("shardId-3", "shardId-0", "")
	f.put("shardId-2", recs("//a#m", 30, 20)...)
	f.put("shardId-3", recs("//b#m", 30, 20)...)
	testwait.For(t, 10*time.Second, "split children read", func() bool { return c.Stats().Records >= 90 })
	f.addChild("shardId-4", "shardId-3", "shardId-1")
	f.put("shardId-4", recs("//b#m", 50, 10)...)
	f.put("shardId-4", recs("//c#m", 30, 10)...)
	testwait.For(t, 10*time.Second, "all 150 records", func() bool { return c.Stats().Records == 150 })
	time.Sleep(time.Second) // fake time: many listings later
	synctest.Wait()
	if st := c.Stats().Streams["s"]; st.Finished != 3 || st.Reading != 2 || st.Waiting != 0 {
		t.Errorf("stream stats %+v", st)
	}
	closeConsumer(t, c)
	checkSeries(t, sink, "s/a/m", 0, 50)
	checkSeries(t, sink, "s/b/m", 0, 60)
	checkSeries(t, sink, "s/c/m", 0, 40)
	for _, id := range []string{"shardId-0", "shardId-1", "shardId-3"} {
		if cp, _ := readCheckpoint(t, o.StateDir, "s", id); !cp.Closed {
			t.Errorf("%s checkpoint %+v: not closed", id, cp)
		}
	}
	for _, it := range f.iterTypes {
		if it != types.ShardIteratorTypeTrimHorizon {
			t.Errorf("iterator type %s", it)
		}
	}
}

// A child whose parents are still being read waits, even across a
// restart: the finished state of a parent comes from its checkpoint.
func TestChildWaitsForParentAcrossRestart(t *testing.T) {
	synctest.Test(t, testChildWaitsForParentAcrossRestart)
}

func testChildWaitsForParentAcrossRestart(t *testing.T) {
	f := newFake("s", "shardId-0")
	f.put("shardId-0", recs("//a#m", 0, 10)...)
	f.addChild("shardId-1", "shardId-0", "")
	f.put("shardId-1", recs("//a#m", 10, 10)...)
	sink := newRecSink()
	fails := true
	sink.fail = func(call int, path []string) error {
		if fails {
			return errors.New("disk full")
		}
		return nil
	}
	o := fastOpts(t, f, sink, Stream{Name: "s"})
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "sink errors", func() bool { return c.Stats().SinkErrors >= 3 })
	if n := f.getCount("shardId-1"); n != 0 {
		t.Fatalf("child read %d times before its parent finished", n)
	}
	closeConsumer(t, c)
	sink.mu.Lock()
	fails = false
	sink.mu.Unlock()
	c = startConsumer(t, o)
	testwait.For(t, 5*time.Second, "20 records", func() bool { return c.Stats().Records == 20 })
	closeConsumer(t, c)
	checkSeries(t, sink, "s/a/m", 0, 20)

	// Third start: the parent is known finished, nothing is read again.
	before, p0 := sink.total(), f.getCount("shardId-0")
	c = startConsumer(t, o)
	testwait.For(t, 5*time.Second, "child reading", func() bool { return c.Stats().Streams["s"].Reading == 1 })
	time.Sleep(time.Second) // fake time: many polls later
	synctest.Wait()
	closeConsumer(t, c)
	if sink.total() != before || f.getCount("shardId-0") != p0 {
		t.Fatalf("points %d -> %d, parent reads %d -> %d", before, sink.total(), p0, f.getCount("shardId-0"))
	}
}

// Checkpoints of shards that aged out of the stream are deleted, whether
// the shard was seen in this run or only in an earlier one; a child whose
// parent aged out is read.
func TestPruneCheckpoints(t *testing.T) { synctest.Test(t, testPruneCheckpoints) }

func testPruneCheckpoints(t *testing.T) {
	f := newFake("s", "shardId-0", "shardId-9")
	f.put("shardId-0", recs("//a#m", 0, 3)...)
	f.put("shardId-9", recs("//z#m", 0, 3)...)
	f.addChild("shardId-1", "shardId-0", "")
	sink := newRecSink()
	o := fastOpts(t, f, sink, Stream{Name: "s"})
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "parent finished", func() bool { return c.Stats().Streams["s"].Finished == 1 })
	closeConsumer(t, c)
	f.trim("shardId-9") // gone while the daemon was down: only on disk
	for _, id := range []string{"shardId-0", "shardId-9"} {
		if _, ok := readCheckpoint(t, o.StateDir, "s", id); !ok {
			t.Fatalf("no checkpoint for %s", id)
		}
	}
	c = startConsumer(t, o)
	f.trim("shardId-0") // gone while running
	f.put("shardId-1", recs("//a#m", 3, 3)...)
	testwait.For(t, 5*time.Second, "child records", func() bool { return c.Stats().Records == 3 })
	testwait.For(t, 5*time.Second, "old checkpoints removed", func() bool {
		_, ok0 := readCheckpoint(t, o.StateDir, "s", "shardId-0")
		_, ok9 := readCheckpoint(t, o.StateDir, "s", "shardId-9")
		return !ok0 && !ok9
	})
	closeConsumer(t, c)
	checkSeries(t, sink, "s/a/m", 0, 6)
	if _, ok := readCheckpoint(t, o.StateDir, "s", "shardId-1"); !ok {
		t.Fatal("child checkpoint missing")
	}
}

// Goroutines are all gone after Close, over many start/stop cycles.
func TestStartStopLoop(t *testing.T) {
	f := newFake("s", "shardId-0", "shardId-1")
	f.put("shardId-0", recs("//a#m", 0, 5)...)
	o := fastOpts(t, f, newRecSink(), Stream{Name: "s"})
	before := runtime.NumGoroutine()
	for range 20 {
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		closeConsumer(t, c)
		if err := c.Start(); err == nil {
			t.Fatal("Start after Close succeeded")
		}
	}
	testwait.For(t, 2*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestNewValidates(t *testing.T) {
	sink := newRecSink()
	for _, tc := range []struct {
		s    Stream
		want string
	}{
		{Stream{Name: ""}, "name"},
		{Stream{Name: ".."}, "name"},
		{Stream{Name: "a/b"}, "name"},
		{Stream{Name: "a", Start: "now"}, "start"},
		{Stream{Name: "a", Step: 1500 * time.Millisecond}, "step"},
		{Stream{Name: "a", Metric: "x//y"}, "metric"},
		{Stream{Name: "a", Metric: "../x"}, "metric"},
		{Stream{Name: "a", Metric: "x\ny"}, "metric"},
	} {
		_, err := New(Options{StateDir: t.TempDir(), Sink: sink, Streams: []Stream{tc.s}})
		if err == nil || !strings.Contains(err.Error(), "streams[0]."+tc.want) {
			t.Errorf("%+v: %v", tc.s, err)
		}
	}
	if _, err := New(Options{StateDir: t.TempDir(), Sink: sink, Streams: []Stream{{Name: "a"}, {Name: "a"}}}); err == nil {
		t.Error("duplicate stream accepted")
	}
	if _, err := New(Options{Sink: sink}); err == nil {
		t.Error("no StateDir accepted")
	}
}
