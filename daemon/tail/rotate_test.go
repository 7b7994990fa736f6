package tail

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// Every rotation test writes lines while the tailer runs, rotates in
// between, and checks that every line written was handed over exactly
// once.

// waitAll waits until as many lines arrived as were written, then for
// more passes over the files (so a line read twice would show), and
// closes. A timeout is reported by check, with the lines missing.
func waitAll(t *testing.T, tl *Tailer, r *recorder, want []string) {
	t.Helper()
	end := time.Now().Add(20 * time.Second)
	for r.count() < len(want) && time.Now().Before(end) {
		time.Sleep(10 * time.Millisecond)
	}
	waitPasses(t, tl, 3)
	closeTailer(t, tl)
	r.check(t, want)
}

// waitPasses waits until the tailer has completed n more passes over its
// files; the first may have begun before the call, the others after it.
func waitPasses(t *testing.T, tl *Tailer, n uint64) {
	t.Helper()
	from := tl.Stats().Passes
	testwait.For(t, 10*time.Second, fmt.Sprintf("%d passes over the files", n), func() bool { return tl.Stats().Passes >= from+n })
}

// Rename plus create, as logrotate does it: the file is renamed, the
// writer goes on writing to its old descriptor for a moment (until it is
// told to reopen), then creates a new file. The renamed files still match
// the glob in one case and are moved out of it in the other.
func TestRotateRenameCreate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		glob   string
		rename func(dir string, k int) string
		// A file renamed out of the globs before any scan saw it is never
		// known: there each file lives a few polls, as a day's file does.
		pace time.Duration
	}{
		{"renamed-within-glob", "trace.log*", func(dir string, k int) string {
			return filepath.Join(dir, fmt.Sprintf("trace.log.%d", k))
		}, 200 * time.Microsecond},
		{"renamed-out-of-glob", "trace.log", func(dir string, k int) string {
			return filepath.Join(dir, "old", fmt.Sprintf("trace.log.%d", k))
		}, 15 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "old"), 0o755)
			r := newRecorder()
			tl := start(t, testOpts(t, dir, r, filepath.Join(dir, tc.glob)))
			w := newLineWriter(t, filepath.Join(dir, "trace.log"), "a")
			for k := 1; k <= 15; k++ {
				w.lines(150, tc.pace)
				if err := os.Rename(w.path, tc.rename(dir, k)); err != nil {
					t.Fatal(err)
				}
				w.lines(20, 100*time.Microsecond) // before the writer reopens
				w.reopen()
			}
			w.lines(100, 0)
			waitAll(t, tl, r, w.all)
			if st := tl.Stats(); st.Rotations == 0 && tc.glob == "trace.log" {
				t.Errorf("no rotation counted: %+v", st)
			}
		})
	}
}

