package rrdretry

import (
	"errors"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ziutek/rrd"
)

// A real librrd fetch of a file whose exclusive lock another process
// holds is refused with "could not lock RRD"; Do tries again and gets the
// data once the lock is gone.
func TestDoWaitsForTheWriterLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.rrd")
	if out, err := exec.Command("rrdtool", "create", path, "--start", "1000000000", "--step", "1",
		"DS:v:GAUGE:2:U:U", "RRA:AVERAGE:0.5:1:100").CombinedOutput(); err != nil {
		t.Fatalf("rrdtool create: %v: %s", err, out)
	}
	// fcntl locks are per process: hold it from a child, as the writer does.
	lock := exec.Command("python3", "-c", `import fcntl,sys
f=open(sys.argv[1],"r+b"); fcntl.lockf(f,fcntl.LOCK_EX); print("locked",flush=True); sys.stdin.read()`, path)
	stdin, _ := lock.StdinPipe()
	stdout, _ := lock.StdoutPipe()
	if err := lock.Start(); err != nil {
		t.Fatal(err)
	}
	defer lock.Process.Signal(syscall.SIGKILL)
	buf := make([]byte, 7)
	if _, err := stdout.Read(buf); err != nil || string(buf[:6]) != "locked" {
		t.Fatalf("locker: %q %v", buf, err)
	}
	fetch := func() error {
		_, err := rrd.Fetch(path, "AVERAGE", time.Unix(1000000000-50, 0), time.Unix(1000000000, 0), time.Second)
		return err
	}
	if err := fetch(); !Locked(err) {
		t.Fatalf("fetch under the writer's lock: %v, want librrd's lock refusal", err)
	}
	tries := 0
	err := Do(func() error {
		tries++
		if tries == 2 {
			stdin.Close() // the writer's update is done
			lock.Wait()
		}
		return fetch()
	})
	if err != nil || tries != 2 {
		t.Fatalf("Do: %v after %d tries, want a refusal, then success once the lock is gone", err, tries)
	}
	other := errors.New("no such file")
	n := 0
	if err := Do(func() error { n++; return other }); err != other || n != 1 {
		t.Fatalf("other errors are not retried: %v after %d", err, n)
	}
	n = 0
	locked := errors.New("opening '/x': could not lock RRD")
	if err := Do(func() error { n++; return locked }); err != locked || n != Attempts {
		t.Fatalf("a lock that stays: %v after %d tries, want %d", err, n, Attempts)
	}
}
