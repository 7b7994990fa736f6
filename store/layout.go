package store

import (
	"errors"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
)

// TracelogEntry is one tracelog file found on disk.
type TracelogEntry struct {
	// The names as the UI shows them: the originals, unescaped (ShownElem).
	Host, Customer, Instance string
	File                     string // root joined with them
}

// TracelogFiles lists the tracelog files below root (TracelogRoot): the
// regular files <host>/<customer>/<instance>.rrd whose three names pass
// valid (file names, before unescaping). It reads directories only (no file is opened) and follows no
// symbolic link, so nothing outside root is listed. A directory that cannot
// be read is passed to onErr and skipped; a missing root or host or
// customer directory (removed while listing) is no error.
func TracelogFiles(root string, valid func(name string) bool, onErr func(dir string, err error)) iter.Seq[TracelogEntry] {
	dirs := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // a missing root, or a directory just removed
				onErr(dir, err)
			}
			return nil
		}
		var out []string
		for _, e := range ents {
			if e.IsDir() && valid(e.Name()) {
				out = append(out, e.Name())
			}
		}
		return out
	}
	return func(yield func(TracelogEntry) bool) {
		for _, host := range dirs(root) {
			hdir := filepath.Join(root, host)
			for _, cust := range dirs(hdir) {
				cdir := filepath.Join(hdir, cust)
				ents, err := os.ReadDir(cdir)
				if err != nil {
					onErr(cdir, err)
					continue
				}
				for _, e := range ents {
					inst, ok := strings.CutSuffix(e.Name(), ".rrd")
					if !ok || !e.Type().IsRegular() || !valid(inst) {
						continue
					}
					if !yield(TracelogEntry{Host: ShownElem(host), Customer: ShownElem(cust), Instance: ShownElem(inst),
						File: filepath.Join(cdir, e.Name())}) {
						return
					}
				}
			}
		}
	}
}
