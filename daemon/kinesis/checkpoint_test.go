package kinesis

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"graphmetrics/parser/testwait"
)

// syncSink is a recSink whose Sync can be held, like rrdfile.Writer's while
// a file is written.
type syncSink struct {
	*recSink
	syncs chan struct{} // signalled when a Sync starts

	holdMu sync.Mutex
	hold   chan struct{} // Sync waits here (or on ctx) while non-nil
}

func (s *syncSink) setHold(c chan struct{}) {
	s.holdMu.Lock()
	s.hold = c
	s.holdMu.Unlock()
}

func (s *syncSink) Sync(ctx context.Context) error {
	s.holdMu.Lock()
	hold := s.hold
	s.holdMu.Unlock()
	select {
	case s.syncs <- struct{}{}:
	default:
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// The sink fails in the middle of the second batch (its first series went
// through, the second did not): the checkpoint stays at the end of the
// first batch, and a restart resumes there, so the whole second batch is
// written again and nothing after it is skipped.
func TestCheckpointAfterWrite(t *testing.T) { synctest.Test(t, testCheckpointAfterWrite) }

func testCheckpointAfterWrite(t *testing.T) {
	f := newFake("s", "shardId-0")
	var seqs []string
	for i := range 10 { // a and b alternate: each batch of 4 has two series
		seqs = append(seqs, f.put("shardId-0", recs("//a#m", 2*i, 1)[0], recs("//b#m", 2*i, 1)[0])...)
	}
	broken := newRecSink()
	broken.fail = func(call int, path []string) error {
		if call >= 4 { // batch 1 = calls 1, 2; batch 2 = call 3 (a) ok, call 4 (b) fails
			return errors.New("disk full")
		}
		return nil
	}
	o := fastOpts(t, f, broken, Stream{Name: "s"})
	o.RecordsPerGet = 4
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "sink errors", func() bool { return c.Stats().SinkErrors >= 3 })
	cp, ok := readCheckpoint(t, o.StateDir, "s", "shardId-0")
	if !ok || cp.Sequence != seqs[3] {
		t.Fatalf("checkpoint %+v, want sequence %s (end of batch 1)", cp, seqs[3])
	}
	closeConsumer(t, c)
	if cp2, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0"); cp2 != cp {
		t.Fatalf("Close moved the checkpoint of a failed batch: %+v", cp2)
	}
	if got := c.Stats().Records; got != 4 {
		t.Fatalf("records %d, want 4", got)
	}

	good := newRecSink()
	o.Sink = good
	c = startConsumer(t, o)
	testwait.For(t, 5*time.Second, "16 more records", func() bool { return c.Stats().Records == 16 })
	time.Sleep(time.Second) // fake time: nothing more may arrive
	synctest.Wait()
	closeConsumer(t, c)
	if good.total() != 16 {
		t.Fatalf("restart wrote %d points, want 16", good.total())
	}
	ptsA, ptsB := good.points("s/a/m"), good.points("s/b/m")
	if ptsA[0].Value != 4 || ptsB[0].Value != 4 || ptsA[7].Value != 18 || ptsB[7].Value != 18 {
		t.Fatalf("a %v b %v", ptsA, ptsB)
	}
	if cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0"); cp.Sequence != seqs[19] {
		t.Fatalf("checkpoint %+v, want %s", cp, seqs[19])
	}
}

// The checkpoint waits for the sink's Sync (the data on disk), and a Sync
// still running when Close's deadline passes leaves the checkpoint alone.
func TestCheckpointWaitsForSync(t *testing.T) { synctest.Test(t, testCheckpointWaitsForSync) }

func testCheckpointWaitsForSync(t *testing.T) {
	f := newFake("s", "shardId-0")
	seqs := f.put("shardId-0", recs("//a#m", 0, 4)...)
	sink := &syncSink{recSink: newRecSink(), syncs: make(chan struct{}, 1)}
	o := fastOpts(t, f, sink, Stream{Name: "s"})
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "first batch", func() bool {
		cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0")
		return cp.Sequence == seqs[3]
	})
	sink.setHold(make(chan struct{})) // the next Sync blocks
	<-sink.syncs                      // drain the signal of the first Sync
	seqs = f.put("shardId-0", recs("//a#m", 4, 4)...)
	select {
	case <-sink.syncs:
	case <-time.After(5 * time.Second):
		t.Fatal("no Sync for the second batch")
	}
	synctest.Wait() // the shard is blocked in the held Sync
	if cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0"); cp.Sequence == seqs[3] {
		t.Fatal("checkpoint written before Sync returned")
	}
	if got := sink.total(); got != 8 {
		t.Fatalf("sink has %d points, want 8 (handed over, not synced)", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Close(ctx); err == nil {
		t.Fatal("Close returned nil while Sync was held")
	}
	synctest.Wait() // the held Sync saw the hard stop and gave up
	if cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0"); cp.Sequence == seqs[3] {
		t.Fatal("checkpoint written although Sync never succeeded")
	}
	if c.Stats().Records != 4 {
		t.Fatalf("records %d, want 4", c.Stats().Records)
	}
}

