package urlstore

import (
	"graphmetrics/store/segfile"
)

// A segment is appended to as a plain file (.u) while it is the newest of
// its level; once a newer one is opened it is rewritten pattern-major
// (.uc, colfile.go), a day of hour rows only once the day after it has
// ended too (so a table of the last 24 hours reads plain files). Files
// compressed whole (.uz) by earlier versions are still read.

// compressOld rewrites the level's plain segments older than newest.
func (in *inst) compressOld(li int, newest int64) {
	closeOlder(in.dir, li, newest, func(path string, err error) {
		in.s.lim.Log(in.s.log, "compress", "compress URL segment", "file", path, "err", err)
	})
}

// closeOlder rewrites level li's plain segments in dir older than newest
// pattern-major.
func closeOlder(dir string, li int, newest int64, onErr func(path string, err error)) {
	lv := levels[li]
	segfile.RewriteOlder(dir, lv.Prefix, ".u", lv.Span, newest,
		func(plain string, seg int64) error {
			return segfile.Rewrite(plain, "c", func(data []byte) ([]byte, error) { return encodeCol(data, lv, seg) })
		}, onErr)
}
