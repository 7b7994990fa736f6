package urlstore

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// A segment is appended to as a plain file (.u) while it is the newest of
// its level; once a newer one is opened it is rewritten compressed (.uz:
// DEFLATE, about 2–3× smaller, since neighbouring rows look alike) by a
// temporary file and a rename, then the plain file is removed. A crash in
// between leaves both, and the compressed one is read.

// maxSegment bounds a segment's decompressed bytes.
const maxSegment = 64 << 20

func readFlate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(flate.NewReader(f), maxSegment+1))
	if err == nil && len(data) > maxSegment {
		err = errors.New("segment too large")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// compressOld compresses the level's plain segments older than newest.
func (in *inst) compressOld(li int, newest int64) {
	lv := levels[li]
	segs, err := segments(in.dir, lv)
	if err != nil {
		return
	}
	for _, seg := range segs {
		plain := segPath(in.dir, lv, seg)
		if seg >= newest {
			continue
		}
		if _, err := os.Stat(plain); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := compressSeg(plain, lv, seg); err != nil {
			in.s.lim.Log(in.s.log, "compress", "compress URL segment", "file", plain, "err", err)
		}
	}
}

func compressSeg(plain string, lv level, seg int64) error {
	data, err := os.ReadFile(plain)
	if err != nil {
		return err
	}
	if _, err := os.Stat(plain + "z"); err == nil { // done before a crash
		return os.Remove(plain)
	}
	valid, _ := decodeGroups(data, lv, seg, func(int64, []byte) error { return nil })
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	zw.Write(data[:valid])
	if err := zw.Close(); err != nil {
		return err
	}
	tmp := plain + "z.tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, plain+"z")
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Remove(plain)
}
