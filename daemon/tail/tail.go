// Package tail follows the files of a syslog-ng directory (SPEC §2.2) and
// hands their lines to an aggregator exactly once, across rotations and
// restarts.
//
// A Tailer is the only feeder of its aggregator. At every checkpoint it
// has the aggregator write its final buckets and return the rest of its
// state, then writes one snapshot holding that state and the read
// positions that produced it (SPEC §10). After a crash the snapshot is
// restored and reading resumes at its positions: lines read after it are
// read again, and the seconds they had already written are refused by RRD.
//
// Files are known by device+inode, checked against a fingerprint of their
// head, and their copies (copytruncate, .gz of a rotated file) by the
// fingerprint alone, so a copy is read only from where its original ended.
package tail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"graphmetrics/store/loglimit"
)

// Options configures a Tailer. Handle, Checkpoint, Restore and StateFile
// are required.
type Options struct {
	Paths        []string      // globs (filepath.Match syntax); .gz matches are read once
	PollInterval time.Duration // rescan of the globs and files; default 1s
	StateFile    string        // the snapshot, e.g. data_dir/state/tail.json
	MaxLine      int           // longer lines are counted and skipped; default 64 KiB
	// Handle takes a batch of complete lines without their '\n'. It is
	// called from one goroutine and must not keep lines after returning.
	Handle func(lines [][]byte)
	// Checkpoint writes the aggregator's final buckets and returns the
	// rest of its state, reflecting every line handed over before the call.
	Checkpoint func(ctx context.Context) ([]byte, error)
	// FinalCheckpoint, if set, replaces Checkpoint for the last checkpoint
	// of Close (e.g. the aggregator's CloseCheckpoint, which writes every
	// pending second as well). Only Close's last checkpoint uses it, after
	// every line read has been handed over.
	FinalCheckpoint func(ctx context.Context) ([]byte, error)
	// Restore loads a Checkpoint result. Start calls it before any Handle,
	// so the aggregator must be started after Start returns.
	Restore            func([]byte) error
	CheckpointInterval time.Duration // default 10s (the flush interval)
	// OrphanGrace: a file renamed away from the globs or deleted is still
	// read until it has not grown for this long (its writer may not have
	// reopened yet). Default 1m.
	OrphanGrace time.Duration
	// IdleClose: the descriptor of a file that has not grown for this long
	// is closed (it is reopened when the file changes). Default 5m.
	IdleClose time.Duration
	// ForgetAfter: identities of retired files are kept this long to
	// recognise their copies and .gz. Default 7 days.
	ForgetAfter   time.Duration
	BlockSize     int           // read size; default 1 MiB
	BatchLines    int           // lines per Handle call; default 4096
	ProgressEvery time.Duration // catch-up progress log interval; default 5s
	Logger        *slog.Logger
}

func (o *Options) defaults() error {
	if o.Handle == nil || o.Checkpoint == nil || o.Restore == nil || o.StateFile == "" {
		return errors.New("tail: Handle, Checkpoint, Restore and StateFile are required")
	}
	for _, p := range o.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("tail: path %q: %w", p, err)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.CheckpointInterval, 10*time.Second)
	def(&o.OrphanGrace, time.Minute)
	def(&o.IdleClose, 5*time.Minute)
	def(&o.ForgetAfter, 7*24*time.Hour)
	def(&o.ProgressEvery, 5*time.Second)
	if o.MaxLine <= 0 {
		o.MaxLine = 64 << 10
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 1 << 20
	}
	// A block holds a whole line of MaxLine plus room for more.
	o.BlockSize = max(o.BlockSize, 2*o.MaxLine+2)
	if o.BatchLines <= 0 {
		o.BatchLines = 4096
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// blocks in flight between reader and handler: reading goes on while the
// handler parses and while a checkpoint waits for RRD.
const blocks = 4

// Tailer follows the files matching Options.Paths.
type Tailer struct {
	opts  Options
	log   *slog.Logger
	limit *loglimit.Limiter
	stats counters

	// Owned by the reader goroutine.
	tab      *table
	carry    []byte
	dirty    bool
	nextCkpt time.Time
	prog     progress
	watch    *watcher
	lastPass time.Time
	passN    uint64
	again    bool // a truncation was found: read again right away

	work chan *work
	free chan *work

	mu        sync.Mutex
	started   bool
	closed    bool
	stop      context.CancelFunc // stops the reader
	hctx      context.Context    // the handler's checkpoints
	hcancel   context.CancelFunc
	readDone  chan struct{}
	handlDone chan struct{}
	finalErr  error // of the final checkpoint, set by the handler
}

// New validates the options.
func New(o Options) (*Tailer, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	log := o.Logger.With("component", "tail")
	t := &Tailer{
		opts:  o,
		log:   log,
		limit: loglimit.New(30*time.Second, nil),
		tab:   newTable(),
		work:  make(chan *work, blocks),
		free:  make(chan *work, blocks),
	}
	return t, nil
}

// Start loads the snapshot (calling Restore), then follows the files in
// the background: it does not wait for the catch-up of a backlog.
func (t *Tailer) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started || t.closed {
		return errors.New("tail: already started")
	}
	if err := t.load(); err != nil {
		return err
	}
	for range blocks {
		t.free <- &work{buf: make([]byte, t.opts.BlockSize), lines: make([][]byte, 0, t.opts.BlockSize/64)}
	}
	w, err := newWatcher(t.log)
	if err != nil {
		// Polling alone still finds everything, only later.
		t.log.Warn("file notifications unavailable, polling only", "err", err)
	}
	t.watch = w
	t.started = true
	rctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.hctx, t.hcancel = context.WithCancel(context.Background())
	t.readDone, t.handlDone = make(chan struct{}), make(chan struct{})
	t.nextCkpt = time.Now().Add(t.opts.CheckpointInterval)
	go func() {
		defer close(t.readDone)
		t.run(rctx)
	}()
	go func() {
		defer close(t.handlDone)
		t.handle()
	}()
	return nil
}

// load restores the snapshot. An unreadable one is set aside and reading
// starts over from the beginning of every file: RRD refuses the seconds
// that are already written, so that costs time, not correctness.
func (t *Tailer) load() error {
	s, err := loadState(t.opts.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		if err = t.opts.Restore(s.Aggregator); err == nil {
			t.tab.restore(s)
			t.log.Info("resuming from snapshot", "files", len(s.Files), "written", s.Written)
			return nil
		}
	}
	bad, rerr := setAside(t.opts.StateFile)
	if rerr != nil {
		return fmt.Errorf("tail: unusable state %s (%v) and cannot set it aside: %w", t.opts.StateFile, err, rerr)
	}
	t.log.Error("unusable tail state set aside; reading every file from the start", "err", err, "moved_to", bad)
	return nil
}

// Close stops reading, has the handler hand over what was read, and writes
// the final checkpoint.
func (t *Tailer) Close(ctx context.Context) error {
	t.mu.Lock()
	if !t.started || t.closed {
		t.closed = true
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.stop()
	select {
	case <-t.handlDone:
	case <-ctx.Done():
		t.hcancel()
		return fmt.Errorf("tail close: %w", ctx.Err())
	}
	<-t.readDone
	t.hcancel()
	if t.watch != nil {
		t.watch.close()
	}
	for _, f := range t.tab.live {
		f.closeFD()
	}
	return t.finalErr
}
