package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Command runs one request inside the daemon. log goes to the client (and
// to the daemon's log); ctx ends when the client goes away or stops it
// (cause ErrClientGone), or when the server closes (ErrShutdown).
type Command func(ctx context.Context, args []string, log *slog.Logger) error

// The causes of a command's context's end.
var (
	ErrClientGone = errors.New("stopped by the client")
	ErrShutdown   = errors.New("the daemon is shutting down")
)

// Options configures a Server.
type Options struct {
	Path     string             // the socket; required
	Commands map[string]Command // by name
	Logger   *slog.Logger       // the daemon's log; default slog.Default()
}

// Server accepts commands on a unix socket.
type Server struct {
	o      Options
	ln     *net.UnixListener
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
}

// Listen creates the socket (0600; a stale one from a killed daemon is
// replaced: the caller holds the data_dir lock) and starts serving.
func Listen(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.Remove(o.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// The daemon's umask (077) keeps it owner-only from the start; the
	// umask is the process's, so it is not changed here.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: o.Path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(o.Path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	s := &Server{o: o, ln: ln}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if s.ctx.Err() == nil {
				s.o.Logger.Error("control socket: accept failed, no more commands", "err", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

// Close stops accepting, ends running commands and waits for them, and
// removes the socket.
func (s *Server) Close(ctx context.Context) error {
	s.cancel(ErrShutdown)
	err := s.ln.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("control socket: %w", ctx.Err())
	}
}

func (s *Server) serve(c *net.UnixConn) {
	defer c.Close()
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	bw := bufio.NewWriter(c)
	out := &recordWriter{w: bw, gone: func() { cancel(ErrClientGone) }, flush: func() error {
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		return bw.Flush()
	}}
	end := func(err error) {
		r := Record{End: true}
		if err != nil {
			r.Err = err.Error()
		}
		out.send(r)
	}
	if err := samePeer(c); err != nil {
		s.o.Logger.Warn("control socket: refused", "err", err)
		end(err)
		return
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	// Close does not wait for a client that sends no request.
	unblock := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	br := bufio.NewReaderSize(io.LimitReader(c, MaxRequest+1), 4096)
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		line, err = readLong(br, line)
	}
	if !unblock() {
		end(context.Cause(ctx)) // closing
		return
	}
	var req Request
	if err == nil {
		req, err = ParseRequest(line)
	}
	cmd := s.o.Commands[req.Command]
	if err == nil && cmd == nil {
		err = fmt.Errorf("unknown command %q", req.Command)
	}
	if err != nil {
		s.o.Logger.Warn("control socket: bad request", "err", err)
		end(err)
		return
	}
	c.SetReadDeadline(time.Time{})
	// The client's side ending (CloseWrite or gone) stops the command.
	go func() {
		io.Copy(io.Discard, c)
		cancel(ErrClientGone)
	}()
	h := &recordHandler{out: out, level: slog.LevelDebug}
	log := slog.New(tee{h, s.o.Logger.Handler().WithAttrs([]slog.Attr{slog.String("control", req.Command)})})
	end(cmd(ctx, req.Args, log))
}

// readLong reads the rest of a line longer than the reader's buffer
// (bounded by the LimitReader).
func readLong(br *bufio.Reader, first []byte) ([]byte, error) {
	line := append([]byte(nil), first...)
	for {
		more, err := br.ReadSlice('\n')
		line = append(line, more...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(line) > MaxRequest {
				return nil, fmt.Errorf("request longer than %d bytes", MaxRequest)
			}
			return line, err
		}
	}
}

// samePeer refuses a peer of another user than the daemon's.
func samePeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("peer uid %d is not the daemon's (%d)", cred.Uid, os.Getuid())
	}
	return nil
}
