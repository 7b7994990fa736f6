package rrdfile

import (
	"bytes"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"graphmetrics/store"
)

// A tracelog file made before "hung" existed (seven data sources) gets it
// added in place when the writer opens it, and keeps its history.
func TestWriterAddsHungToOldFile(t *testing.T) {
	dir := t.TempDir()
	path := store.TracelogFile(dir, testKey)
	m := at("2026-03-01 12:00:00")
	old := []string{"create", path, "--step", "1", "--start", strconv.FormatInt(m-3600, 10)}
	for _, ds := range store.DataSources[:7] {
		old = append(old, "DS:"+ds+":GAUGE:5:0:U")
	}
	old = append(old, "RRA:AVERAGE:0.5:1:10800", "RRA:AVERAGE:0.5:60:11520", "RRA:MAX:0.5:60:11520",
		"RRA:AVERAGE:0.5:3600:9600", "RRA:MAX:0.5:3600:9600")
	if err := exec.Command("mkdir", "-p", filepath.Dir(path)).Run(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("rrdtool", old...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// History: 60 seconds of 5 requests each.
	upd := []string{"update", path}
	for i := int64(1); i <= 60; i++ {
		upd = append(upd, strconv.FormatInt(m-100+i, 10)+":5:0:0:0:1:2:0")
	}
	if out, err := exec.Command("rrdtool", upd...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	w := newTestWriter(t, WriterOptions{DataDir: dir})
	bs := testBuckets(m, 10)
	if err := w.WriteBuckets(testKey, bs); err != nil {
		t.Fatal(err)
	}
	syncW(t, w)
	if st := w.Stats(); st.Corrupt != 0 || st.Creates != 0 || st.Errors != 0 || st.Tuned != 1 {
		t.Fatalf("stats %+v: the old file was not kept", st)
	}
	out, err := exec.Command("rrdtool", "info", path).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`ds[hung].index = 7`)) {
		t.Fatalf("no hung data source:\n%s", out)
	}
	rows := fetch(t, path, "AVERAGE", 1, m-100, m+10)
	if got := rows[m-70]; got[0] != 5 || got[5] != 2 || !math.IsNaN(got[7]) {
		t.Errorf("history row %v, want requests 5, busy 2, hung unknown", got)
	}
	for _, b := range bs {
		if got := rows[b.Time+1]; !sameValues(got, bucketValues(b)) {
			t.Errorf("row %d = %v, want %v", b.Time+1, got, bucketValues(b))
		}
	}
}

// At start the writer adds "hung" to every old tracelog file, also to
// those it is never asked to write.
func TestWriterTunesAllAtStart(t *testing.T) {
	dir := t.TempDir()
	path := store.TracelogFile(dir, testKey)
	if err := exec.Command("mkdir", "-p", filepath.Dir(path)).Run(); err != nil {
		t.Fatal(err)
	}
	args := []string{"create", path, "--step", "1"}
	for _, ds := range store.DataSources[:7] {
		args = append(args, "DS:"+ds+":GAUGE:5:0:U")
	}
	if out, err := exec.Command("rrdtool", append(args, "RRA:AVERAGE:0.5:1:100")...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	w := newTestWriter(t, WriterOptions{DataDir: dir})
	deadline := time.Now().Add(10 * time.Second)
	for w.Stats().Tuned == 0 {
		if time.Now().After(deadline) {
			t.Fatal("file not tuned")
		}
		time.Sleep(10 * time.Millisecond)
	}
	info, err := LibRRD{}.Info(path)
	if err != nil || len(info.DS) != len(store.DataSources) || info.DS[7] != "hung" {
		t.Errorf("info %+v %v", info, err)
	}
}
