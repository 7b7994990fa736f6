package rrdfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"graphmetrics/store"
)

// Create links a checked file into place: it never overwrites, and leaves
// no temporary file and no broken file behind (a kill mid-create leaves at
// most the hidden temporary, which the next attempt overwrites).
func TestLibRRDCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.rrd")
	args := tracelogArgs(5*time.Second, store.DefaultTracelogArchives())
	tmp := filepath.Join(dir, ".x.rrd.creating")
	if err := os.WriteFile(tmp, []byte("left by a killed create"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (LibRRD{}).Create(path, time.Second, 1_700_000_000, args); err != nil {
		t.Fatal(err)
	}
	if _, err := (LibRRD{}).Info(path); err != nil {
		t.Fatalf("created file unreadable: %v", err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	before, _ := os.ReadFile(path)
	err := (LibRRD{}).Create(path, time.Second, 1_800_000_000, args)
	if !errors.Is(err, os.ErrExist) {
		t.Errorf("second create: %v, want ErrExist", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("second create changed the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only x.rrd", len(ents))
	}
}
