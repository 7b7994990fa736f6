package rrdfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeRRD keeps files in memory and enforces librrd's rules (no overwrite,
// strictly increasing update times). fail makes the next calls fail.
type fakeRRD struct {
	mu    sync.Mutex
	files map[string]*fakeFile
	fail  int // number of calls to fail
	calls int
}

type fakeFile struct {
	step  time.Duration
	last  int64
	rows  []string
	args  []string
	start int64
}

func newFakeRRD() *fakeRRD { return &fakeRRD{files: make(map[string]*fakeFile)} }

var errFakeDiskFull = errors.New("fake: No space left on device")

func (f *fakeRRD) failing() bool {
	f.calls++
	if f.fail > 0 {
		f.fail--
		return true
	}
	return false
}

func (f *fakeRRD) Create(path string, step time.Duration, start int64, args []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing() {
		return errFakeDiskFull
	}
	if _, ok := f.files[path]; ok {
		return fmt.Errorf("create %s: %w", path, os.ErrExist)
	}
	// The writer checks existence on disk: leave a marker file.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return err
	}
	f.files[path] = &fakeFile{step: step, last: start, start: start, args: args}
	return nil
}

func (f *fakeRRD) Update(path string, rows []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing() {
		return errFakeDiskFull
	}
	ff, ok := f.files[path]
	if !ok {
		return fmt.Errorf("update %s: no such file", path)
	}
	for _, r := range rows {
		ts, _, _ := strings.Cut(r, ":")
		t, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || t <= ff.last {
			return fmt.Errorf("update %s: illegal update time %s, last %d", path, ts, ff.last)
		}
		ff.last = t
		ff.rows = append(ff.rows, r)
	}
	return nil
}

func (f *fakeRRD) Info(path string) (FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing() {
		return FileInfo{}, errFakeDiskFull
	}
	ff, ok := f.files[path]
	if !ok {
		return FileInfo{}, fmt.Errorf("info %s: %w", path, os.ErrNotExist)
	}
	var ds []string
	for _, a := range ff.args {
		if name, ok := strings.CutPrefix(a, "DS:"); ok {
			name, _, _ = strings.Cut(name, ":")
			ds = append(ds, name)
		}
	}
	return FileInfo{Last: ff.last, Step: ff.step, DS: ds}, nil
}

func (f *fakeRRD) rows(path string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ff, ok := f.files[path]; ok {
		return append([]string(nil), ff.rows...)
	}
	return nil
}

func (f *fakeRRD) setFail(n int) {
	f.mu.Lock()
	f.fail = n
	f.mu.Unlock()
}
