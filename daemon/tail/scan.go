package tail

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type candidate struct {
	path string
	fi   os.FileInfo
	key  devIno
}

// glob lists the regular files matching the globs, each once (a hard link
// or symlink to a file already listed is the same file), oldest first.
func (t *Tailer) glob() []candidate {
	var out []candidate
	seen := map[devIno]bool{}
	for _, p := range t.opts.Paths {
		ms, _ := filepath.Glob(p) // the only error, a bad pattern, is refused by New
		for _, m := range ms {
			fi, err := os.Stat(m)
			if err != nil {
				if !errors.Is(err, os.ErrNotExist) {
					t.stats.errors.Add(1)
					t.limit.Log(t.log, "stat", "cannot stat file (retried)", "path", m, "err", err)
				}
				continue
			}
			k := keyOf(fi)
			if !fi.Mode().IsRegular() || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, candidate{m, fi, k})
		}
	}
	slices.SortStableFunc(out, func(a, b candidate) int { return a.fi.ModTime().Compare(b.fi.ModTime()) })
	return out
}

// scan matches the globs against the table: new files are added (read
// from the start, or from where their original ended if they are a copy),
// renamed ones keep their identity, and files the globs no longer find
// are read to their end and retired once they stop growing.
func (t *Tailer) scan(now time.Time) {
	t.tab.gen++
	gen := t.tab.gen
	for _, c := range t.glob() {
		if f := t.tab.byKey[c.key]; f != nil {
			if f.Path != c.path {
				t.log.Info("file renamed", "from", f.Path, "to", c.path)
				f.Path = c.path
				t.dirty = true
			}
			f.seen, f.orphan = gen, time.Time{}
			f.size, f.mtime = c.fi.Size(), c.fi.ModTime()
			continue
		}
		f := &file{
			ident: ident{ID: t.tab.newID(), Path: c.path, Dev: c.key.dev, Ino: c.key.ino,
				GZ: strings.HasSuffix(c.path, ".gz")},
			size: c.fi.Size(), mtime: c.fi.ModTime(), seen: gen, readTo: -1,
		}
		t.tab.add(f)
		t.dirty = true
		t.log.Info("new file", "path", c.path, "size", f.size)
	}
	for _, f := range append([]*file(nil), t.tab.live...) {
		switch {
		case f.seen == gen:
		case f.f == nil:
			// Not open, so nothing more can be read from it.
			t.log.Info("file gone", "path", f.Path, "offset", f.Offset)
			t.tab.retire(f, now)
			t.dirty = true
		case f.orphan.IsZero():
			f.orphan = now
			t.stats.rotations.Add(1)
			t.log.Info("file renamed away or deleted: reading it to its end", "path", f.Path)
		}
	}
	t.tab.forget(now, t.opts.ForgetAfter)
	t.checkDirs()
}

// checkDirs logs directories of the globs that are missing or unreadable
// (a glob silently finds nothing in them) and keeps notifications on the
// ones that exist.
func (t *Tailer) checkDirs() {
	var dirs []string
	for _, p := range t.opts.Paths {
		d := filepath.Dir(p)
		if !hasMeta(d) {
			if err := readableDir(d); err != nil {
				t.stats.errors.Add(1)
				t.limit.Log(t.log, "dir", "directory of tail.paths missing or unreadable (retried)", "dir", d, "err", err)
				continue
			}
			dirs = append(dirs, d)
			continue
		}
		ms, _ := filepath.Glob(d)
		for _, m := range ms {
			if fi, err := os.Stat(m); err == nil && fi.IsDir() {
				dirs = append(dirs, m)
			}
		}
	}
	if t.watch != nil {
		t.watch.sync(dirs, t)
	}
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

func readableDir(d string) error {
	fd, err := os.Open(d)
	if err != nil {
		return err
	}
	defer fd.Close()
	if _, err := fd.Readdirnames(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}
