package histstore

import (
	"compress/flate"

	"graphmetrics/store/hist"
	"graphmetrics/store/segfile"
)

// A segment is appended to as a plain file (.h) while it is the newest of
// its level; once a newer one is opened it is rewritten compressed (.hz:
// DEFLATE, about 2–3× smaller, since neighbouring rows look alike) by a
// temporary file and a rename, then the plain file is removed. A crash in
// between leaves both, and the compressed one is read (store/segfile).

// compressOld compresses the level's plain segments older than newest.
func (in *inst) compressOld(li int, newest int64) {
	lv := levels[li]
	segfile.CompressOlder(in.dir, lv.Prefix, ".h", lv.Span, newest, flate.BestCompression,
		func(seg int64, data []byte) int {
			valid, _ := decodeRows(data, lv, seg, func(int64, *hist.Hist) {})
			return valid
		},
		func(path string, err error) {
			in.s.lim.Log(in.s.log, "compress", "compress histogram segment", "file", path, "err", err)
		})
}
