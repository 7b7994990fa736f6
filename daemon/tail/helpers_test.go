package tail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder stands in for an aggregator whose state is the multiset of
// lines it has been handed: restoring it and comparing it with what was
// written proves every line arrived exactly once.
type recorder struct {
	mu    sync.Mutex
	seen  map[string]int
	total int
}

func newRecorder() *recorder { return &recorder{seen: map[string]int{}} }

func (r *recorder) Handle(lines [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range lines {
		if bytes.IndexByte(l, '\n') >= 0 {
			panic(fmt.Sprintf("line with newline: %q", l))
		}
		r.seen[string(l)]++
		r.total++
	}
}

func (r *recorder) Checkpoint(context.Context) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return json.Marshal(r.seen)
}

func (r *recorder) Restore(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = map[string]int{}
	if err := json.Unmarshal(b, &r.seen); err != nil {
		return err
	}
	r.total = 0
	for _, n := range r.seen {
		r.total += n
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// check compares the lines seen with want: each exactly once, nothing else.
func (r *recorder) check(t *testing.T, want []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var missing, twice, extra []string
	wantSet := make(map[string]bool, len(want))
	for _, w := range want {
		wantSet[w] = true
		switch n := r.seen[w]; {
		case n == 0:
			missing = append(missing, w)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s (×%d)", w, n))
		}
	}
	for l := range r.seen {
		if !wantSet[l] {
			extra = append(extra, l)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(twice)
	if len(missing)+len(twice)+len(extra) > 0 {
		t.Errorf("%d lines written, %d handed over: %d missing %v, %d more than once %v, %d unexpected %v",
			len(want), r.total, len(missing), head(missing), len(twice), head(twice), len(extra), head(extra))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// testOpts are options for fast tests: short intervals, a state file in dir.
func testOpts(t *testing.T, dir string, r *recorder, paths ...string) Options {
	return Options{
		Paths:              paths,
		PollInterval:       50 * time.Millisecond,
		StateFile:          filepath.Join(dir, "state", "tail.json"),
		Handle:             r.Handle,
		Checkpoint:         r.Checkpoint,
		Restore:            r.Restore,
		CheckpointInterval: 100 * time.Millisecond,
		OrphanGrace:        300 * time.Millisecond,
		Logger:             testLogger(t),
	}
}

// testLogger logs to the test, at Debug, so failures show the story.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// skipShort skips an end-to-end test (processes killed and restarted)
// in the quick tier.
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end (kills and restarts processes): skipped with -short")
	}
}

func start(t *testing.T, o Options) *Tailer {
	t.Helper()
	tl, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close(context.Background()) })
	return tl
}

func closeTailer(t *testing.T, tl *Tailer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tl.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// lineWriter appends numbered lines to a file the way syslog-ng does:
// one write per line, through a descriptor it keeps until told to reopen.
type lineWriter struct {
	t      *testing.T
	path   string
	f      *os.File
	name   string
	n      int
	all    []string
	append bool // O_APPEND (syslog-ng, and what copytruncate needs)
}

func newLineWriter(t *testing.T, path, name string) *lineWriter {
	w := &lineWriter{t: t, path: path, name: name, append: true}
	w.reopen()
	t.Cleanup(func() {
		if w.f != nil {
			w.f.Close()
		}
	})
	return w
}

func (w *lineWriter) reopen() {
	if w.f != nil {
		w.f.Close()
	}
	flag := os.O_WRONLY | os.O_CREATE
	if w.append {
		flag |= os.O_APPEND
	}
	f, err := os.OpenFile(w.path, flag, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

// line writes the next line and returns it (without '\n').
func (w *lineWriter) line() string {
	w.n++
	l := fmt.Sprintf("%s %07d %s", w.name, w.n, strings.Repeat("x", w.n%50))
	if _, err := w.f.Write([]byte(l + "\n")); err != nil {
		w.t.Fatal(err)
	}
	w.all = append(w.all, l)
	return l
}

// lines writes n lines, pausing for every after each tenth.
func (w *lineWriter) lines(n int, every time.Duration) {
	for i := range n {
		w.line()
		if every > 0 && i%10 == 9 {
			time.Sleep(every)
		}
	}
}

func writeFile(t *testing.T, path string, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// slogTo logs into b (safe for the tailer's goroutines).
func slogTo(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(&lockedWriter{b: b}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b == nil {
		w.b = &strings.Builder{}
	}
	return w.b.Write(p)
}

// String is what was written so far.
func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b == nil {
		return ""
	}
	return w.b.String()
}
