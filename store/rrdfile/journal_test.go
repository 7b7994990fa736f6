package rrdfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"graphmetrics/store"
)

// tornUpdate leaves path as a process killed inside librrd's update would:
// the journal of the call (rows, last one at end) saved, all rows but the
// last applied, and the last one's row pointer of the 1 s archive (the
// first) moved without last_update following (librrd 1.7's order).
func tornUpdate(t *testing.T, dir, path string, rows []string, end int64) {
	t.Helper()
	hs, err := LibRRD{}.HeaderSize(path)
	if err != nil {
		t.Fatal(err)
	}
	ino, err := fileInode(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(journalPath(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if err := j.save(path, ino, hs, end); err != nil {
		t.Fatal(err)
	}
	if err := (LibRRD{}).Update(path, rows[:len(rows)-1]); err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	// rra_ptr (one unsigned long per archive) ends the header.
	off := hs - int64(8*len(store.DefaultTracelogArchives()))
	var b [8]byte
	if _, err := fh.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	rows1s := uint64(3 * time.Hour / time.Second)
	cur := binary.NativeEndian.Uint64(b[:])
	if cur >= rows1s {
		t.Fatalf("rra_ptr %d: not where the header ends", cur)
	}
	binary.NativeEndian.PutUint64(b[:], (cur+1)%rows1s)
	if _, err := fh.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func TestWriterJournalRepairsTornUpdate(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	k := store.Key{Host: "h", Customer: "c", Instance: "i"}
	bs := testBuckets(start, 500)
	quiet := slog.New(slog.DiscardHandler)
	write := func(dir string, parts ...[]store.Bucket) {
		w := newTestWriter(t, WriterOptions{DataDir: dir, Workers: 1, Logger: quiet})
		for _, p := range parts {
			if err := w.WriteBuckets(k, p); err != nil {
				t.Fatal(err)
			}
			syncW(t, w)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The reference is a copy updated without a crash (librrd starts each
	// archive at a random row, so only a copy can be compared byte-wise).
	refDir, dir := t.TempDir(), t.TempDir()
	write(dir, bs[:300])
	ref, path := store.TracelogFile(refDir, k), store.TracelogFile(dir, k)
	pre, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ref, pre, 0o644); err != nil {
		t.Fatal(err)
	}
	write(refDir, bs[300:])
	if jb, err := os.ReadFile(journalPath(dir, 0)); err != nil || len(jb) == 0 || bytes.HasPrefix(jb, []byte(journalMagic)) {
		t.Fatalf("journal after a clean run: %d bytes, %v", len(jb), err)
	}

	hs, err := LibRRD{}.HeaderSize(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for i := range bs[300:] {
		rows = append(rows, string(appendBucketRow(nil, &bs[300+i])))
	}
	end := bs[499].Time + 1
	tornUpdate(t, dir, path, rows, end)

	// The torn file is valid for librrd but its 1 s rows read one step early.
	last := bs[498].Time + 1
	torn := fetch(t, path, "AVERAGE", 1, last-50, last)
	shifted := 0
	for i := 449; i < 499; i++ {
		if v, ok := torn[bs[i].Time+1]; ok && !sameValues(v, bucketValues(bs[i])) {
			shifted++
		}
	}
	if shifted == 0 {
		t.Fatal("simulated tear did not shift the 1 s archive")
	}

	// Restart: the header comes back, then the replay writes the rows again.
	w := newTestWriter(t, WriterOptions{DataDir: dir, Workers: 1, Logger: quiet})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:hs], pre[:hs]) {
		t.Fatal("header not restored to its state before the torn call")
	}
	if info, err := (LibRRD{}).Info(path); err != nil || info.Last != bs[299].Time+1 {
		t.Fatalf("last update after recovery %+v, %v; want %d", info, err, bs[299].Time+1)
	}
	if jb, err := os.ReadFile(journalPath(dir, 0)); err != nil || bytes.HasPrefix(jb, []byte(journalMagic)) {
		t.Fatalf("journal after recovery not cleared: %v", err)
	}
	if err := w.WriteBuckets(k, bs); err != nil { // whole replay: old rows skipped
		t.Fatal(err)
	}
	syncW(t, w)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	for _, a := range []struct {
		cf  string
		res int64
	}{{"AVERAGE", 1}, {"AVERAGE", 60}, {"MAX", 60}, {"AVERAGE", 3600}, {"MAX", 3600}} {
		want := fetch(t, ref, a.cf, a.res, start-3600, end)
		have := fetch(t, path, a.cf, a.res, start-3600, end)
		if len(want) == 0 || len(want) != len(have) {
			t.Fatalf("%s/%d: %d rows, want %d", a.cf, a.res, len(have), len(want))
		}
		for ts, v := range want {
			if !sameValues(have[ts], v) {
				t.Fatalf("%s/%d at %d: %v, want %v", a.cf, a.res, ts, have[ts], v)
			}
		}
	}
	if fileHash(t, path) != fileHash(t, ref) {
		t.Fatal("replayed file differs from an uninterrupted run")
	}
}

// A journal of a call that finished, of a file recreated since, or torn
// itself (the kill came while it was written) must not touch the file.
func TestJournalLeavesFinishedAndOtherFiles(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	dir := t.TempDir()
	k := store.Key{Host: "h", Customer: "c", Instance: "i"}
	bs := testBuckets(start, 20)
	w := newTestWriter(t, WriterOptions{DataDir: dir, Workers: 1})
	if err := w.WriteBuckets(k, bs[:10]); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	w.Close(context.Background())
	path := store.TracelogFile(dir, k)
	hs, err := LibRRD{}.HeaderSize(path)
	if err != nil {
		t.Fatal(err)
	}
	ino, err := fileInode(path)
	if err != nil {
		t.Fatal(err)
	}
	jpath := journalPath(dir, 0)
	saveThenUpdate := func(ino uint64, drop int) {
		j, err := openJournal(jpath)
		if err != nil {
			t.Fatal(err)
		}
		defer j.close()
		b := bs[10:]
		end := b[len(b)-1].Time + 1
		if err := j.save(path, ino, hs, end); err != nil {
			t.Fatal(err)
		}
		var rows []string
		for i := range b {
			rows = append(rows, string(appendBucketRow(nil, &b[i])))
		}
		if err := (LibRRD{}).Update(path, rows[:len(rows)-drop]); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string) {
		t.Helper()
		before := fileHash(t, path)
		restored, err := recoverJournal(jpath, LibRRD{})
		if err != nil || restored || fileHash(t, path) != before {
			t.Fatalf("%s: restored=%v err=%v changed=%v", name, restored, err, fileHash(t, path) != before)
		}
	}

	saveThenUpdate(ino, 0) // finished: last_update is the call's last row
	check("finished call")

	bs = testBuckets(start+20, 20)
	saveThenUpdate(ino+1, 1) // unfinished, but the journal names another inode
	b, _ := os.ReadFile(jpath)
	if len(b) == 0 {
		t.Fatal("journal empty")
	}
	check("other file")

	if _, ok := decodeJournal(b); !ok {
		t.Fatal("whole journal does not decode")
	}
	torn := bytes.Clone(b)
	torn[100] ^= 1 // the kill came while it was written
	if err := os.WriteFile(jpath, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	check("torn journal")
	if jb, err := os.ReadFile(jpath); err != nil || bytes.HasPrefix(jb, []byte(journalMagic)) {
		t.Fatalf("journal not cleared: %v", err)
	}
}
