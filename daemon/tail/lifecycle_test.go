package tail

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// Close's last checkpoint goes to FinalCheckpoint, after every line read;
// periodic ones to Checkpoint; nothing comes after the final one.
func TestFinalCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	lines := numbered("a", 1, 5000)
	writeFile(t, path, text(lines))
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	o.BlockSize = 1 // the minimum: many blocks, checkpoints between them
	o.MaxLine = 100
	var periodic, final atomic.Int32
	var atFinal atomic.Int64
	o.Checkpoint = func(ctx context.Context) ([]byte, error) {
		if final.Load() > 0 {
			t.Error("checkpoint after the final one")
		}
		periodic.Add(1)
		return r.Checkpoint(ctx)
	}
	o.FinalCheckpoint = func(ctx context.Context) ([]byte, error) {
		final.Add(1)
		atFinal.Store(int64(r.count()))
		return r.Checkpoint(ctx)
	}
	slow := o.Handle
	o.Handle = func(l [][]byte) { time.Sleep(2 * time.Millisecond); slow(l) }
	tl := start(t, o)
	testwait.For(t, 5*time.Second, "a periodic checkpoint", func() bool { return periodic.Load() > 0 })
	closeTailer(t, tl)
	if final.Load() != 1 {
		t.Fatalf("final checkpoints: %d", final.Load())
	}
	// Whatever was read when Close came is handed over before the final
	// checkpoint; a restart reads the rest.
	if n := atFinal.Load(); n != int64(r.count()) || n == 0 {
		t.Fatalf("final checkpoint saw %d lines, %d were handed over", n, r.count())
	}
	r2 := newRecorder()
	o.Handle, o.Checkpoint, o.Restore, o.FinalCheckpoint = r2.Handle, r2.Checkpoint, r2.Restore, nil
	tl = start(t, o)
	waitAll(t, tl, r2, lines)
}

// An unreadable snapshot is set aside, logged, and every file is read
// from the start (RRD refuses the seconds it has: time lost, not counts).
func TestBadStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	lines := numbered("a", 1, 100)
	writeFile(t, path, text(lines))
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	os.MkdirAll(filepath.Dir(o.StateFile), 0o755)
	writeFile(t, o.StateFile, `{"version":1,"files":[`)
	var logged strings.Builder
	o.Logger = slogTo(&logged)
	tl := start(t, o)
	waitAll(t, tl, r, lines)
	if m, _ := filepath.Glob(o.StateFile + ".bad-*"); len(m) != 1 {
		t.Errorf("bad state not set aside: %v", m)
	}
	if !strings.Contains(logged.String(), "unusable tail state") {
		t.Errorf("not logged:\n%s", logged.String())
	}
}

// Start and Close in a loop leave no goroutine or descriptor behind;
// Close is safe before Start and twice.
func TestStartStopLoop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, text(numbered("a", 1, 10)))
	r := newRecorder()
	o := testOpts(t, dir, r, filepath.Join(dir, "*.log"))
	o.Logger = slogTo(&strings.Builder{})
	tl, _ := New(o)
	if err := tl.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	fds := openFDs(t)
	for i := range 20 {
		tl, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := tl.Start(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			waitPasses(t, tl, 1)
		}
		closeTailer(t, tl)
		closeTailer(t, tl)
	}
	testwait.For(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if n := openFDs(t); n > fds {
		t.Errorf("descriptors: %d before, %d after", fds, n)
	}
	if r.count() != 10 {
		t.Errorf("lines handed over: %d, want 10 (once, then resumed)", r.count())
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Bad options are refused by New.
func TestOptionsRequired(t *testing.T) {
	r := newRecorder()
	for name, o := range map[string]Options{
		"no handle":   {StateFile: "x", Checkpoint: r.Checkpoint, Restore: r.Restore},
		"no state":    {Handle: r.Handle, Checkpoint: r.Checkpoint, Restore: r.Restore},
		"bad pattern": {Paths: []string{"a/[x"}, StateFile: "x", Handle: r.Handle, Checkpoint: r.Checkpoint, Restore: r.Restore},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
