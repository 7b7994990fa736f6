package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store"
)

type discardSink struct{}

func (discardSink) WriteBuckets(store.Key, []store.Bucket) error { return nil }
func (discardSink) Sync(context.Context) error                   { return nil }

func newStateParser(t *testing.T) *lineParser {
	t.Helper()
	agg, err := store.NewAggregator(store.AggOptions{Sink: discardSink{},
		Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return &lineParser{name: "syslog", agg: agg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// The syslog input's state survives a shutdown, once: restored at the next
// start and removed, so a later crash does not restore it again. An
// unreadable file is set aside and the input starts afresh.
func TestSyslogStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", syslogStateFile)
	ny, _ := time.LoadLocation("America/New_York")

	p := newStateParser(t)
	if err := p.restoreState(path); err != nil {
		t.Fatal(err)
	}
	p.agg.Start()
	b := p.agg.NewBatch()
	rec, err := parser.ParseRecord([]byte("A 1 2026-11-01 01:59:59 200 1"), ny)
	if err != nil {
		t.Fatal(err)
	}
	b.Add([]byte("h"), []byte("c"), []byte("i"), rec)
	p.agg.Submit(b)
	if err := p.closeAndSave(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state after the shutdown: %v", err)
	}

	p = newStateParser(t)
	if err := p.restoreState(path); err != nil {
		t.Fatal(err)
	}
	if st := p.agg.Stats(); st.Instances != 1 {
		t.Errorf("%d instances restored, want 1", st.Instances)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("state file still there after the restore: %v", err)
	}

	if err := os.WriteFile(path, []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = newStateParser(t)
	if err := p.restoreState(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".bad"); err != nil {
		t.Errorf("unreadable state not set aside: %v", err)
	}
	if st := p.agg.Stats(); st.Instances != 0 {
		t.Errorf("%d instances from an unreadable state", st.Instances)
	}
}
