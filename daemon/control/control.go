// Package control is the running daemon's command socket,
// <data_dir>/control.sock: commands of the graphmetrics CLI that must run
// inside the daemon (import-legacy, which needs the RRD writer's
// cooperation) are handed to it there.
//
// Only the daemon's own user reaches it: the socket is 0600 in the 0700
// data_dir, and the server refuses a peer of another uid (SO_PEERCRED)
// all the same. One connection carries one command: the client sends a
// Request line (JSON), the server streams the command's log records
// (Record lines) and ends with a Record whose End is set. A client that
// closes its side (Ctrl-C: CloseWrite; a kill: the whole connection) stops
// the command: its context ends, and the client still reads the final
// records. The daemon's shutdown ends every command the same way first.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"time"
)

// SocketName is the socket's name in data_dir.
const SocketName = "control.sock"

// Path is the control socket of data_dir.
func Path(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// MaxRequest bounds a request line.
const MaxRequest = 64 << 10

// Request is what a client asks.
type Request struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

// Record is one line the server sends: a log record of the command, or
// its end (End, with Err when it failed).
type Record struct {
	Level string `json:"level,omitempty"`
	Msg   string `json:"msg,omitempty"`
	Attrs []Attr `json:"attrs,omitempty"`
	End   bool   `json:"end,omitempty"`
	Err   string `json:"err,omitempty"`
}

// Attr is a log attribute; Value is a JSON string, number or boolean.
type Attr struct {
	Key   string `json:"k"`
	Value any    `json:"v"`
}

// ParseRequest reads a request line (untrusted bytes).
func ParseRequest(line []byte) (Request, error) {
	var r Request
	if len(line) > MaxRequest {
		return r, fmt.Errorf("request of %d bytes, more than %d", len(line), MaxRequest)
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("request: %w", err)
	}
	if r.Command == "" {
		return r, errors.New("request: no command")
	}
	return r, nil
}

// recordHandler is a slog.Handler that sends records to a connection.
type recordHandler struct {
	out   *recordWriter
	attrs []Attr
	level slog.Leveler
}

// recordWriter writes Record lines; a failed write (the client is gone)
// calls gone once, and later writes do nothing.
type recordWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	flush  func() error
	failed bool
	gone   func()
}

func (rw *recordWriter) send(r Record) {
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.failed {
		return
	}
	rw.w.Write(append(b, '\n'))
	if err := rw.flush(); err != nil {
		rw.failed = true
		rw.gone()
	}
}

func (h *recordHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	rec := Record{Level: r.Level.String(), Msg: r.Message, Attrs: append([]Attr(nil), h.attrs...)}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs = append(rec.Attrs, toAttr(a))
		return true
	})
	h.out.send(rec)
	return nil
}

func (h *recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]Attr(nil), h.attrs...)
	for _, a := range as {
		n.attrs = append(n.attrs, toAttr(a))
	}
	return &n
}

// WithGroup is not needed by the commands: groups are flattened.
func (h *recordHandler) WithGroup(string) slog.Handler { return h }

func toAttr(a slog.Attr) Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return Attr{a.Key, v.String()}
	case slog.KindInt64:
		return Attr{a.Key, v.Int64()}
	case slog.KindUint64:
		return Attr{a.Key, v.Uint64()}
	case slog.KindFloat64:
		if f := v.Float64(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return Attr{a.Key, f}
		}
	case slog.KindBool:
		return Attr{a.Key, v.Bool()}
	}
	return Attr{a.Key, v.String()}
}

// slogAttr turns a received attribute back into a slog one.
func slogAttr(a Attr) slog.Attr {
	switch v := a.Value.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return slog.Int64(a.Key, i)
		}
		if f, err := v.Float64(); err == nil {
			return slog.Float64(a.Key, f)
		}
		return slog.String(a.Key, v.String())
	case string:
		return slog.String(a.Key, v)
	case bool:
		return slog.Bool(a.Key, v)
	}
	return slog.Any(a.Key, a.Value)
}

// tee sends records to two handlers.
type tee struct{ a, b slog.Handler }

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	if t.a.Enabled(ctx, r.Level) {
		errs = append(errs, t.a.Handle(ctx, r.Clone()))
	}
	if t.b.Enabled(ctx, r.Level) {
		errs = append(errs, t.b.Handle(ctx, r))
	}
	return errors.Join(errs...)
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	return tee{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t tee) WithGroup(g string) slog.Handler { return tee{t.a.WithGroup(g), t.b.WithGroup(g)} }

// writeTimeout bounds a write to a client that does not read.
const writeTimeout = 30 * time.Second