// Copy plus truncate (logrotate's copytruncate): the content is copied to
// a new file and the file is cut to zero under the writer. The copy holds
// what was not read yet; the tailer reads it from where it had got to in
// the original. A writer without O_APPEND goes on at its old offset and
// leaves a hole of NULs.
func TestRotateCopyTruncate(t *testing.T) {
	for _, appendMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("append=%v", appendMode), func(t *testing.T) {
			dir := t.TempDir()
			r := newRecorder()
			tl := start(t, testOpts(t, dir, r, filepath.Join(dir, "trace.log*")))
			w := newLineWriter(t, filepath.Join(dir, "trace.log"), "c")
			if !appendMode {
				w.append = false
				w.reopen()
			}
			for k := 1; k <= 15; k++ {
				w.lines(150+k*7, 200*time.Microsecond)
				copyFile(t, w.path, filepath.Join(dir, fmt.Sprintf("trace.log.%d", k)))
				if err := os.Truncate(w.path, 0); err != nil {
					t.Fatal(err)
				}
			}
			w.lines(100, 0)
			waitAll(t, tl, r, w.all)
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// A new file per day (syslog-ng's file("...$YEAR$MONTH$DAY.log")): new
// names appear and are matched by the glob, old ones stay.
func TestRotateDatedFiles(t *testing.T) {
	dir := t.TempDir()
	r := newRecorder()
	o := testOpts(t, dir, r, filepath.Join(dir, "trace-*.log"))
	o.IdleClose = 200 * time.Millisecond // old days get their descriptor closed
	tl := start(t, o)
	var all []string
	for day := 1; day <= 12; day++ {
		w := newLineWriter(t, filepath.Join(dir, fmt.Sprintf("trace-202401%02d.log", day)), fmt.Sprintf("d%02d", day))
		w.lines(200, 200*time.Microsecond)
		all = append(all, w.all...)
	}
	testwait.For(t, 5*time.Second, "idle descriptors closed", func() bool { return tl.Stats().Open < 12 })
	waitAll(t, tl, r, all)
	if st := tl.Stats(); st.Files != 12 {
		t.Errorf("files followed: %+v", st)
	}
}

// A half-written last line is not handed over until its '\n' arrives,
// also across a restart in between.
func TestPartialLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.log")
	writeFile(t, path, "p 1 full line\np 2 half")
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	tl := start(t, o)
	testwait.For(t, 5*time.Second, "first line", func() bool { return r.count() == 1 })
	testwait.For(t, 10*time.Second, "a checkpoint after the first line", func() bool { return tl.Stats().Checkpoints >= 1 })
	waitPasses(t, tl, 3)
	appendFile(t, path, " written")
	waitPasses(t, tl, 3)
	if r.count() != 1 {
		t.Fatalf("a partial line was handed over: %v", r.seen)
	}
	closeTailer(t, tl)

	r2 := newRecorder()
	o.Handle, o.Checkpoint, o.Restore = r2.Handle, r2.Checkpoint, r2.Restore
	tl = start(t, o)
	waitPasses(t, tl, 3)
	if r2.count() != 1 {
		t.Fatalf("after restart, a partial line was handed over: %v", r2.seen)
	}
	appendFile(t, path, " and done\np 3 next")
	appendFile(t, path, "\n")
	testwait.For(t, 5*time.Second, "the completed lines", func() bool { return r2.count() == 3 })
	waitAll(t, tl, r2, []string{"p 1 full line", "p 2 half written and done", "p 3 next"})
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// Lines longer than MaxLine are counted and skipped, whatever blocks they
// straddle; the lines around them are intact.
func TestOversizeLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.log")
	var b strings.Builder
	var want []string
	for i := range 300 {
		if i%7 == 3 {
			b.WriteString(strings.Repeat("y", 100+i*37) + "\n") // 211 to 11163 bytes
			continue
		}
		l := fmt.Sprintf("o %04d ok", i)
		want = append(want, l)
		b.WriteString(l + "\n")
	}
	writeFile(t, path, b.String())
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	o.MaxLine, o.BlockSize = 200, 1000 // lines straddle blocks and span several
	tl := start(t, o)
	testwait.For(t, 5*time.Second, "lines", func() bool { return r.count() >= len(want) })
	// A growing oversize line stays skipped once it ends.
	appendFile(t, path, strings.Repeat("z", 500))
	waitPasses(t, tl, 2)
	appendFile(t, path, strings.Repeat("z", 500)+"\no tail ok\n")
	want = append(want, "o tail ok")
	waitAll(t, tl, r, want)
	if st := tl.Stats(); st.Oversize != 300/7+1+1 {
		t.Errorf("oversize = %d, want %d", st.Oversize, 300/7+2)
	}
}

// copytruncate seen mid-copy: a scan finds the copy while it is still being
// written (shorter than what was read of the original), then the copy is
// completed and the original cut. The copy holds nothing new, and nothing
// of it may be handed over again (it once was, for the lines between the
// copy's size at the scan and the original's offset).
func TestCopySeenMidCopy(t *testing.T) {
	dir := t.TempDir()
	r := newRecorder()
	tl := start(t, testOpts(t, dir, r, filepath.Join(dir, "trace.log*")))
	w := newLineWriter(t, filepath.Join(dir, "trace.log"), "m")
	w.lines(300, 0)
	testwait.For(t, 5*time.Second, "the first lines", func() bool { return r.count() == 300 })
	data, err := os.ReadFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "trace.log.1")
	writeFile(t, copyPath, string(data[:len(data)/3]))  // the copy, a third done
	waitPasses(t, tl, 3)                                // scanned at that size
	appendFile(t, copyPath, string(data[len(data)/3:])) // the copy is done
	if err := os.Truncate(w.path, 0); err != nil {      // then the cut
		t.Fatal(err)
	}
	w.lines(50, 0) // O_APPEND: after the cut
	waitAll(t, tl, r, w.all)
}
