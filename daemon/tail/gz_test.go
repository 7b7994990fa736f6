package tail

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s %05d %s", prefix, i, strings.Repeat("g", i%40)))
	}
	return out
}

func text(lines []string) string { return strings.Join(lines, "\n") + "\n" }

func gz(t *testing.T, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, m := range members {
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(m))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// settled writes a .gz whose mtime is old enough to be read at once.
func settled(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(path, old, old)
}

// A backlog of .gz files (one of two gzip members, one whose last line
// has no '\n') is read once next to the plain file; a restart reads none
// of it again.
func TestGZCatchUp(t *testing.T) {
	dir := t.TempDir()
	a, b1, b2, c := numbered("a", 1, 700), numbered("b", 1, 300), numbered("b", 301, 500), numbered("c", 1, 200)
	settled(t, filepath.Join(dir, "trace.log.3.gz"), gz(t, strings.TrimSuffix(text(a), "\n")))
	settled(t, filepath.Join(dir, "trace.log.2.gz"), gz(t, text(b1), text(b2)))
	writeFile(t, filepath.Join(dir, "trace.log"), text(c))
	want := append(append(append(append([]string{}, a...), b1...), b2...), c...)

	r := newRecorder()
	o := testOpts(t, dir, r, filepath.Join(dir, "trace.log*"))
	tl := start(t, o)
	waitAll(t, tl, r, want)

	// Restart: only the new lines of the plain file are read.
	r2 := newRecorder()
	o.Handle, o.Checkpoint, o.Restore = r2.Handle, r2.Checkpoint, r2.Restore
	tl = start(t, o)
	more := numbered("c", 201, 250)
	appendFile(t, filepath.Join(dir, "trace.log"), text(more))
	waitAll(t, tl, r2, append(want, more...))
}

// logrotate with compress: the followed file is renamed, the writer
// reopens, the renamed file is gzipped (the .gz grows for a while) and
// deleted. The .gz holds nothing new and is not read again; a .gz of a
// file that was read only in part is read from where that file ended.
func TestGZOfRotatedFile(t *testing.T) {
	dir := t.TempDir()
	r := newRecorder()
	o := testOpts(t, dir, r, filepath.Join(dir, "trace.log*"))
	tl := start(t, o)
	w := newLineWriter(t, filepath.Join(dir, "trace.log"), "z")
	for k := 1; k <= 3; k++ {
		w.lines(300, 200*time.Microsecond)
		rotated := filepath.Join(dir, fmt.Sprintf("trace.log.%d", k))
		if err := os.Rename(w.path, rotated); err != nil {
			t.Fatal(err)
		}
		w.lines(10, 0)
		w.reopen()
		w.lines(50, 0)
		data, err := os.ReadFile(rotated)
		if err != nil {
			t.Fatal(err)
		}
		// gzip writes its output over a while: a reader must not take
		// the first part for the whole.
		z := gz(t, string(data))
		gzPath := rotated + ".gz"
		os.WriteFile(gzPath, z[:len(z)/2], 0o644)
		waitPasses(t, tl, 2) // the tailer sees the half-written .gz
		appendFile(t, gzPath, string(z[len(z)/2:]))
		os.Remove(rotated)
	}
	w.lines(100, 0)
	// The .gz files settle (unchanged for gzSettle) before they are looked
	// at; waitAll then waits for passes after that.
	testwait.For(t, 10*time.Second, "the .gz files settled", func() bool {
		gzs, _ := filepath.Glob(filepath.Join(dir, "*.gz"))
		for _, p := range gzs {
			if fi, err := os.Stat(p); err != nil || time.Since(fi.ModTime()) <= gzSettle {
				return false
			}
		}
		return len(gzs) == 3
	})
	waitAll(t, tl, r, w.all)

	// Stopped part-way through a file that is then compressed and removed
	// while the daemon is down: the .gz is read from where it ended.
	r2 := newRecorder()
	o.Handle, o.Checkpoint, o.Restore = r2.Handle, r2.Checkpoint, r2.Restore
	tl = start(t, o)
	w.lines(40, 0)
	testwait.For(t, 5*time.Second, "lines", func() bool { return r2.count() == len(w.all) })
	closeTailer(t, tl)
	w.lines(25, 0) // not read before the compression
	data, err := os.ReadFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	settled(t, w.path+".gz", gz(t, string(data)))
	os.Remove(w.path)
	r3 := newRecorder()
	o.Handle, o.Checkpoint, o.Restore = r3.Handle, r3.Checkpoint, r3.Restore
	tl = start(t, o)
	waitAll(t, tl, r3, w.all)
}
