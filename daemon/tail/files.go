package tail

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"syscall"
	"time"
)

const (
	// fpMax is how much of a file's head identifies it. A file shorter
	// than that is fingerprinted over what it has, and the fingerprint
	// grows with the file.
	fpMax = 1024
	// maxRetired bounds the identities kept for recognising copies.
	maxRetired = 10000
)

type devIno struct{ dev, ino uint64 }

func keyOf(fi os.FileInfo) devIno {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return devIno{}
	}
	return devIno{uint64(st.Dev), st.Ino}
}

// setFP fingerprints head (up to fpMax bytes), found at offset at.
func (id *ident) setFP(at int64, head []byte) {
	head = head[:min(len(head), fpMax)]
	id.FPAt, id.FPLen, id.FP = at, len(head), fingerprint(head)
	id.FPLine = bytes.IndexByte(head, '\n') >= 0
}

// identifies reports whether the fingerprint can recognise a copy: it
// covers a whole line (its timestamp and request id make it unique; a
// shorter head, like "host1 acme app-", is shared by many files) or a
// full fpMax bytes.
func (id *ident) identifies() bool { return id.FPLine || id.FPLen == fpMax }

func fingerprint(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:16])
}

// file is a followed file: its identity plus what only this process knows.
type file struct {
	ident
	f        *os.File  // nil while dormant (idle, not yet reopened, unreadable)
	size     int64     // last size seen (on disk, compressed for .gz)
	mtime    time.Time // last modification time seen
	readTo   int64     // stream position examined up to (Offset plus a partial line)
	readTime time.Time // mtime when readTo was set: same size and mtime, nothing new
	seen     uint64    // scan generation that last found it through the globs
	orphan   time.Time // when the globs stopped finding it (renamed away, deleted)
	lastGrow time.Time // last time it had new data
	// order is the age of the content still to be read: files are read
	// lowest first, so that an instance's records arrive in time order
	// across its files (a rotated file's rest before its successor).
	order int64
	skip  uint64 // pass in which it was found truncated: read in the next
}

func (f *file) key() devIno { return devIno{f.Dev, f.Ino} }

// currentSize stats the file again (its descriptor if open, else its
// path); on failure it keeps the size last seen.
func (f *file) currentSize() int64 {
	var fi os.FileInfo
	var err error
	if f.f != nil {
		fi, err = f.f.Stat()
	} else {
		fi, err = os.Stat(f.Path)
	}
	if err != nil {
		return f.size
	}
	return fi.Size()
}

func (f *file) closeFD() {
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
}

// table is the reader goroutine's view of every file; nothing else
// touches it.
type table struct {
	live    []*file // followed, in reading order (oldest first)
	byKey   map[devIno]*file
	retired []ident
	nextID  uint64
	gen     uint64
	// Orders handed out: new content at the top, continuations of
	// older content at the bottom.
	top, bottom int64
}

func newTable() *table {
	return &table{byKey: make(map[devIno]*file), nextID: 1}
}

func (tb *table) newID() uint64 {
	id := tb.nextID
	tb.nextID++
	return id
}

// restore loads a snapshot's identities: followed files come back dormant
// and are reopened when the globs find their device+inode again.
func (tb *table) restore(s *state) {
	tb.nextID = max(s.NextID, 1)
	for _, id := range s.Files {
		tb.nextID = max(tb.nextID, id.ID+1)
		if id.Retired != 0 {
			tb.retired = append(tb.retired, id)
			continue
		}
		f := &file{ident: id, readTo: -1, order: tb.top}
		tb.top++
		tb.live = append(tb.live, f)
		tb.byKey[f.key()] = f
	}
}

// idents copies the identities for a snapshot.
func (tb *table) idents() []ident {
	out := make([]ident, 0, len(tb.live)+len(tb.retired))
	for _, f := range tb.live {
		out = append(out, f.ident)
	}
	return append(out, tb.retired...)
}

func (tb *table) add(f *file) {
	f.order = tb.top
	tb.top++
	tb.live = append(tb.live, f)
	tb.byKey[f.key()] = f
}

