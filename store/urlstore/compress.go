package urlstore

import (
	"compress/flate"

	"graphmetrics/store/segfile"
)

// A segment is appended to as a plain file (.u) while it is the newest of
// its level; once a newer one is opened it is rewritten compressed (.uz,
// store/segfile).

// compressOld compresses the level's plain segments older than newest.
func (in *inst) compressOld(li int, newest int64) {
	lv := levels[li]
	segfile.CompressOlder(in.dir, lv.Prefix, ".u", lv.Span, newest, flate.DefaultCompression,
		func(seg int64, data []byte) int {
			valid, _ := decodeGroups(data, lv, seg, func(int64, []byte) error { return nil })
			return valid
		},
		func(path string, err error) {
			in.s.lim.Log(in.s.log, "compress", "compress URL segment", "file", path, "err", err)
		})
}
