package kinesis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// checkpoint is the progress of one shard, kept in
// <StateDir>/kinesis/<stream>/<shard>.json.
type checkpoint struct {
	Stream string `json:"stream"`
	Shard  string `json:"shard"`
	// Sequence is the last record whose data is in RRD (its point was
	// written or it was a bad record); reading resumes AFTER it.
	Sequence string `json:"sequence,omitempty"`
	// At is when a stream configured to start at LATEST began reading this
	// shard before any record arrived; a restart resumes AT_TIMESTAMP At,
	// so records put while the daemon was down are not skipped.
	At time.Time `json:"at,omitzero"`
	// Closed: the shard was read to its end (NextShardIterator nil) and
	// every record is in RRD; its children may be read.
	Closed  bool      `json:"closed,omitempty"`
	Updated time.Time `json:"updated"`
}

// AWS names: streams and shard ids match [a-zA-Z0-9_.-]+, so they are safe
// file names once "." and ".." are excluded.
var awsName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func validFileName(s string) bool { return awsName.MatchString(s) && s != "." && s != ".." }

// checkpoints reads and writes the checkpoint files of one stream.
type checkpoints struct {
	dir string
	log *slog.Logger
}

func newCheckpoints(stateDir, stream string, log *slog.Logger) (*checkpoints, error) {
	dir := filepath.Join(stateDir, "kinesis", stream)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kinesis state dir: %w", err)
	}
	// The directory entries themselves must survive a crash too.
	for _, d := range []string{filepath.Join(stateDir, "kinesis"), stateDir} {
		if err := syncDir(d); err != nil {
			return nil, err
		}
	}
	return &checkpoints{dir: dir, log: log}, nil
}

// load returns every checkpoint of the stream, by shard id. A file that
// cannot be read or parsed is logged and left out: the shard is then read
// again from its start, which RRD's "only newer" rule makes harmless. Temp
// files left by a crash are removed.
func (c *checkpoints) load() (map[string]checkpoint, error) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.dir, err)
	}
	out := make(map[string]checkpoint)
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(c.dir, name)
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(path)
			continue
		}
		shard, ok := strings.CutSuffix(name, ".json")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(path)
		var cp checkpoint
		if err == nil {
			err = json.Unmarshal(b, &cp)
		}
		if err == nil && cp.Shard != shard {
			err = fmt.Errorf("holds shard %q", cp.Shard)
		}
		if err != nil {
			c.log.Error("ignoring unreadable kinesis checkpoint; the shard is read again from its start",
				"file", path, "err", err)
			continue
		}
		out[shard] = cp
	}
	return out, nil
}

// save writes one checkpoint atomically: temp file, fsync, rename, fsync of
// the directory. After a crash the file holds either the old or the new
// checkpoint, never a mix.
func (c *checkpoints) save(cp checkpoint) error {
	if !validFileName(cp.Shard) {
		return fmt.Errorf("checkpoint: unsafe shard id %q", cp.Shard)
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", cp.Shard, err)
	}
	f, err := os.CreateTemp(c.dir, ".tmp-")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", cp.Shard, err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(c.dir, cp.Shard+".json"))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("checkpoint %s: %w", cp.Shard, err)
	}
	return syncDir(c.dir)
}

// remove deletes the checkpoint of a shard that is gone from the stream.
func (c *checkpoints) remove(shard string) error {
	if !validFileName(shard) {
		return nil
	}
	err := os.Remove(filepath.Join(c.dir, shard+".json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove checkpoint %s: %w", shard, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
