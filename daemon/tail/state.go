package tail

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"graphmetrics/daemon/atomicfile"
)

// stateVersion guards against reading a snapshot of another layout.
const stateVersion = 1

// state is the one snapshot file of a tailer: the read positions and the
// aggregator state those positions imply, written together so that they
// always agree (SPEC §10). JSON keeps it readable for an operator; the
// aggregator's part is opaque bytes (base64 in JSON).
type state struct {
	Version    int       `json:"version"`
	Written    time.Time `json:"written"`
	NextID     uint64    `json:"next_id"`
	Files      []ident   `json:"files"`
	Aggregator []byte    `json:"aggregator"`
}

// ident is what the snapshot keeps per file: enough to find the file again
// after a restart (device+inode, checked against the fingerprint of its
// head) and to recognise a copy of it (a copytruncate copy, a .gz made by
// rotation) by that fingerprint alone.
type ident struct {
	ID   uint64 `json:"id"`
	Path string `json:"path"`
	Dev  uint64 `json:"dev,omitempty"`
	Ino  uint64 `json:"ino,omitempty"`
	GZ   bool   `json:"gz,omitempty"`
	// FP is the fingerprint of FPLen bytes at FPAt: the first bytes of
	// content (decompressed for .gz), after any hole of NULs that a
	// copytruncate leaves behind a writer without O_APPEND.
	FPAt   int64  `json:"fp_at,omitempty"`
	FPLen  int    `json:"fp_len"`
	FP     string `json:"fp,omitempty"`
	FPLine bool   `json:"fp_line,omitempty"` // the FPLen bytes hold a whole line
	// Offset is the stream position (decompressed for .gz) up to which
	// every line has been handed over: always at a line boundary.
	Offset int64 `json:"offset"`
	Done   bool  `json:"done,omitempty"` // a .gz read to its end
	// Twin: this file is a copy of the followed file Twin (same head) and
	// is only read, from Twin's final offset, once Twin is retired.
	Twin uint64 `json:"twin,omitempty"`
	// Retired (Unix s): no longer followed; kept so that a later copy or
	// .gz of it is read only from Offset on.
	Retired int64 `json:"retired,omitempty"`
}

// loadState reads the snapshot; a missing file is os.ErrNotExist.
func loadState(path string) (*state, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("tail state %s: %w", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("tail state %s: version %d, want %d", path, s.Version, stateVersion)
	}
	return &s, nil
}

// writeState replaces the snapshot atomically: a crash leaves either the
// old or the new file, never a mix (temp file, fsync, rename, fsync dir).
func writeState(path string, s *state) error {
	s.Version = stateVersion
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode tail state: %w", err)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("tail state: %w", err)
	}
	return nil
}

// setAside renames an unreadable snapshot so that it is kept for a look
// but not read again.
func setAside(path string) (string, error) {
	bad := fmt.Sprintf("%s.bad-%d", path, time.Now().Unix())
	return bad, os.Rename(path, bad)
}
