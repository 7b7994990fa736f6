package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser"
)

// TestFileMode runs loadgen -mode file and reads the file back with the
// daemon's own directory-line parser: one line per record, in time order,
// from the -start on, every request complete (B I C A E on one RID) with a
// -patterns URL, about 1% errors, instances told apart by host, and the
// summary's counts those of the file (-rate is lines/s: 4,000 requests/s).
func TestFileMode(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fleet.log")
	var stdout bytes.Buffer
	args := []string{"-mode", "file", "-out", out, "-rate", "20000", "-duration", "3s", "-instances", "40",
		"-patterns", "30", "-timezone", "UTC", "-start", "2026-12-05T03:59:58Z"}
	if err := run(context.Background(), args, nil, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Date(2026, 12, 5, 3, 59, 58, 0, time.UTC).UnixMicro()
	open := map[string]string{} // host/customer/instance/RID -> codes so far
	names := map[string]bool{}
	var lines, ends, errs uint64
	last := start
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		m, err := parser.ParseDirLine(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d %q: %v", lines, sc.Text(), err)
		}
		cust, inst, body, err := parser.Attribute(m)
		if err != nil {
			t.Fatalf("line %d %q: %v", lines, sc.Text(), err)
		}
		rec, err := parser.ParseRecord(body, time.UTC)
		if err != nil {
			t.Fatalf("line %d %q: %v", lines, sc.Text(), err)
		}
		if rec.Time < last {
			t.Fatalf("line %d %q goes back in time", lines, sc.Text())
		}
		last = rec.Time
		name := string(m.Host) + "/" + string(cust) + "/" + string(inst)
		names[name] = true
		key := name + "/" + string(rec.RID)
		open[key] += string(rec.Code)
		switch rec.Code {
		case 'B':
			if !strings.Contains(string(rec.Data), " /app/section-") {
				t.Fatalf("line %d %q: not a -patterns URL", lines, sc.Text())
			}
		case 'A':
			if !bytes.HasPrefix(rec.Data, []byte("200 ")) {
				errs++
			}
		case 'E':
			if open[key] != "BICAE" {
				t.Fatalf("%s: request went %q", key, open[key])
			}
			delete(open, key)
			ends++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(open) != 0 || len(names) != 40 {
		t.Fatalf("%d requests left open, %d instances (want 40)", len(open), len(names))
	}
	if ends != 12000 || lines != 5*ends || sum.Sent != lines || sum.Requests != ends || sum.Errors != errs {
		t.Fatalf("%d requests in %d lines, %d errors; summary %+v", ends, lines, errs, sum)
	}
	if errs == 0 || errs > 12000/50 {
		t.Fatalf("%d errors in %d requests, want about 1%%", errs, ends)
	}
	if last > start+4e6 {
		t.Fatalf("last record %d µs after the start", last-start)
	}
}
