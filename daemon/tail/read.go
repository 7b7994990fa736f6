package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// work is one block on its way to the handler goroutine: the lines alias
// buf. A work with a marker instead asks for a checkpoint of the positions
// it carries, after every block sent before it.
type work struct {
	buf   []byte
	lines [][]byte
	mark  *marker
}

type marker struct {
	files  []ident
	nextID uint64
	final  bool
}

// atReader reads a file from a position with pread, so the descriptor's
// own offset never matters.
type atReader struct {
	f   *os.File
	off int64
}

func (r *atReader) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// countReader counts the bytes read from disk (compressed ones for .gz).
type countReader struct {
	r io.Reader
	t *Tailer
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.t.addRead(n)
	return n, err
}

// consume reads r, which starts at stream position f.Offset, to its end:
// complete lines go to the handler in blocks and f.Offset moves past each
// block once it is sent. A line longer than MaxLine is counted and skipped
// up to its '\n'. Only when final (a .gz, which never grows) is a last
// line without '\n' complete. It returns the stream position examined up
// to, partial line included.
//
// verify, if set, is called after each block is read and before it is
// handed over: a false (the file was cut or rewritten while it was being
// read) drops the block and ends with errReplaced, so that nothing of
// the new content is taken for the old.
func (t *Tailer) consume(ctx context.Context, f *file, r io.Reader, final bool, verify func() bool) (int64, error) {
	var (
		carry    = t.carry[:0]
		skipping bool
		base     = f.Offset // stream position of the block's first byte
	)
	for {
		w, err := t.getWork(ctx)
		if err != nil {
			return base, err
		}
		n0 := copy(w.buf, carry)
		n, rerr := fill(r, w.buf[n0:])
		if verify != nil && !verify() {
			t.recycle(w)
			return base, errReplaced
		}
		eof := rerr == io.EOF
		data := w.buf[:n0+n]
		start := 0     // first byte not yet part of a complete line
		ended := false // a line ended in this block
		for start < len(data) {
			i := bytes.IndexByte(data[start:], '\n')
			if i < 0 {
				break
			}
			t.addLine(w, data[start:start+i], &skipping)
			start += i + 1
			ended = true
		}
		if eof && final && start < len(data) && !skipping {
			t.addLine(w, data[start:], &skipping)
			start, ended = len(data), true
		}
		if !skipping {
			// NULs before a line (the hole a copytruncate leaves behind a
			// writer without O_APPEND) are not part of it.
			for start < len(data) && data[start] == 0 {
				start++
			}
		}
		rest := data[start:]
		next := base + int64(start)
		switch {
		case skipping:
			next = base + int64(len(data))
			carry = carry[:0]
		case len(rest) > t.opts.MaxLine:
			skipping = true
			next = base + int64(len(data))
			carry = carry[:0]
		default:
			carry = append(carry[:0], rest...)
		}
		if len(w.lines) > 0 {
			if err := t.send(ctx, w); err != nil {
				return base, err
			}
		} else {
			t.recycle(w)
		}
		if ended {
			// Every complete line up to here is handed over (or was an
			// oversize line, skipped): the position may move.
			f.Offset = base + int64(start)
			t.dirty = true
		}
		base = next
		t.carry = carry
		if eof {
			return base + int64(len(carry)), nil
		}
		if rerr != nil {
			// The complete lines before the error are handed over; the
			// caller retries from the position.
			return base + int64(len(carry)), rerr
		}
		t.between()
	}
}

// fill reads until p is full or r fails; a clean end is io.EOF.
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// addLine queues one line (without its '\n'), or counts it when it is the
// end of an oversize line.
func (t *Tailer) addLine(w *work, line []byte, skipping *bool) {
	if *skipping || len(line) > t.opts.MaxLine {
		*skipping = false
		t.stats.oversize.Add(1)
		t.limit.Log(t.log, "oversize", "line longer than max_line skipped", "max_line", t.opts.MaxLine)
		return
	}
	// A copytruncate against a writer without O_APPEND leaves a hole of
	// NULs where the old content was.
	for len(line) > 0 && line[0] == 0 {
		line = line[1:]
	}
	if len(line) > 0 {
		w.lines = append(w.lines, line)
	}
}

