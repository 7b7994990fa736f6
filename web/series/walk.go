package series

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"graphmetrics/store"
	"graphmetrics/store/histstore"
	"graphmetrics/web/tree"
)

// walk lists both trees. It reads directories only (no RRD is opened), and
// follows no symbolic link, so nothing outside data_dir is ever listed.
func (x *Index) walk() *snapshot {
	w := walker{x: x, seen: map[string]bool{}}
	w.tracelogs(store.TracelogRoot(x.o.DataDir))
	w.metrics(store.MetricsRoot(x.o.DataDir))
	if w.clashes > 0 {
		x.o.Logger.Warn("metric files named like tracelog series are not listed", "count", w.clashes)
	}
	if w.truncated {
		x.o.Logger.Warn("series index full; some series are not listed", "max", x.o.MaxSeries)
	}
	return newSnapshot(w.out, x.o.Now(), w.truncated)
}

type walker struct {
	x         *Index
	out       []Series
	seen      map[string]bool
	clashes   int
	truncated bool
}

func (w *walker) add(s Series) bool {
	if len(w.out) >= w.x.o.MaxSeries {
		w.truncated = true
		return false
	}
	if w.seen[s.Name] {
		w.clashes++
		return true
	}
	w.seen[s.Name] = true
	w.out = append(w.out, s)
	return true
}

// tracelogs lists the tracelog files (store.TracelogFiles), with the same
// name rules as the instance tree of /: each data source, and the
// percentiles of the instance's histograms (listed whether or not it has
// any yet: without, they are unknown).
func (w *walker) tracelogs(root string) {
	logErr := func(dir string, err error) { w.x.o.Logger.Warn("read tracelog directory", "dir", dir, "err", err) }
	for e := range store.TracelogFiles(root, tree.ValidName, logErr) {
		base := TracelogPrefix + e.Host + "/" + e.Customer + "/" + e.Instance + "/"
		for _, ds := range store.DataSources {
			if !w.add(Series{Name: base + ds, File: e.File, DS: ds}) {
				return
			}
		}
		dir, ok := histstore.DirOfTracelogFile(e.File)
		if !ok {
			continue
		}
		for _, p := range Percentiles {
			if !w.add(Series{Name: base + p.Name, File: e.File, Quantile: p.Q, Hist: dir}) {
				return
			}
		}
	}
}

// metrics lists rrd/metrics/**/<name>.rrd, each as its path without ".rrd".
func (w *walker) metrics(root string) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			w.x.o.Logger.Warn("read metrics directory", "path", path, "err", err)
			if d != nil && d.IsDir() && path != root {
				return fs.SkipDir
			}
			return nil
		}
		if path == root {
			return nil
		}
		rel, rerr := filepath.Rel(root, path)
		if rerr != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if !tree.ValidName(d.Name()) || strings.Count(rel, "/") >= maxDepth {
				return fs.SkipDir
			}
			return nil
		}
		name, ok := strings.CutSuffix(rel, ".rrd")
		if !ok || !d.Type().IsRegular() || !tree.ValidName(strings.TrimSuffix(d.Name(), ".rrd")) {
			return nil
		}
		elems := strings.Split(name, "/")
		for i, e := range elems {
			elems[i] = store.ShownElem(e)
		}
		if !w.add(Series{Name: strings.Join(elems, "/"), File: path, DS: "value"}) {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		w.x.o.Logger.Warn("walk metrics directory", "dir", root, "err", err)
	}
}
