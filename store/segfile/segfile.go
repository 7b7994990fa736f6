// Package segfile is the file handling shared by the stores that keep rows
// in time-segmented files (store/histstore, store/urlstore): a level's
// files are <prefix>-<start><ext>, <start> a multiple of the level's span;
// the file being appended to is plain, a closed one is rewritten
// DEFLATE-compressed as <name>z (a temporary file and a rename; a crash
// between leaves both, and the compressed one is the truth). A store may
// instead rewrite a closed segment in its own closed format as <name>c
// (Rewrite; store/urlstore), read by the store itself: List and Remove
// know both closed names.
package segfile

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FloorTo rounds t down to a multiple of step (also for negative t).
func FloorTo(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

// Path is the plain file of the segment starting at start.
func Path(dir, prefix, ext string, start int64) string {
	return filepath.Join(dir, prefix+"-"+strconv.FormatInt(start, 10)+ext)
}

// List returns the starts of a level's segments in dir (plain or
// compressed), oldest first; a missing dir has none.
func List(dir, prefix, ext string, span int64) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return ListEntries(ents, prefix, ext, span), nil
}

// ListEntries is List of a directory read already (one read for several
// levels).
func ListEntries(ents []os.DirEntry, prefix, ext string, span int64) []int64 {
	var out []int64
	for _, e := range ents {
		s, ok := strings.CutPrefix(e.Name(), prefix+"-")
		s, ok2 := strings.CutSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "z"), "c"), ext)
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		if t, err := strconv.ParseInt(s, 10, 64); err == nil && t == FloorTo(t, span) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return slices.Compact(out)
}

// MaxSegment bounds a segment's decompressed bytes.
const MaxSegment = 64 << 20

// Read returns a segment's bytes: its compressed file when there is one,
// else the plain file (plain says which).
func Read(plainPath string) (data []byte, plain bool, err error) {
	data, err = readFlate(plainPath + "z")
	if !errors.Is(err, fs.ErrNotExist) {
		return data, false, err
	}
	data, err = os.ReadFile(plainPath)
	return data, true, err
}

func readFlate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(flate.NewReader(f), MaxSegment+1))
	if err == nil && len(data) > MaxSegment {
		err = errors.New("segment too large")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// Compress rewrites a closed plain segment compressed, keeping its first
// valid(data) bytes (a torn tail is dropped), then removes the plain file.
func Compress(plainPath string, level int, valid func(data []byte) int) error {
	return Rewrite(plainPath, "z", func(data []byte) ([]byte, error) {
		var buf bytes.Buffer
		zw, err := flate.NewWriter(&buf, level)
		if err != nil {
			return nil, err
		}
		zw.Write(data[:valid(data)])
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
}

// Rewrite writes encode(the plain segment's bytes) as <plainPath><suffix>
// (a temporary file, fsync, rename), then removes the plain file; when the
// closed file exists already (a crash came between), only the plain file
// is removed.
func Rewrite(plainPath, suffix string, encode func(data []byte) ([]byte, error)) error {
	data, err := os.ReadFile(plainPath)
	if err != nil {
		return err
	}
	closed := plainPath + suffix
	if _, err := os.Stat(closed); err == nil { // done before a crash
		return os.Remove(plainPath)
	}
	out, err := encode(data)
	if err != nil {
		return fmt.Errorf("%s: %w", plainPath, err)
	}
	tmp := closed + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(out)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, closed)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Remove(plainPath)
}

// Remove deletes a segment's plain and closed files.
func Remove(plainPath string) error {
	var first error
	for _, p := range []string{plainPath, plainPath + "z", plainPath + "c"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// CompressOlder compresses the level's plain segments that start before
// newest (closed: a newer one is being appended to), keeping of each the
// bytes valid says are whole rows; onErr is told of each failure.
func CompressOlder(dir, prefix, ext string, span, newest int64, level int,
	valid func(seg int64, data []byte) int, onErr func(path string, err error)) {
	RewriteOlder(dir, prefix, ext, span, newest, func(plain string, seg int64) error {
		return Compress(plain, level, func(data []byte) int { return valid(seg, data) })
	}, onErr)
}

// RewriteOlder calls rewrite for each of the level's plain segments that
// start before newest (closed: a newer one is being appended to); onErr
// is told of each failure.
func RewriteOlder(dir, prefix, ext string, span, newest int64,
	rewrite func(plainPath string, seg int64) error, onErr func(path string, err error)) {
	segs, err := List(dir, prefix, ext, span)
	if err != nil {
		return
	}
	for _, seg := range segs {
		plain := Path(dir, prefix, ext, seg)
		if seg >= newest {
			continue
		}
		if _, err := os.Stat(plain); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := rewrite(plain, seg); err != nil {
			onErr(plain, err)
		}
	}
}

// RemoveOlder deletes the level's segments that end at or before cutoff
// (their rows are past the level's retention); onErr is told of each
// failure.
func RemoveOlder(dir, prefix, ext string, span, cutoff int64, onErr func(err error)) {
	segs, err := List(dir, prefix, ext, span)
	if err != nil {
		return
	}
	for _, seg := range segs {
		if seg+span <= cutoff {
			if err := Remove(Path(dir, prefix, ext, seg)); err != nil {
				onErr(err)
			}
		}
	}
}
