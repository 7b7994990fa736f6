package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"graphmetrics/web/internal/testrrd"
)

// TestMain doubles as the worker: the pool runs this test binary with
// EnvWorker set.
func TestMain(m *testing.M) {
	if os.Getenv(EnvWorker) == "1" {
		if err := WorkerMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const sampleStart = 1248966000 // 2009-07-30 15:00:00 UTC

// sampleRRD makes the sample's RRD (read as UTC) under a new root.
func sampleRRD(t testing.TB) (root, file string) {
	t.Helper()
	bs := testrrd.Sample(t)
	root = t.TempDir()
	file = filepath.Join(root, "h", "c", "i.rrd")
	if err := testrrd.Make(file, bs); err != nil {
		t.Fatal(err)
	}
	return root, file
}

func newPool(t testing.TB, o PoolOptions) *Pool {
	t.Helper()
	if o.Command == nil {
		o.Command = []string{os.Args[0]}
	}
	p, err := NewPool(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return p
}

func rpmGraph(file string) *Graph {
	return &Graph{
		Start: sampleStart + 45*60, End: sampleStart + 57*60, Step: 60, Width: 640, Height: 240, Title: "sample",
		Defs:  []Def{{Name: "req", File: file, DS: "requests", CF: "AVERAGE"}},
		CDefs: []CDef{{Name: "rpm", RPN: []string{"req", "60", "*"}}},
		Draws: []Draw{{Type: "LINE1", Name: "rpm", Color: "0000ff", Legend: "rpm"}},
	}
}

func TestPoolGraphAndXport(t *testing.T) {
	root, file := sampleRRD(t)
	p := newPool(t, PoolOptions{Root: root, Workers: 1})
	g := rpmGraph(file)
	img, err := p.Do(context.Background(), &Request{Op: OpGraph, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if cfg.Width != 640 || cfg.Height != 240 {
		t.Fatalf("image %dx%d, want 640x240", cfg.Width, cfg.Height)
	}

	x := xportOf(t, p, g)
	// Minute 15:53 is the row ending at 15:54.
	i := (sampleStart + 54*60 - x.Start) / int64(x.Step)
	if x.Step != 60 || i < 0 || int(i) >= x.Rows || x.Row(int(i))[0] != 11 {
		t.Fatalf("xport rpm at 15:53: step %d, values %v", x.Step, x.Values)
	}
	// The same arguments through the rrdtool command agree.
	rows, err := testrrd.Xport(g.XportArgs())
	if err != nil {
		t.Fatal(err)
	}
	if v := rows[sampleStart+54*60]; len(v) != 1 || v[0] != 11 {
		t.Fatalf("rrdtool xport rpm at 15:53 = %v, want 11", v)
	}
}

func TestPoolWorkerErrors(t *testing.T) {
	root, file := sampleRRD(t)
	p := newPool(t, PoolOptions{Root: root, Workers: 1})
	g := rpmGraph(strings.Replace(file, "i.rrd", "missing.rrd", 1))
	_, err := p.Do(context.Background(), &Request{Op: OpGraph, Graph: g})
	var we *WorkerError
	if !errors.As(err, &we) || !strings.Contains(we.Msg, "missing.rrd") {
		t.Fatalf("want a worker error naming the file, got %v", err)
	}
	// The worker validates again: a file outside its root never reaches librrd.
	g = rpmGraph("/etc/passwd.rrd")
	if _, err := p.Do(context.Background(), &Request{Op: OpGraph, Graph: g}); !errors.As(err, &we) || !strings.Contains(we.Msg, "outside") {
		t.Fatalf("want refusal of a file outside the root, got %v", err)
	}
	img, err := p.Do(context.Background(), &Request{Op: OpError, Message: "open x.rrd: no such file", Width: 500, Height: 150})
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 500 || cfg.Height != 150 {
		t.Fatalf("error image: %v %+v", err, cfg)
	}
	if s := p.Stats(); s.Spawns != 1 || s.Failures != 0 {
		t.Fatalf("worker errors must not replace the worker: %+v", s)
	}
}

func TestPoolRecyclesWorkers(t *testing.T) {
	root, file := sampleRRD(t)
	p := newPool(t, PoolOptions{Root: root, Workers: 2, MaxRenders: 3})
	for range 10 {
		if _, err := p.Do(context.Background(), &Request{Op: OpGraph, Graph: rpmGraph(file)}); err != nil {
			t.Fatal(err)
		}
	}
	// Two at start; each serves at most 3, so 10 renders need at least 4.
	if s := p.Stats(); s.Spawns < 4 || s.Failures != 0 {
		t.Fatalf("stats %+v: want ≥ 4 spawns, no failures", s)
	}
}

func TestPoolTimeoutAndClose(t *testing.T) {
	root := t.TempDir()
	p, err := NewPool(PoolOptions{Root: root, Workers: 1, Command: []string{"sleep", "30"}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Start(); err == nil {
		t.Fatal("a worker that never answers must fail to start")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("start took %v despite a 200ms timeout", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Do(context.Background(), &Request{Op: OpGraph}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
}

func TestPoolCloseStopsWorkers(t *testing.T) {
	root, _ := sampleRRD(t)
	p, err := NewPool(PoolOptions{Root: root, Workers: 2, Command: []string{os.Args[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	var ws []*proc
	for range 2 {
		ws = append(ws, <-p.slots)
	}
	for _, w := range ws {
		if err := syscall.Kill(w.cmd.Process.Pid, 0); err != nil {
			t.Fatalf("worker %d not running: %v", w.cmd.Process.Pid, err)
		}
		p.slots <- w
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.cmd.ProcessState == nil || !w.cmd.ProcessState.Exited() {
			t.Fatalf("worker %d still running after Close: %v", w.cmd.Process.Pid, w.cmd.ProcessState)
		}
	}
}

// xportOf exports g through the pool.
func xportOf(t *testing.T, p *Pool, g *Graph) Xport {
	t.Helper()
	b, err := p.Do(context.Background(), &Request{Op: OpXport, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	var x Xport
	if err := x.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return x
}