// Close during a batch whose Sync is merely slow lets it finish and
// writes its checkpoint (SIGTERM saves progress).
func TestCloseFinishesBatch(t *testing.T) { synctest.Test(t, testCloseFinishesBatch) }

func testCloseFinishesBatch(t *testing.T) {
	f := newFake("s", "shardId-0")
	seqs := f.put("shardId-0", recs("//a#m", 0, 4)...)
	sink := &syncSink{recSink: newRecSink(), syncs: make(chan struct{}, 1), hold: make(chan struct{})}
	o := fastOpts(t, f, sink, Stream{Name: "s"})
	c := startConsumer(t, o)
	<-sink.syncs
	done := make(chan error)
	go func() { done <- c.Close(context.Background()) }()
	synctest.Wait() // Close is waiting for the batch
	close(sink.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0"); cp.Sequence != seqs[3] {
		t.Fatalf("checkpoint %+v, want %s", cp, seqs[3])
	}
}

// Start "latest": old records and closed shards are skipped; the LATEST
// position is saved at once, so a restart before any record arrived still
// gets the records put while the daemon was down.
func TestStartLatest(t *testing.T) { synctest.Test(t, testStartLatest) }

func testStartLatest(t *testing.T) {
	f := newFake("s", "shardId-0")
	f.put("shardId-0", recs("//old#m", 0, 5)...)
	f.addChild("shardId-1", "shardId-0", "")
	f.put("shardId-1", recs("//old#m", 5, 5)...)
	time.Sleep(time.Millisecond) // fake time: the old records arrived before the start
	sink := newRecSink()
	o := fastOpts(t, f, sink, Stream{Name: "s", Start: "latest"})
	c := startConsumer(t, o)
	testwait.For(t, 5*time.Second, "LATEST position saved", func() bool {
		cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-1")
		return !cp.At.IsZero()
	})
	if cp, _ := readCheckpoint(t, o.StateDir, "s", "shardId-0"); !cp.Closed {
		t.Fatalf("closed shard not skipped: %+v", cp)
	}
	closeConsumer(t, c)
	time.Sleep(5 * time.Millisecond)
	f.put("shardId-1", recs("//new#m", 0, 3)...)
	c = startConsumer(t, o)
	testwait.For(t, 5*time.Second, "3 records", func() bool { return c.Stats().Records == 3 })
	f.put("shardId-1", recs("//new#m", 3, 2)...)
	testwait.For(t, 5*time.Second, "2 more records", func() bool { return c.Stats().Records == 5 })
	closeConsumer(t, c)
	checkSeries(t, sink, "s/new/m", 0, 5)
	if n := len(sink.points("s/old/m")); n != 0 {
		t.Fatalf("%d old points read", n)
	}
	if f.getCount("shardId-0") != 0 {
		t.Fatal("skipped shard was read")
	}
}

// Healthy turns false while listing fails for longer than FailAfter and
// true again when it works.
func TestHealthy(t *testing.T) { synctest.Test(t, testHealthy) }

func testHealthy(t *testing.T) {
	f := newFake("s", "shardId-0")
	var broken = true
	f.listHook = func(int) error {
		if broken {
			return errNetwork
		}
		return nil
	}
	o := fastOpts(t, f, newRecSink(), Stream{Name: "s"})
	o.FailAfter = 100 * time.Millisecond
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Healthy() {
		t.Fatal("healthy before Start")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if !c.Healthy() {
		t.Fatal("unhealthy right after Start")
	}
	testwait.For(t, 5*time.Second, "unhealthy", func() bool { return !c.Healthy() })
	f.mu.Lock()
	broken = false
	f.mu.Unlock()
	testwait.For(t, 5*time.Second, "healthy again", c.Healthy)
	closeConsumer(t, c)
	if c.Healthy() {
		t.Fatal("healthy after Close")
	}
}

// Checkpoint files: atomic replace, no temp files left, unreadable ones
// ignored, unsafe shard ids refused.
func TestCheckpointFiles(t *testing.T) {
	dir := t.TempDir()
	ck, err := newCheckpoints(dir, "s", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []string{"1", "2"} {
		if err := ck.save(checkpoint{Stream: "s", Shard: "shardId-0", Sequence: seq}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ck.save(checkpoint{Shard: "../x"}); err == nil {
		t.Fatal("unsafe shard id saved")
	}
	sdir := filepath.Join(dir, "kinesis", "s")
	os.WriteFile(filepath.Join(sdir, "shardId-1.json"), []byte("{garbage"), 0o644)
	os.WriteFile(filepath.Join(sdir, ".tmp-123"), []byte("x"), 0o644)
	got, err := ck.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["shardId-0"].Sequence != "2" {
		t.Fatalf("loaded %+v", got)
	}
	entries, _ := os.ReadDir(sdir)
	if len(entries) != 2 { // shardId-0.json and the unreadable one, kept for the operator
		t.Fatalf("entries %v", entries)
	}
}
