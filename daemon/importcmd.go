package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"graphmetrics/parser"
)

// runImport replays trace.log files (or syslog-ng directory files) into the
// RRD files. Replays are idempotent: RRD refuses seconds it already has.
func runImport(ctx context.Context, args []string, stderr io.Writer) error {
	fs, cfgPath := newFlags("import", stderr)
	customer := fs.String("customer", "", "customer of a plain trace.log")
	instance := fs.String("instance", "", "instance of a plain trace.log")
	host := fs.String("host", "", "host of a plain trace.log (default: this machine's name)")
	dir := fs.Bool("dir", false, "files are syslog-ng directory files (host customer instance [:] RECORD)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("import: no files given")
	}
	if !*dir && (*customer == "" || *instance == "") {
		return errors.New("import: plain trace.log files need -customer and -instance (or use -dir)")
	}
	if *host == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("import: -host not given and no hostname: %w", err)
		}
		*host = h
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	p, err := openPipeline(cfg, log)
	if err != nil {
		return err
	}
	lp, err := p.newLineParser("import", true)
	if err == nil {
		err = lp.agg.Start()
	}
	if err != nil {
		return errors.Join(err, p.Close(ctx))
	}

	var readErr error
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		if *dir {
			readErr = readLines(f, cfg.Syslog.MaxMessage, &lp.oversize, lp.HandleDirLines)
		} else {
			m := parser.Message{Host: []byte(*host)}
			prefix := []byte(*customer + " " + *instance + " ")
			readErr = readLines(f, cfg.Syslog.MaxMessage, &lp.oversize, func(lines [][]byte) {
				// Plain records: give them the named instance as a body prefix.
				for i, l := range lines {
					lines[i] = append(append(make([]byte, 0, len(prefix)+len(l)), prefix...), l...)
				}
				lp.HandleBodies(m, lines)
			})
		}
		if readErr != nil {
			break
		}
	}
	lp.finishImport()
	closeErr := p.Close(context.Background())
	st, ws := lp.agg.Stats(), p.writer.Stats()
	log.Info("import done", "files", len(files), "lines", lp.lines.Load(),
		"rejected", lp.rejects.Snapshot(), "oversize", lp.oversize.Load(), "late", st.Late,
		"nonexistent_times", lp.nonexistent.Load(),
		"future", lp.guard.future, "refused_instances", st.RefusedInstances,
		"rows_written", ws.Rows, "rows_already_present", ws.Skipped)
	return errors.Join(readErr, closeErr)
}

// readLines feeds the lines of a plain or gzipped file to fn in batches.
// Lines longer than maxLine are skipped and counted in oversize.
func readLines(path string, maxLine int, oversize *atomic.Uint64, fn func([][]byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	r := br
	if isGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = bufio.NewReaderSize(zr, 1<<20)
	}
	batch := make([][]byte, 0, 1024)
	skipping := false
	for {
		line, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			skipping = true
			continue
		case skipping:
			// The tail of an over-long line.
			skipping = false
			oversize.Add(1)
		case len(line) > maxLine:
			oversize.Add(1)
		case len(line) > 0:
			batch = append(batch, bytes.Clone(bytes.TrimRight(line, "\r\n")))
		}
		if len(batch) == cap(batch) || (err != nil && len(batch) > 0) {
			fn(batch)
			batch = batch[:0]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

func isGzip(r *bufio.Reader) bool {
	b, err := r.Peek(2)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}
