package store

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TracelogFiles lists exactly the files of the layout that TracelogFile
// makes: no other file, no symbolic link, no name the caller refuses.
func TestTracelogFiles(t *testing.T) {
	dir := t.TempDir()
	root := TracelogRoot(dir)
	touch := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys := []Key{{"h1", "acme", "app-8080"}, {"h1", "acme", "app-8081"}, {"h2", "beta", "worker1"}}
	for _, k := range keys {
		touch(TracelogFile(dir, k))
	}
	touch(filepath.Join(root, "h1", "acme", "notes.txt"))     // not .rrd
	touch(filepath.Join(root, "h1", "top.rrd"))               // too shallow
	touch(filepath.Join(root, "h1", "acme", "deep", "x.rrd")) // too deep
	touch(filepath.Join(root, "h1", "acme", "bad name.rrd"))  // refused by valid
	touch(filepath.Join(root, "h3", "bad name", "inst.rrd"))  // directory refused by valid
	outside := filepath.Join(dir, "outside")
	touch(filepath.Join(outside, "c", "x.rrd"))
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(TracelogFile(dir, keys[0]), filepath.Join(root, "h1", "acme", "alias.rrd")); err != nil {
		t.Fatal(err)
	}
	valid := func(s string) bool { return !strings.Contains(s, " ") }
	var errs []string
	onErr := func(d string, err error) { errs = append(errs, d) }
	var got []Key
	for e := range TracelogFiles(root, valid, onErr) {
		k := Key{e.Host, e.Customer, e.Instance}
		if e.File != TracelogFile(dir, k) {
			t.Errorf("%v: file %s, want %s", k, e.File, TracelogFile(dir, k))
		}
		got = append(got, k)
	}
	if !slices.Equal(got, keys) || len(errs) != 0 {
		t.Fatalf("listed %v (errors %v), want %v", got, errs, keys)
	}
	for range TracelogFiles(root, valid, onErr) {
		break // stopping early is allowed
	}
	n := 0
	for range TracelogFiles(filepath.Join(dir, "none"), valid, onErr) {
		n++
	}
	if n != 0 || len(errs) != 0 {
		t.Fatalf("missing root: %d files, errors %v", n, errs)
	}
}
