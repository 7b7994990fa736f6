package tail

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash tests run the tailer in a child process (this test binary,
// started with GM_TAIL_HELPER set) and kill it with SIGKILL: nothing of
// the process survives but the files.
func TestMain(m *testing.M) {
	if mode := os.Getenv("GM_TAIL_HELPER"); mode != "" {
		if err := helper(mode); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if backlog.dir != "" {
		os.RemoveAll(backlog.dir) // the benchmark's generated files
	}
	os.Exit(code)
}

// helper follows GM_TAIL_GLOB until SIGTERM, handing lines to a recorder
// (whose lines it then writes to GM_TAIL_OUT) or to a real aggregator
// writing RRD files under GM_TAIL_RRD. Handle is slowed down so that the
// kills land in the middle of files.
func helper(mode string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	o := Options{
		Paths:              []string{os.Getenv("GM_TAIL_GLOB")},
		StateFile:          os.Getenv("GM_TAIL_STATE"),
		PollInterval:       50 * time.Millisecond,
		CheckpointInterval: 100 * time.Millisecond,
		BatchLines:         256,
		MaxLine:            4096,
		BlockSize:          16 << 10, // checkpoints fall between blocks: many of them
		Logger:             slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	slow := func(h func([][]byte)) func([][]byte) {
		return func(l [][]byte) { time.Sleep(5 * time.Millisecond); h(l) }
	}
	var (
		r  *recorder
		sf *storeFeed
	)
	switch mode {
	case "recorder":
		r = newRecorder()
		o.Handle, o.Checkpoint, o.Restore = slow(r.Handle), r.Checkpoint, r.Restore
	case "store":
		var err error
		if sf, err = newStoreFeed(os.Getenv("GM_TAIL_RRD"), time.Second); err != nil {
			return err
		}
		o.Handle, o.Checkpoint, o.Restore = slow(sf.Handle), sf.agg.Checkpoint, sf.agg.Restore
	default:
		return fmt.Errorf("mode %q", mode)
	}
	tl, err := New(o)
	if err != nil {
		return err
	}
	if err := tl.Start(); err != nil {
		return err
	}
	if sf != nil {
		sf.agg.Start()
	}
	fmt.Println("started")
	go func() {
		var ckpts uint64
		caughtUp := false
		for {
			st := tl.Stats()
			if st.Checkpoints != ckpts {
				ckpts = st.Checkpoints
				fmt.Println("checkpoint")
			}
			if st.CaughtUp && !caughtUp {
				caughtUp = true
				fmt.Println("caught-up")
			}
			time.Sleep(time.Millisecond)
		}
	}()
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tl.Close(cctx); err != nil {
		return err
	}
	if sf != nil {
		if sf.bad > 0 {
			return fmt.Errorf("%d lines did not parse", sf.bad)
		}
		return sf.close(cctx)
	}
	data, err := json.Marshal(r.seen)
	if err != nil {
		return err
	}
	return os.WriteFile(os.Getenv("GM_TAIL_OUT"), data, 0o644)
}

type child struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

func startChild(t *testing.T, mode, dir, glob string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GM_TAIL_HELPER="+mode, "GM_TAIL_GLOB="+glob,
		"GM_TAIL_STATE="+filepath.Join(dir, "state", "tail.json"),
		"GM_TAIL_OUT="+filepath.Join(dir, "result.json"), "GM_TAIL_RRD="+filepath.Join(dir, "rrd"))
	cmd.Stderr = tWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, lines: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		c.done <- cmd.Wait()
	}()
	c.expect("started")
	return c
}

func (c *child) expect(what string) {
	c.t.Helper()
	for {
		select {
		case l := <-c.lines:
			if l == what {
				return
			}
		case err := <-c.done:
			c.t.Fatalf("child ended (%v) before %q", err, what)
		case <-time.After(60 * time.Second):
			c.t.Fatalf("child: no %q", what)
		}
	}
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

func (c *child) term() {
	c.t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-c.done; err != nil {
		c.t.Fatalf("child: %v", err)
	}
}

// afterCheckpoints waits until the child has written n more snapshots.
func (c *child) afterCheckpoints(n int) {
	c.t.Helper()
	for range n {
		c.expect("checkpoint")
	}
}

// Killed with SIGKILL again and again in the middle of files (and once
// right after starting), with the files growing and rotating between the
// runs: every line is handed over exactly once in the end.
func TestKillRestartExactlyOnce(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	var want []string
	for i := 1; i <= 3; i++ {
		l := numbered(fmt.Sprintf("f%d", i), 1, 20000)
		writeFile(t, filepath.Join(logs, fmt.Sprintf("f%d.log", i)), text(l))
		want = append(want, l...)
	}
	glob := filepath.Join(logs, "*")
	for round, n := range []int{2, 1, 3, 0, 2} {
		c := startChild(t, "recorder", dir, glob)
		c.afterCheckpoints(n)
		c.kill()
		switch round {
		case 1:
			more := numbered("f1", 20001, 21000)
			appendFile(t, filepath.Join(logs, "f1.log"), text(more))
			want = append(want, more...)
		case 2:
			os.Rename(filepath.Join(logs, "f2.log"), filepath.Join(logs, "f2.log.1"))
			l := numbered("f2new", 1, 500)
			writeFile(t, filepath.Join(logs, "f2.log"), text(l))
			want = append(want, l...)
		}
	}
	c := startChild(t, "recorder", dir, glob)
	c.expect("caught-up")
	c.term()
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	if err := r.Restore(data); err != nil {
		t.Fatal(err)
	}
	r.check(t, want)
}

// The same with the real aggregator and RRD files: every per-second value
// of every instance equals that of a run that was never killed.
func TestKillRestartRRDEqual(t *testing.T) {
	skipShort(t)
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	gen := func(dir string) string {
		logs := filepath.Join(dir, "logs")
		os.Mkdir(logs, 0o755)
		for i := range 2 {
			if err := genFile(filepath.Join(logs, fmt.Sprintf("day%d.log", i)), 50000, 12,
				t0.Add(time.Duration(i)*10*time.Minute), 40, uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(logs, "*.log")
	}
	clean := t.TempDir()
	c := startChild(t, "store", clean, gen(clean))
	c.expect("caught-up")
	c.term()

	killed := t.TempDir()
	glob := gen(killed)
	for _, n := range []int{3, 2, 4} {
		c := startChild(t, "store", killed, glob)
		c.afterCheckpoints(n)
		c.kill()
	}
	c = startChild(t, "store", killed, glob)
	c.expect("caught-up")
	c.term()

	files := rrdFiles(t, filepath.Join(clean, "rrd"))
	if len(files) != 12 {
		t.Fatalf("clean run wrote %d RRD files, want 12", len(files))
	}
	if got := rrdFiles(t, filepath.Join(killed, "rrd")); strings.Join(got, " ") != strings.Join(files, " ") {
		t.Fatalf("killed run wrote %v, clean run %v", got, files)
	}
	from, to := t0.Add(-time.Minute).Unix(), t0.Add(40*time.Minute).Unix()
	for _, f := range files {
		a := fetch(t, filepath.Join(clean, "rrd", f), from, to)
		b := fetch(t, filepath.Join(killed, "rrd", f), from, to)
		if a != b {
			t.Errorf("%s differs after kills:\n%s", f, diffLines(a, b))
		}
		if !strings.Contains(a, "e+00") {
			t.Errorf("%s: no values: %s", f, lastLines(a, 3))
		}
	}
}

func rrdFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".rrd") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// fetch is rrdtool's own reading of the 1 s archive.
func fetch(t *testing.T, path string, from, to int64) string {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", path, "AVERAGE", "-r", "1",
		"-s", fmt.Sprint(from), "-e", fmt.Sprint(to)).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch %s: %v\n%s", path, err, out)
	}
	return string(out)
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var d []string
	for i := 0; i < max(len(al), len(bl)) && len(d) < 10; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			d = append(d, "- "+x, "+ "+y)
		}
	}
	return strings.Join(d, "\n")
}
