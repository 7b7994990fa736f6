package tail

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	waitFor(t, "the readable file", 5*time.Second, func() bool { return r.count() == 100 })
	waitFor(t, "errors counted", 5*time.Second, func() bool { return tl.Stats().Errors >= 2 })
	time.Sleep(200 * time.Millisecond)
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
	waitFor(t, "first lines", 5*time.Second, func() bool { return r.count() == 100 })
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	w.lines(50, 0) // still written through the open descriptor
	waitFor(t, "the directory missing, logged", 5*time.Second, func() bool { return tl.Stats().Errors > 0 })
	waitFor(t, "the deleted file retired", 5*time.Second, func() bool { return tl.Stats().Files == 0 })
	os.Mkdir(logs, 0o755)
	w2 := newLineWriter(t, filepath.Join(logs, "b.log"), "b")
	w2.lines(100, 0)
	waitAll(t, tl, r, append(w.all, w2.all...))
}

// Start returns at once with a big backlog: catch-up runs behind it, and
// its progress is logged.
func TestStartDoesNotWaitForCatchUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.log")
	lines := numbered("big", 1, 200000)
	writeFile(t, path, text(lines))
	r := newRecorder()
	o := testOpts(t, dir, r, path)
	slow := o.Handle
	o.Handle = func(l [][]byte) { time.Sleep(time.Millisecond); slow(l) }
	o.BatchLines = 500
	o.ProgressEvery = 100 * time.Millisecond
	var logged strings.Builder
	o.Logger = slogTo(&logged)
	t0 := time.Now()
	tl := start(t, o)
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Errorf("Start took %s", d)
	}
	if tl.Stats().CaughtUp || r.count() == len(lines) {
		t.Errorf("caught up before Start returned")
	}
	waitFor(t, "catch-up", 20*time.Second, func() bool { return tl.Stats().CaughtUp })
	waitAll(t, tl, r, lines)
	out := logged.String()
	if !strings.Contains(out, "msg=catch-up ") || !strings.Contains(out, "lines_per_s=") || !strings.Contains(out, `msg="catch-up done"`) {
		t.Errorf("no progress logged:\n%s", out)
	}
}
