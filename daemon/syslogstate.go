package main

import (
	"context"
	"errors"
	"os"

	"graphmetrics/daemon/atomicfile"
)

// The syslog input cannot replay what it received, but a restart must not
// forget what its aggregator knows: in-flight requests, how far each
// instance is final, and its newest record, which decides the occurrence of
// a wall time the clocks pass twice (store's doc). On SIGTERM the
// aggregator's last checkpoint is kept in state/syslog.state and restored
// at the next start; the file is then removed, so a later crash never
// restores state older than what was written since.

const syslogStateFile = "syslog.state"

// restoreState loads the state a previous shutdown left; call it before the
// aggregator starts. An unreadable file is set aside, not fatal: the input
// then starts afresh, as it did before a first shutdown.
func (p *lineParser) restoreState(path string) error {
	p.statePath = path
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		if err = p.agg.Restore(data); err == nil {
			p.log.Info("restored the state of the last shutdown", "file", path)
			return os.Remove(path)
		}
	}
	p.log.Error("unusable input state set aside", "file", path, "err", err)
	return os.Rename(path, path+".bad")
}

// closeAndSave closes the aggregator and, for an input with a state file,
// writes what is left of its state there.
func (p *lineParser) closeAndSave(ctx context.Context) error {
	if p.statePath == "" {
		return p.agg.Close(ctx)
	}
	data, err := p.agg.CloseCheckpoint(ctx)
	if err != nil || data == nil {
		return err
	}
	return atomicfile.Write(p.statePath, data)
}