func (t *Tailer) getWork(ctx context.Context) (*work, error) {
	select {
	case w := <-t.free:
		w.lines = w.lines[:0]
		w.mark = nil
		return w, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (t *Tailer) recycle(w *work) { t.free <- w }

func (t *Tailer) send(ctx context.Context, w *work) error {
	select {
	case t.work <- w:
		t.stats.lines.Add(uint64(len(w.lines)))
		t.prog.lines += uint64(len(w.lines))
		return nil
	case <-ctx.Done():
		t.recycle(w)
		return ctx.Err()
	}
}

// preparePlain looks at a plain file before it is read: it reopens a
// dormant one, notices truncation or content replaced under the same
// inode, and matches new content against the identities it knows. It
// reports whether there is something to read now.
func (t *Tailer) preparePlain(f *file, now time.Time) (bool, error) {
	if f.Twin != 0 || f.skip == t.passN {
		return false, nil
	}
	if f.f == nil {
		if f.unchanged() {
			return false, nil // dormant and unchanged since it was closed
		}
		if err := t.reopen(f); err != nil {
			return false, err
		}
	}
	fi, err := f.f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", f.Path, err)
	}
	f.size, f.mtime = fi.Size(), fi.ModTime()
	if f.unchanged() {
		return false, nil
	}
	at, head, err := plainHead(f.f, f.size)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", f.Path, err)
	}
	n := len(head)
	if f.FPLen > 0 && (at != f.FPAt || n < f.FPLen || fingerprint(head[:f.FPLen]) != f.FP || f.size < f.Offset) {
		// Cut (copytruncate) or rewritten in place under the same inode.
		// Its new content is read in the next pass, after the copy of the
		// old content (which a scan may still have to find).
		t.stats.rotations.Add(1)
		t.log.Info("file truncated or replaced: reading it from the start", "path", f.Path, "offset", f.Offset, "size", f.size)
		t.tab.forkTruncated(f, now)
		f.skip = t.passN
		t.again, t.dirty = true, true
		return false, nil
	}
	switch {
	case n == 0:
		f.readTo, f.readTime = f.size, f.mtime // nothing but NULs so far
		return false, nil
	case f.FPLen == 0:
		t.tab.match(f, at, head)
		t.dirty = true
		if f.Twin != 0 {
			t.log.Info("file is a copy of a followed file: read after that one ends", "path", f.Path)
			return false, nil
		}
		if f.Offset > at {
			t.log.Info("file is a copy of a finished file: reading after its end", "path", f.Path, "offset", f.Offset)
		}
	case n > f.FPLen:
		f.setFP(at, head)
		t.dirty = true
	}
	return true, nil
}

// readPlain reads what is new in a plain file.
func (t *Tailer) readPlain(ctx context.Context, f *file, now time.Time) error {
	ok, err := t.preparePlain(f, now)
	if !ok || err != nil {
		return err
	}
	before, mtime := f.Offset, f.mtime
	readTo, err := t.consume(ctx, f, countReader{&atReader{f: f.f, off: f.Offset}, t}, false,
		func() bool { return t.sameHead(f) })
	if readTo > f.readTo || f.Offset != before {
		f.lastGrow = now
	}
	f.readTo, f.readTime = readTo, mtime
	if errors.Is(err, errReplaced) {
		f.readTo = -1
		t.again = true // the next pass sees the cut and forks
		return nil
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	return nil
}

// seekData is lseek's SEEK_DATA: the next offset that is not a hole.
const seekData = 3

// plainHead finds where a file's content starts, after any hole of NULs
// (sparse or written), and reads up to fpMax bytes from there.
func plainHead(fd *os.File, size int64) (int64, []byte, error) {
	buf := make([]byte, fpMax)
	n, err := fd.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return 0, nil, err
	}
	if n == 0 || buf[0] != 0 {
		return 0, buf[:n], nil
	}
	var at int64
	if d, err := fd.Seek(0, seekData); err == nil {
		at = d
	} else if errors.Is(err, syscall.ENXIO) {
		return size, nil, nil // all hole
	}
	chunk := make([]byte, 64<<10)
	for {
		n, err := fd.ReadAt(chunk, at)
		if i := bytes.IndexFunc(chunk[:n], func(r rune) bool { return r != 0 }); i >= 0 {
			at += int64(i)
			break
		}
		at += int64(n)
		if err == io.EOF {
			return at, nil, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
	n, err = fd.ReadAt(buf, at)
	if err != nil && err != io.EOF {
		return 0, nil, err
	}
	return at, buf[:n], nil
}

// reopen opens a dormant file by path, if the path still names it.
func (t *Tailer) reopen(f *file) error {
	fd, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		return fmt.Errorf("stat %s: %w", f.Path, err)
	}
	if keyOf(fi) != f.key() {
		fd.Close()
		return errMoved
	}
	f.f = fd
	return nil
}

var (
	errMoved    = errors.New("path names another file now")
	errReplaced = errors.New("file cut or rewritten while being read")
)

// unchanged reports whether f has the size and mtime it had when last
// read to its end (a copytruncate may well leave the same size).
func (f *file) unchanged() bool {
	return f.readTo >= 0 && f.readTo == f.size && f.mtime.Equal(f.readTime)
}

// sameHead reports whether an open plain file still starts with the
// content it was fingerprinted by.
func (t *Tailer) sameHead(f *file) bool {
	at, head, err := plainHead(f.f, f.size)
	return err == nil && at == f.FPAt && len(head) >= f.FPLen && fingerprint(head[:f.FPLen]) == f.FP
}
