package tail

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
)

// Tracelog lines through every rotation form at once, into the real
// aggregator and RRD files, while they are being written: the files equal
// those made by feeding the same lines straight into an aggregator.
func TestRotationsThroughStore(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	var gen bytes.Buffer
	if err := genTrace(&gen, 30000, 6, t0, 50, 1); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(gen.String(), "\n")
	lines = lines[:len(lines)-1] // the empty rest after the last newline

	direct := t.TempDir()
	sf, err := newStoreFeed(direct, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sf.agg.Start()
	for i := 0; i < len(lines); i += 1000 {
		var batch [][]byte
		for _, l := range lines[i:min(i+1000, len(lines))] {
			batch = append(batch, []byte(strings.TrimSuffix(l, "\n")))
		}
		sf.Handle(batch)
	}
	if err := sf.close(context.Background()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	tf, err := newStoreFeed(filepath.Join(dir, "rrd"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	o := testOpts(t, dir, newRecorder(), filepath.Join(logs, "trace*"))
	o.Handle, o.Checkpoint, o.Restore = tf.Handle, tf.agg.Checkpoint, tf.agg.Restore
	tl := start(t, o)
	tf.agg.Start()

	// Six phases of 5,000 lines, each ended by a rotation of another form.
	path := filepath.Join(logs, "trace.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	phase := len(lines) / 6
	for p := range 6 {
		for i, l := range lines[p*phase : (p+1)*phase] {
			if i > 0 && i%500 == 0 {
				// A half-written line, completed a moment later.
				f.WriteString(l[:len(l)/2])
				time.Sleep(2 * time.Millisecond)
				f.WriteString(l[len(l)/2:])
				continue
			}
			f.WriteString(l)
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		switch p % 3 {
		case 0: // rename and create
			os.Rename(path, filepath.Join(logs, fmt.Sprintf("trace.log.%d", p)))
			f.Close()
			f, _ = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		case 1: // copy and truncate
			copyFile(t, path, filepath.Join(logs, fmt.Sprintf("trace.log.%d", p)))
			os.Truncate(path, 0)
		case 2: // a new dated file; the old one stays
			f.Close()
			path = filepath.Join(logs, fmt.Sprintf("trace-2024030%d.log", p))
			f, _ = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		}
	}
	f.Close()
	testwait.For(t, 20*time.Second, "every line", func() bool { return tl.Stats().Lines >= uint64(len(lines)) })
	waitPasses(t, tl, 3)
	closeTailer(t, tl)
	if err := tf.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := tl.Stats(); st.Lines != uint64(len(lines)) || tf.bad != 0 {
		t.Fatalf("%d lines handed over, %d bad, want %d", st.Lines, tf.bad, len(lines))
	}

	files := rrdFiles(t, direct)
	if len(files) != 6 {
		t.Fatalf("direct feed wrote %v", files)
	}
	from, to := t0.Add(-time.Minute).Unix(), t0.Add(20*time.Minute).Unix()
	for _, f := range files {
		a, b := fetch(t, filepath.Join(direct, f), from, to), fetch(t, filepath.Join(dir, "rrd", f), from, to)
		if a != b {
			t.Errorf("%s: tailed through rotations differs from the straight feed:\n%s", f, diffLines(a, b))
		}
	}
}
