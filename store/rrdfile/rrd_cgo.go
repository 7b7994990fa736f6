package rrdfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ziutek/rrd"
)

// LibRRD is the RRD implementation on librrd (cgo, ziutek/rrd). Creating
// and updating use librrd's reentrant calls; different files may be
// written concurrently, one file only by one goroutine.
type LibRRD struct{}

// Create refuses to overwrite an existing file. The file is made under a
// hidden temporary name, checked, then linked into place, so neither a
// failure nor a kill in the middle ever leaves a broken file at path (one
// would block every retry, and an instance that never sends again would
// keep it). It is readable and writable by its owner only.
func (LibRRD) Create(path string, step time.Duration, start int64, args []string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".creating")
	if err := createChecked(tmp, step, start, args); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp)
	// librrd makes its files 0644 whatever the umask; ours are the
	// owner's only (issue 11).
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// createChecked makes the RRD file path (overwriting a leftover of an
// earlier attempt) and checks that librrd can read it.
func createChecked(path string, step time.Duration, start int64, args []string) error {
	c := rrd.NewCreator(path, time.Unix(start, 0), uint(step/time.Second))
	for _, a := range args {
		f := strings.Split(a, ":")
		if len(f) < 3 {
			return fmt.Errorf("bad argument %q", a)
		}
		rest := make([]any, 0, len(f)-2)
		for _, x := range f[2:] {
			rest = append(rest, x)
		}
		switch f[0] {
		case "DS":
			c.DS(f[1], f[2], rest[1:]...)
		case "RRA":
			c.RRA(f[1], rest...)
		default:
			return fmt.Errorf("bad argument %q", a)
		}
	}
	if err := c.Create(true); err != nil {
		os.Remove(path)
		return err
	}
	// librrd 1.7 writes a temporary file and renames it over the empty
	// placeholder ziutek/rrd makes; when that write fails (disk full) it
	// still reports success and the placeholder stays. Check the result.
	if _, err := rrd.Info(path); err != nil {
		os.Remove(path)
		if noSpaceFor(filepath.Dir(path), createSize(args)) {
			return syscall.ENOSPC
		}
		return fmt.Errorf("librrd left an unusable file: %v", err)
	}
	return nil
}

// createSize estimates a new file's size: its archives' rows (the header
// is a few KB).
func createSize(args []string) int64 {
	var ds, rows int64
	for _, a := range args {
		f := strings.Split(a, ":")
		switch {
		case f[0] == "DS":
			ds++
		case f[0] == "RRA" && len(f) >= 5:
			n, _ := strconv.ParseInt(f[4], 10, 64)
			rows += n
		}
	}
	return rows*ds*8 + 4096
}

// noSpaceFor says whether the file system holding dir has less than n
// bytes free.
func noSpaceFor(dir string, n int64) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return int64(st.Bavail)*st.Bsize < n
}

// Update passes all rows to one rrd_update call.
func (LibRRD) Update(path string, rows []string) error {
	if len(rows) == 0 {
		return nil
	}
	u := rrd.NewUpdater(path)
	for _, r := range rows {
		u.Cache(r)
	}
	if err := u.Update(); err != nil {
		return fmt.Errorf("update %s: %w", path, err)
	}
	return nil
}

// Info reads the file with librrd. librrd reports errno only as text, so
// when it fails the file is opened here: if the OS cannot open it, that
// error is returned (missing, permissions); if it can, librrd rejected
// the content (empty, truncated, garbage) and the error wraps ErrCorrupt.
func (LibRRD) Info(path string) (FileInfo, error) {
	info, err := rrd.Info(path)
	if err != nil {
		fh, oerr := os.Open(path)
		if oerr != nil {
			return FileInfo{}, fmt.Errorf("info %s: %w", path, oerr)
		}
		st, serr := fh.Stat()
		fh.Close()
		if serr != nil {
			return FileInfo{}, fmt.Errorf("info %s: %w", path, serr)
		}
		if !st.Mode().IsRegular() {
			return FileInfo{}, fmt.Errorf("info %s: not a regular file", path)
		}
		return FileInfo{}, fmt.Errorf("info %s: %w: %v", path, ErrCorrupt, err)
	}
	last, ok1 := info["last_update"].(uint)
	step, ok2 := info["step"].(uint)
	idx, ok3 := info["ds.index"].(map[string]any)
	if !ok1 || !ok2 || !ok3 || step == 0 {
		return FileInfo{}, fmt.Errorf("info %s: %w: no last_update, step or ds", path, ErrCorrupt)
	}
	ds := make([]string, len(idx))
	for name, v := range idx {
		i, ok := v.(uint)
		if !ok || int(i) >= len(ds) || ds[i] != "" {
			return FileInfo{}, fmt.Errorf("info %s: %w: bad ds index", path, ErrCorrupt)
		}
		ds[i] = name
	}
	return FileInfo{Last: int64(last), Step: time.Duration(step) * time.Second, DS: ds}, nil
}
