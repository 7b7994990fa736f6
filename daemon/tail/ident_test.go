package tail

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// A file is deleted while the daemon is down and a longer one is created
// under the same path and the same inode number (ext4 hands a freed inode
// out again at once). Device+inode alone would resume the new file at the
// old one's offset; the fingerprint of its head says it is another file.
func TestReusedInode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.log")
	a := numbered("a", 1, 50)
	writeFile(t, path, text(a))
	ino := inode(t, path)
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	tl := start(t, o)
	waitAll(t, tl, r, a)

	b := numbered("b", 1, 200)
	reused := false
	for range 200 {
		os.Remove(path)
		writeFile(t, path, text(b))
		if inode(t, path) == ino {
			reused = true
			break
		}
		// Take other inode numbers out of the way and try again.
		os.Rename(path, filepath.Join(dir, "parked"+time.Now().Format("150405.000000000")))
	}
	if !reused {
		t.Fatalf("the file system never reused inode %d", ino)
	}
	for _, p := range mustGlob(t, filepath.Join(dir, "parked*")) {
		os.Remove(p)
	}
	r2 := newRecorder()
	o.Handle, o.Checkpoint, o.Restore = r2.Handle, r2.Checkpoint, r2.Restore
	tl = start(t, o)
	waitAll(t, tl, r2, append(a, b...))
}

func mustGlob(t *testing.T, p string) []string {
	t.Helper()
	m, err := filepath.Glob(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Unreadable files and directories are logged and retried; once their
// permissions are fixed they are read, exactly once. Root reads anything,
// so as root the test runs itself again as nobody.
func TestPermissionErrors(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestPermissionErrors")
		return
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	locked := filepath.Join(dir, "locked.log")
	writeFile(t, locked, text(numbered("l", 1, 100)))
	os.Chmod(locked, 0)
	inSub := filepath.Join(sub, "trace.log")
	writeFile(t, inSub, text(numbered("s", 1, 100)))
	os.Chmod(sub, 0)
	open := filepath.Join(dir, "open.log")
	writeFile(t, open, text(numbered("o", 1, 100)))

	r := newRecorder()
	tl := start(t, testOpts(t, dir, r, filepath.Join(dir, "*.log"), filepath.Join(sub, "*.log")))
	testwait.For(t, 5*time.Second, "the readable file", func() bool { return r.count() == 100 })
	testwait.For(t, 5*time.Second, "errors counted", func() bool { return tl.Stats().Errors >= 2 })
	waitPasses(t, tl, 3)
	if r.count() != 100 {
		t.Fatalf("read %d lines with two sources locked", r.count())
	}
	os.Chmod(locked, 0o644)
	os.Chmod(sub, 0o755)
	want := append(append(numbered("o", 1, 100), numbered("l", 1, 100)...), numbered("s", 1, 100)...)
	waitAll(t, tl, r, want)
}

// runAsNobody runs one test of this binary again as user nobody, from a
// copy of the binary and a temp dir nobody can use.
func runAsNobody(t *testing.T, name string) {
	tmp, err := os.MkdirTemp("", "tail-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	os.Chmod(tmp, 0o777)
	bin := filepath.Join(tmp, "tail.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HOME="+tmp)
	cmd.Dir = tmp
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", lastLines(string(out), 5))
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// The directory is deleted under the tailer and created again: the files
// it held are read to their end, the new ones from the start, and the
// tailer keeps running.
func TestDeletedDirectory(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	r := newRecorder()
	tl := start(t, testOpts(t, dir, r, filepath.Join(logs, "*.log")))
	w := newLineWriter(t, filepath.Join(logs, "a.log"), "a")
	w.lines(100, 0)
	testwait.For(t, 5*time.Second, "first lines", func() bool { return r.count() == 100 })
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	w.lines(50, 0) // still written through the open descriptor
	testwait.For(t, 5*time.Second, "the directory missing, logged", func() bool { return tl.Stats().Errors > 0 })
	testwait.For(t, 5*time.Second, "the deleted file retired", func() bool { return tl.Stats().Files == 0 })
	os.Mkdir(logs, 0o755)
	w2 := newLineWriter(t, filepath.Join(logs, "b.log"), "b")
	w2.lines(100, 0)
	waitAll(t, tl, r, append(w.all, w2.all...))
}

// Start returns with a big backlog still unread: catch-up runs behind it,
// its state shows in Stats, and its progress is logged. The handler is
// held until the test has looked at the state, so nothing here depends on
// how fast the machine is.
func TestStartDoesNotWaitForCatchUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.log")
	lines := numbered("big", 1, 200000) // 6.2 MB: more than the blocks in flight
	writeFile(t, path, text(lines))
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	release := make(chan struct{})
	slow := o.Handle
	o.Handle = func(l [][]byte) { <-release; slow(l) }
	o.BatchLines = 500
	o.ProgressEvery = time.Nanosecond // every block of a long pass logs
	var logged lockedWriter
	o.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	tl, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() { started <- tl.Start() }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Start waits for the catch-up")
	}
	t.Cleanup(func() { tl.Close(context.Background()) })
	// The reader fills the blocks in flight and waits for the handler.
	testwait.For(t, 10*time.Second, "a partly read backlog", func() bool {
		st := tl.Stats()
		return st.Lines > 0 && st.Backlog > 0
	})
	if st := tl.Stats(); st.CaughtUp || r.count() != 0 {
		t.Fatalf("with the handler held: caught up %v, %d lines handled", st.CaughtUp, r.count())
	}
	close(release)
	testwait.For(t, 20*time.Second, "catch-up", func() bool { return tl.Stats().CaughtUp })
	if st := tl.Stats(); st.Backlog != 0 {
		t.Errorf("caught up with a backlog of %d bytes", st.Backlog)
	}
	waitAll(t, tl, r, lines)
	out := logged.String()
	if !strings.Contains(out, "msg=catch-up ") || !strings.Contains(out, "lines_per_s=") || !strings.Contains(out, `msg="catch-up done"`) {
		t.Errorf("no progress logged:\n%s", out)
	}
}
