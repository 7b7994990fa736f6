package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// ownerOnly makes data_dir and everything under it readable by the
// daemon's user alone (issue 11): the database holds session tokens, and
// the RRD files and state are nobody else's business. The umask covers
// what the daemon and its libraries create from now on (librrd's files,
// SQLite's -wal and -shm, temporary files); existing entries with a looser
// mode are tightened, with one log line. Symbolic links are not followed.
func ownerOnly(dir string, log *slog.Logger) error {
	syscall.Umask(0o077)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	var dirs, files int
	var first string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 || !(d.IsDir() || d.Type().IsRegular()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode().Perm()
		if mode&0o077 == 0 {
			return nil
		}
		if err := os.Chmod(path, mode&^0o077); err != nil {
			return err
		}
		if first == "" {
			first = path
		}
		if d.IsDir() {
			dirs++
		} else {
			files++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("data_dir %s: making it owner-only: %w", dir, err)
	}
	if dirs+files > 0 {
		log.Warn("data_dir was readable by others: made owner-only", "data_dir", dir,
			"directories", dirs, "files", files, "first", first)
	}
	return nil
}
