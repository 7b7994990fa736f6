package tail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// gzSettle: a .gz is only read once it has not changed for this long,
// so that one being written by gzip is not taken for a finished one.
const gzSettle = 2 * time.Second

// readGZ reads a .gz file once, from its decompressed offset to the end.
// An incomplete stream (still being written, or cut) is retried when the
// file changes; its lines read so far stay counted.
func (t *Tailer) readGZ(ctx context.Context, f *file, now time.Time) error {
	if f.Done || f.Twin != 0 || f.readTo == f.size || now.Sub(f.mtime) < gzSettle {
		return nil
	}
	if f.f == nil {
		if err := t.reopen(f); err != nil {
			return err
		}
	}
	f.readTo = f.size // one attempt per size
	zr, err := gzip.NewReader(bufio.NewReaderSize(countReader{io.NewSectionReader(f.f, 0, f.size), t}, 256<<10))
	if err != nil {
		return fmt.Errorf("gzip %s: %w", f.Path, err)
	}
	head := make([]byte, fpMax)
	n, err := io.ReadFull(zr, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("gzip %s: %w", f.Path, err)
	}
	if f.FPLen > 0 && (n < f.FPLen || fingerprint(head[:f.FPLen]) != f.FP) {
		t.stats.rotations.Add(1)
		t.log.Info(".gz file replaced: reading it from the start", "path", f.Path)
		t.tab.forkTruncated(f, now)
	}
	if f.FPLen < n {
		if f.FPLen == 0 {
			t.tab.match(f, 0, head)
			if f.Twin != 0 {
				t.log.Info(".gz is a copy of a followed file: read after that one ends", "path", f.Path)
				f.readTo = -1
				t.dirty = true
				return nil
			}
		}
		f.setFP(0, head)
		t.dirty = true
	}
	r := io.MultiReader(bytes.NewReader(head), zr)
	if _, err := io.CopyN(io.Discard, r, f.Offset); err != nil {
		if err == io.EOF {
			f.Done = true // the copy holds nothing new
			f.closeFD()
			t.dirty = true
			return nil
		}
		return fmt.Errorf("gzip %s: %w", f.Path, err)
	}
	from := f.Offset
	_, err = t.consume(ctx, f, r, true, nil)
	switch {
	case err == nil:
		f.Done = true
		f.closeFD()
		t.dirty = true
		t.log.Info(".gz read", "path", f.Path, "from", from, "to", f.Offset)
		return nil
	case ctx.Err() != nil:
		f.readTo = -1
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("gzip %s incomplete (retried when it changes): %w", f.Path, err)
	default:
		return fmt.Errorf("gzip %s: %w", f.Path, err)
	}
}
