package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// gmReceiver counts at graphmetrics' listeners (messages handed to the
// parser) and is done when the aggregator has taken every received line.
type gmReceiver struct{ d *daemon }

func (g gmReceiver) name() string { return "graphmetrics" }
func (g gmReceiver) pid() int     { return g.d.pid() }
func (g gmReceiver) addr(transport string) string {
	if transport == "udp" {
		return g.d.udp
	}
	return g.d.tcp
}

func (g gmReceiver) received(ctx context.Context, transport string) (uint64, bool, error) {
	h, err := g.d.health(ctx)
	if err != nil {
		return 0, false, err
	}
	var n uint64
	for _, l := range h.Detail.Inputs["syslog"].Listeners {
		if l.Network == transport {
			n += l.Messages
		}
	}
	lines, rejected, records, _, _ := h.syslog()
	return n, records+rejected >= lines, nil
}

// sinkReceiver is the bare Go reader.
type sinkReceiver struct{ s *sinkProc }

func (s sinkReceiver) name() string { return "bare Go reader" }
func (s sinkReceiver) pid() int     { return s.s.pid() }
func (s sinkReceiver) addr(transport string) string {
	if transport == "udp" {
		return s.s.udp
	}
	return s.s.tcp
}

func (s sinkReceiver) received(_ context.Context, transport string) (uint64, bool, error) {
	c, err := s.s.counts()
	if transport == "udp" {
		return c.Datagrams, true, err
	}
	return c.TCPMessages, true, err
}

// fileCounter counts the lines of a file that is only appended to (and
// truncated by us), reading only what was added since the last call.
type fileCounter struct {
	path  string
	off   int64
	lines uint64
	buf   []byte
}

func (c *fileCounter) count() (uint64, error) {
	f, err := os.Open(c.path)
	if os.IsNotExist(err) {
		return c.lines, nil
	}
	if err != nil {
		return c.lines, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < c.off {
		c.off = 0 // truncated
	}
	if _, err := f.Seek(c.off, io.SeekStart); err != nil {
		return c.lines, err
	}
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for {
		n, err := f.Read(c.buf)
		c.lines += uint64(bytes.Count(c.buf[:n], []byte{'\n'}))
		c.off += int64(n)
		if err == io.EOF {
			return c.lines, nil
		}
		if err != nil {
			return c.lines, fmt.Errorf("count %s: %w", c.path, err)
		}
	}
}

// truncate empties the file to spare disk between steps; syslog-ng opens
// its files with O_APPEND, so it goes on writing at the new end.
func (c *fileCounter) truncate() error {
	if _, err := c.count(); err != nil {
		return err
	}
	if err := os.Truncate(c.path, 0); err != nil && !os.IsNotExist(err) {
		return err
	}
	c.off = 0
	return nil
}
