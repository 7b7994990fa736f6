package urlstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"graphmetrics/store/hist"
	"graphmetrics/store/urlpattern"
)

// The dictionary of an instance's patterns is the file "patterns", one
// pattern a line (patterns are valid UTF-8 without control characters, so
// a line never holds a newline); the pattern on line i (from 1) has id i.
// Id 0 is Other. The file only grows, and at most max_patterns lines are
// ever written, so the bound holds across restarts; a torn last line (no
// newline) is cut off on load. Lines are appended before the rows that use
// them: new patterns of a write are held in pending and go out in one
// write before the first group of that write (appender.before).

const dictFile = "patterns"

type dict struct {
	names   []string // names[id-1]
	ids     map[string]uint32
	pending []byte // lines of new patterns not yet in the file
}

func newHist() *hist.Hist { return hist.New(Scheme) }

// loadDict reads an instance's dictionary; repair cuts a torn last line.
func loadDict(dir string, repair bool) (*dict, error) {
	d := &dict{ids: map[string]uint32{}}
	path := filepath.Join(dir, dictFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
		if repair {
			if err := os.Truncate(path, int64(len(data))); err != nil {
				return nil, fmt.Errorf("repair %s: %w", path, err)
			}
		}
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		name := string(data[:i])
		data = data[i+1:]
		if len(name) > urlpattern.MaxLen {
			return nil, fmt.Errorf("%s: %w: pattern of %d bytes", path, errCorrupt, len(name))
		}
		d.names = append(d.names, name)
		if _, dup := d.ids[name]; !dup {
			d.ids[name] = uint32(len(d.names))
		}
	}
	return d, nil
}

// name is the pattern of id (Other for 0 or an unknown id).
func (d *dict) name(id uint32) string {
	if id == 0 || int(id) > len(d.names) {
		return Other
	}
	return d.names[id-1]
}

// id returns the id of a pattern, adding it to the file while the
// dictionary holds fewer than max patterns (else 0, Other).
func (d *dict) id(name string, maxPatterns int) (uint32, error) {
	if id, ok := d.ids[name]; ok {
		return id, nil
	}
	if name == Other || len(d.names) >= maxPatterns || len(name) > urlpattern.MaxLen ||
		bytes.ContainsAny([]byte(name), "\n\r") {
		return 0, nil
	}
	d.pending = append(append(d.pending, name...), '\n')
	d.names = append(d.names, name)
	id := uint32(len(d.names))
	d.ids[name] = id
	return id, nil
}

// flush appends the pending lines to the file in dir (which exists).
func (d *dict) flush(dir string) error {
	if len(d.pending) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, dictFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(d.pending)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	d.pending = d.pending[:0]
	return err
}
