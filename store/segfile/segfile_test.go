package segfile

import (
	"compress/flate"
	"os"
	"slices"
	"testing"
)

func TestListCompressRead(t *testing.T) {
	dir := t.TempDir()
	for _, start := range []int64{7200, 3600, -3600} {
		if err := os.WriteFile(Path(dir, "m", ".u", start), []byte("rows+torn"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not segments: another level, a misaligned start, a temporary file.
	for _, name := range []string{"h-3600.u", "m-100.u", "m-3600.uz.tmp", "patterns"} {
		os.WriteFile(dir+"/"+name, nil, 0o644)
	}
	segs, err := List(dir, "m", ".u", 3600)
	if err != nil || !slices.Equal(segs, []int64{-3600, 3600, 7200}) {
		t.Fatalf("List = %v, %v", segs, err)
	}
	var failed []string
	CompressOlder(dir, "m", ".u", 3600, 7200, flate.DefaultCompression,
		func(seg int64, data []byte) int { return 4 }, // "rows": the tail is torn
		func(path string, err error) { failed = append(failed, path) })
	if len(failed) > 0 {
		t.Fatalf("failed: %v", failed)
	}
	for _, c := range []struct {
		start int64
		want  string
		plain bool
	}{{-3600, "rows", false}, {3600, "rows", false}, {7200, "rows+torn", true}} {
		data, plain, err := Read(Path(dir, "m", ".u", c.start))
		if err != nil || string(data) != c.want || plain != c.plain {
			t.Errorf("Read %d = %q plain %v, %v; want %q plain %v", c.start, data, plain, err, c.want, c.plain)
		}
	}
	if segs, _ := List(dir, "m", ".u", 3600); !slices.Equal(segs, []int64{-3600, 3600, 7200}) {
		t.Errorf("after compression List = %v", segs)
	}
	// A crash after the rename leaves both: the compressed one is read, and
	// the next compression only removes the plain file.
	os.WriteFile(Path(dir, "m", ".u", 3600), []byte("stale"), 0o644)
	if data, plain, _ := Read(Path(dir, "m", ".u", 3600)); string(data) != "rows" || plain {
		t.Errorf("read %q plain %v beside a compressed file", data, plain)
	}
	if err := Compress(Path(dir, "m", ".u", 3600), flate.DefaultCompression, func(d []byte) int { return len(d) }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Path(dir, "m", ".u", 3600)); !os.IsNotExist(err) {
		t.Errorf("plain file left: %v", err)
	}
	if err := Remove(Path(dir, "m", ".u", -3600)); err != nil {
		t.Fatal(err)
	}
	if segs, _ := List(dir, "m", ".u", 3600); !slices.Equal(segs, []int64{3600, 7200}) {
		t.Errorf("after Remove List = %v", segs)
	}
	if FloorTo(-1, 60) != -60 || FloorTo(59, 60) != 0 {
		t.Error("FloorTo")
	}
}

func TestRemoveOlder(t *testing.T) {
	dir := t.TempDir()
	for _, start := range []int64{0, 3600, 7200} {
		os.WriteFile(Path(dir, "m", ".u", start), []byte("rows"), 0o644)
	}
	os.WriteFile(Path(dir, "m", ".u", 0)+"z", []byte("z"), 0o644) // both forms of one segment
	RemoveOlder(dir, "m", ".u", 3600, 7200, func(err error) { t.Error(err) })
	segs, err := List(dir, "m", ".u", 3600)
	if err != nil || !slices.Equal(segs, []int64{7200}) {
		t.Fatalf("after RemoveOlder(cutoff 7200): %v, %v (want only the segment ending after it)", segs, err)
	}
}
