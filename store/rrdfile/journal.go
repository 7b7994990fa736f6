package rrdfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// librrd 1.7 maps a file and, for every row, moves each archive's
// current-row pointer before it writes last_update in the live header. A
// kill between the two leaves the file valid for librrd but every row of
// the archive one step early, and the replay after a restart cannot fix
// it (the rows look written). So before each update call a worker saves
// the file's header (everything before the first data row: live header,
// pdp/cdp prep, rra pointers) to its journal, and clears the journal after
// the call. Writer.Start writes a journaled header back when the call did
// not finish, which rolls the file back to its state before the call; the
// rows of that call are then written again by the replay.
//
// Whether a call finished is read from the file itself: a finished call
// leaves last_update at the call's last row time. So the clear needs no
// fsync (a stale journal of a finished call is recognized and ignored),
// and a process kill, the fault this is about, keeps every write anyway.
// The journal names the file's inode: a file recreated since (deleted,
// corrupt) is never given an old header.

// headerSizer is the optional part of an RRD that enables journaling
// (LibRRD; fakes without real files go without).
type headerSizer interface {
	HeaderSize(path string) (int64, error)
}

const journalMagic = "GMJ1"

// journalAlloc is the space a journal keeps allocated (headers are a few
// KB), so that on a full disk journaling never needs a new block and the
// preallocated RRD files keep taking updates.
const journalAlloc = 64 << 10

// journal is one worker's journal file. Not safe for concurrent use: each
// worker owns its own.
type journal struct {
	fh  *os.File
	buf []byte
	hdr []byte
}

func journalPath(dataDir string, worker int) string {
	return filepath.Join(dataDir, "state", "rrdjournal-"+strconv.Itoa(worker)+".bin")
}

func openJournal(path string) (*journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &journal{fh: fh}
	// Empty or cleared (recovery ran before), so the allocation only grows.
	if err := syscall.Fallocate(int(fh.Fd()), 0, 0, journalAlloc); err != nil {
		fh.Close()
		return nil, fmt.Errorf("journal %s: allocate: %w", path, err)
	}
	return j, nil
}

// save records the header of the file at path (hdrLen bytes, inode ino)
// before an update call whose last row is at end, durably.
func (j *journal) save(path string, ino uint64, hdrLen, end int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	if int64(cap(j.hdr)) < hdrLen {
		j.hdr = make([]byte, hdrLen)
	}
	j.hdr = j.hdr[:hdrLen]
	_, err = f.ReadAt(j.hdr, 0)
	f.Close()
	if err != nil {
		return fmt.Errorf("journal %s: read header: %w", path, err)
	}
	b := append(j.buf[:0], journalMagic...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // crc and length of what follows
	b = binary.LittleEndian.AppendUint64(b, ino)
	b = binary.LittleEndian.AppendUint64(b, uint64(end))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(path)))
	b = append(b, path...)
	b = binary.LittleEndian.AppendUint32(b, uint32(hdrLen))
	b = append(b, j.hdr...)
	binary.LittleEndian.PutUint32(b[4:], crc32.ChecksumIEEE(b[12:]))
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)-12))
	j.buf = b
	// No fsync: a process kill, the fault this is about, keeps the page
	// cache, and on power loss the RRD files themselves are not synced
	// either. A sync here made flushes four times slower.
	if _, err := j.fh.WriteAt(b, 0); err != nil {
		return fmt.Errorf("journal write: %w", err)
	}
	return nil
}

// clear marks the call finished by wiping the magic in place (no
// allocation; see the top of the file for why without fsync).
func (j *journal) clear() error {
	if _, err := j.fh.WriteAt(make([]byte, len(journalMagic)), 0); err != nil {
		return fmt.Errorf("journal clear: %w", err)
	}
	return nil
}

func (j *journal) close() error { return j.fh.Close() }

// journalEntry is a decoded journal.
type journalEntry struct {
	ino  uint64
	end  int64
	path string
	hdr  []byte
}

// decodeJournal returns ok=false for an empty or torn journal (the crash
// came while it was written, before the file was touched).
func decodeJournal(b []byte) (e journalEntry, ok bool) {
	if len(b) < 12 || string(b[:4]) != journalMagic {
		return e, false
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n < 8+8+4+4 || len(b)-12 < n || binary.LittleEndian.Uint32(b[4:]) != crc32.ChecksumIEEE(b[12:12+n]) {
		return e, false
	}
	r := b[12 : 12+n]
	e.ino = binary.LittleEndian.Uint64(r)
	e.end = int64(binary.LittleEndian.Uint64(r[8:]))
	n = int(binary.LittleEndian.Uint32(r[16:]))
	r = r[20:]
	if len(r) < n+4 {
		return e, false
	}
	e.path, r = string(r[:n]), r[n:]
	n = int(binary.LittleEndian.Uint32(r))
	r = r[4:]
	if len(r) != n {
		return e, false
	}
	e.hdr = bytes.Clone(r)
	return e, true
}

// recoverJournal applies the journal at jpath if its update call did not
// finish, then clears it. restored says a header was written back.
func recoverJournal(jpath string, rrd RRD) (restored bool, err error) {
	b, err := os.ReadFile(jpath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("journal %s: %w", jpath, err)
	}
	if e, ok := decodeJournal(b); ok {
		restored, err = restoreHeader(e, rrd)
		if err != nil {
			return false, fmt.Errorf("journal %s: %w", jpath, err)
		}
	}
	if len(b) >= len(journalMagic) && string(b[:len(journalMagic)]) == journalMagic {
		// Wiped in place, durably: the next start must not apply it again.
		f, err := os.OpenFile(jpath, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteAt(make([]byte, len(journalMagic)), 0)
			err = errors.Join(err, f.Sync(), f.Close())
		}
		if err != nil {
			return restored, fmt.Errorf("journal %s: clear: %w", jpath, err)
		}
	}
	return restored, nil
}

func restoreHeader(e journalEntry, rrd RRD) (bool, error) {
	f, err := os.OpenFile(e.path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // gone since: nothing to repair
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if inode(st) != e.ino || st.Size() < int64(len(e.hdr)) {
		return false, nil // another file now
	}
	if info, err := rrd.Info(e.path); err == nil && info.Last == e.end {
		return false, nil // the call finished
	}
	if _, err := f.WriteAt(e.hdr, 0); err != nil {
		return false, fmt.Errorf("restore header of %s: %w", e.path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("restore header of %s: %w", e.path, err)
	}
	return true, nil
}

// fileInode is the inode of the file at path.
func fileInode(path string) (uint64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return inode(st), nil
}

func inode(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}
