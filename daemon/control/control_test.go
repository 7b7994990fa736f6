package control

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func textLog(w *syncBuf) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
}

// A command's records reach the client as the same log lines; the
// client's end (ctx) stops the command, whose last records still come.
func TestRunStreamsAndStops(t *testing.T) {
	dir := t.TempDir()
	var daemonLog, clientLog syncBuf
	started := make(chan struct{})
	s, err := Listen(Options{Path: Path(dir), Logger: textLog(&daemonLog), Commands: map[string]Command{
		"work": func(ctx context.Context, args []string, log *slog.Logger) error {
			log.Info("progress", "files", 1<<40, "of", uint64(3), "ratio", 0.5, "ok", true,
				"err", errors.New("bad file"), "args", strings.Join(args, ","))
			log.Warn("import-legacy: skipped", "file", "/x y/z.rrd")
			close(started)
			<-ctx.Done()
			log.Info("done", "files", 2)
			return context.Cause(ctx)
		},
		"fail": func(context.Context, []string, *slog.Logger) error { return errors.New("it failed") },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if fi, err := os.Stat(Path(dir)); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket %v %v", fi, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	err = Run(ctx, Path(dir), "work", []string{"a", "b"}, textLog(&clientLog))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ErrClientGone.Error()) {
		t.Errorf("Run after cancel: %v", err)
	}
	want := `level=INFO msg=progress files=1099511627776 of=3 ratio=0.5 ok=true err="bad file" args=a,b
level=WARN msg="import-legacy: skipped" file="/x y/z.rrd"
level=INFO msg=done files=2
`
	if got := clientLog.String(); got != want {
		t.Errorf("client log:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(daemonLog.String(), `msg=done control=work files=2`) {
		t.Errorf("daemon log:\n%s", daemonLog.String())
	}
	if err := Run(context.Background(), Path(dir), "fail", nil, textLog(&clientLog)); err == nil || err.Error() != "it failed" {
		t.Errorf("failing command: %v", err)
	}
	if err := Run(context.Background(), Path(dir), "nope", nil, textLog(&clientLog)); err == nil || !strings.Contains(err.Error(), `unknown command "nope"`) {
		t.Errorf("unknown command: %v", err)
	}
}

// Close ends a running command and removes the socket; then Run finds
// no daemon.
func TestCloseEndsCommands(t *testing.T) {
	dir := t.TempDir()
	started := make(chan struct{})
	s, err := Listen(Options{Path: Path(dir), Logger: slog.New(slog.DiscardHandler), Commands: map[string]Command{
		"wait": func(ctx context.Context, _ []string, _ *slog.Logger) error {
			close(started)
			<-ctx.Done()
			return context.Cause(ctx)
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { res <- Run(context.Background(), Path(dir), "wait", nil, slog.New(slog.DiscardHandler)) }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err == nil || err.Error() != ErrShutdown.Error() {
		t.Errorf("Run: %v", err)
	}
	if _, err := os.Stat(Path(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Close: %v", err)
	}
	if err := Run(context.Background(), Path(dir), "wait", nil, slog.New(slog.DiscardHandler)); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("Run without a daemon: %v", err)
	}
	// A stale socket (a killed daemon's) is replaced.
	os.WriteFile(filepath.Join(dir, SocketName), nil, 0o600)
	s, err = Listen(Options{Path: Path(dir)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close(ctx)
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"command":"import-legacy","args":["/a","/b"]}`))
	f.Add([]byte(`{"command":""}`))
	f.Add([]byte(`{"command":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err == nil && r.Command == "" {
			t.Fatal("no command accepted")
		}
	})
}

func FuzzReadRecords(f *testing.F) {
	f.Add([]byte(`{"level":"INFO","msg":"m","attrs":[{"k":"n","v":3},{"k":"s","v":"x"}]}` + "\n" + `{"end":true}`))
	f.Add([]byte(`{"level":"BOGUS","attrs":[{"k":"n","v":1e400},{"k":"o","v":{"a":[1]}}]}{"end":true,"err":"e"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = readRecords(bytes.NewReader(b), slog.New(slog.DiscardHandler))
	})
}

// A client that connects and sends nothing does not hold up Close; one of
// another uid would be refused (samePeer), which a test run as one user
// cannot show beyond the check passing for its own.
func TestCloseWithIdleClient(t *testing.T) {
	dir := t.TempDir()
	s, err := Listen(Options{Path: Path(dir), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The server has the connection once it answers a request; this one
	// sends none, so wait until the accept happened by a second client.
	if err := Run(context.Background(), Path(dir), "none", nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("unknown command accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The shutdown, not the 10 s request deadline, ended it.
	b, _ := io.ReadAll(c)
	if !strings.Contains(string(b), ErrShutdown.Error()) {
		t.Errorf("idle client got %q", b)
	}
}