// retire stops following f: its identity is kept (without device+inode,
// which the system may reuse) so that a copy of it is recognised, and the
// copies that waited for it may now be read from where it ended.
func (tb *table) retire(f *file, now time.Time) {
	f.closeFD()
	if tb.byKey[f.key()] == f {
		delete(tb.byKey, f.key())
	}
	tb.live = slices.DeleteFunc(tb.live, func(g *file) bool { return g == f })
	tb.keepRetired(f.ident, now)
	tb.releaseTwins(f.ID, f.Offset)
}

// forkTruncated handles a file whose content was cut or replaced under the
// same device+inode: the old content is retired under the old identity
// (its copy may show up: copytruncate) and the file starts over.
func (tb *table) forkTruncated(f *file, now time.Time) {
	tb.keepRetired(f.ident, now)
	tb.releaseTwins(f.ID, f.Offset)
	f.ID = tb.newID()
	f.FP, f.FPAt, f.FPLen, f.Offset, f.readTo = "", 0, 0, 0, 0
	f.Done = false
	f.order = tb.top // what it holds now is the newest content
	tb.top++
}

// first puts f before every other file: it continues older content.
func (tb *table) first(f *file) {
	tb.bottom--
	f.order = tb.bottom
}

// sort puts the files in reading order.
func (tb *table) sort() {
	slices.SortStableFunc(tb.live, func(a, b *file) int { return cmp.Compare(a.order, b.order) })
}

func (tb *table) keepRetired(id ident, now time.Time) {
	if !id.identifies() || id.Offset <= id.FPAt {
		return // it could not identify a copy, or a copy would start at 0 anyway
	}
	id.Dev, id.Ino, id.Twin = 0, 0, 0
	id.Retired = now.Unix()
	tb.retired = append(tb.retired, id)
}

// releaseTwins lets the copies of a retired file be read from its final
// offset (or further, if an older copy of the same content got further).
func (tb *table) releaseTwins(id uint64, offset int64) {
	for _, g := range tb.live {
		if g.Twin != id {
			continue
		}
		g.Twin = 0
		tb.first(g)
		g.Offset = max(g.Offset, offset)
		if !g.GZ && g.size < g.Offset {
			// The size a scan saw may be that of a copy still being
			// written: copytruncate finishes the copy before it cuts the
			// original, so look again now.
			g.size = g.currentSize()
		}
		if !g.GZ && g.size < g.Offset {
			// A copy shorter than what was read: nothing of it is new.
			g.Offset = g.size
		}
		g.readTo = -1
	}
}

// forget drops retired identities older than keep, and the oldest beyond
// maxRetired.
func (tb *table) forget(now time.Time, keep time.Duration) {
	cut := now.Add(-keep).Unix()
	tb.retired = slices.DeleteFunc(tb.retired, func(id ident) bool { return id.Retired < cut })
	if n := len(tb.retired) - maxRetired; n > 0 {
		slices.SortStableFunc(tb.retired, func(a, b ident) int { return int(a.Retired - b.Retired) })
		tb.retired = tb.retired[n:]
	}
}

// match decides where a file seen for the first time with content starts,
// from the head of its content: a copy of a retired file starts where
// that one ended, and is read before the others (its content is older);
// a copy of a file still followed waits for it (reading both would count
// the shared lines twice). Anything else starts at 0.
func (tb *table) match(f *file, at int64, head []byte) {
	f.setFP(at, head)
	f.Offset, f.Twin = 0, 0
	fps := map[int]string{}
	same := func(id *ident) bool {
		if !id.identifies() || id.FPLen > len(head) || id.FPAt != at || id.ID == f.ID {
			return false
		}
		fp, ok := fps[id.FPLen]
		if !ok {
			fp = fingerprint(head[:id.FPLen])
			fps[id.FPLen] = fp
		}
		return fp == id.FP
	}
	for i := range tb.retired {
		if same(&tb.retired[i]) {
			f.Offset = max(f.Offset, tb.retired[i].Offset)
		}
	}
	if f.Offset > 0 {
		tb.first(f)
	}
	var twin *file
	for _, g := range tb.live {
		if g != f && g.Twin == 0 && same(&g.ident) && (twin == nil || g.Offset > twin.Offset) {
			twin = g
		}
	}
	if twin != nil {
		f.Twin = twin.ID
		return
	}
	if !f.GZ && f.size < f.Offset {
		f.Offset = f.size
	}
	// What comes before the content is no line.
	f.Offset = max(f.Offset, at)
}
