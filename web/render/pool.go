package render

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// EnvWorker is set to "1" in every worker's environment, so a binary (or a
// test binary) can tell that it should run WorkerMain.
const EnvWorker = "GRAPHMETRICS_RENDER_WORKER"

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("render pool closed")

// WorkerError is an error reported by librrd in a worker (bad file, bad
// data), as opposed to a failure of the worker process itself.
type WorkerError struct{ Msg string }

func (e *WorkerError) Error() string { return e.Msg }

// PoolOptions configures a Pool.
type PoolOptions struct {
	Command    []string      // argv of a worker process
	Workers    int           // processes; default runtime.NumCPU()
	MaxRenders int           // requests before a worker is replaced; default 500
	Timeout    time.Duration // per request; default 30s
	Root       string        // absolute directory all DEF files must be under
	Env        []string      // added to the worker's environment, e.g. TZ
	Logger     *slog.Logger
}

// Pool runs requests on a fixed number of worker processes, one request per
// process at a time, replacing each process after MaxRenders requests so the
// memory librrd leaks is returned to the system.
type Pool struct {
	opts  PoolOptions
	log   *slog.Logger
	slots chan *proc // one entry per worker; nil means "start one when needed"
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	requests, spawns, failures atomic.Int64
}

// NewPool checks the options; processes start in Start or on first use.
func NewPool(o PoolOptions) (*Pool, error) {
	if len(o.Command) == 0 {
		return nil, errors.New("render pool: no worker command")
	}
	if err := checkFile(o.Root, o.Root+"/x.rrd"); err != nil {
		return nil, fmt.Errorf("render pool root: %w", err)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.MaxRenders <= 0 {
		o.MaxRenders = 500
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{opts: o, log: o.Logger, slots: make(chan *proc, o.Workers), done: make(chan struct{})}
	for range o.Workers {
		p.slots <- nil
	}
	return p, nil
}

// Start starts every worker, so the first page does not wait for them.
func (p *Pool) Start() error {
	ws := make([]*proc, 0, p.opts.Workers)
	var err error
	for range p.opts.Workers {
		w := <-p.slots
		if w == nil && err == nil {
			w, err = p.spawn()
		}
		ws = append(ws, w)
	}
	for _, w := range ws {
		p.slots <- w
	}
	return err
}

// Stats are counters for health reports and tests.
type Stats struct {
	Requests int64 `json:"requests"`
	Spawns   int64 `json:"spawns"`
	Failures int64 `json:"failures"`
}

// Stats returns the counters.
func (p *Pool) Stats() Stats {
	return Stats{p.requests.Load(), p.spawns.Load(), p.failures.Load()}
}

// Do runs one request and returns its payload. A *WorkerError means the
// worker answered with an error; any other error means no answer. ctx
// bounds only the wait for a free worker: once started, a request runs to
// its end or to Timeout, because abandoning it would cost the worker
// (browsers cancel image loads all the time).
func (p *Pool) Do(ctx context.Context, req *Request) ([]byte, error) {
	payload, _, err := p.DoResponse(ctx, req)
	return payload, err
}

// DoResponse is Do that also returns the worker's response header.
func (p *Pool) DoResponse(ctx context.Context, req *Request) ([]byte, Response, error) {
	var w *proc
	select {
	case w = <-p.slots:
	case <-p.done:
		return nil, Response{}, ErrClosed
	case <-ctx.Done():
		return nil, Response{}, ctx.Err()
	}
	select {
	case <-p.done:
		p.slots <- w
		return nil, Response{}, ErrClosed
	default:
	}
	p.requests.Add(1)
	if w == nil {
		var err error
		if w, err = p.spawn(); err != nil {
			p.failures.Add(1)
			p.slots <- nil
			return nil, Response{}, err
		}
	}
	payload, resp, werr, err := w.call(req, p.opts.Timeout)
	if err != nil {
		p.failures.Add(1)
		p.log.Warn("render worker failed; replacing it", "pid", w.cmd.Process.Pid, "err", err)
		p.stop(w, true)
		p.slots <- nil
		return nil, Response{}, fmt.Errorf("render worker: %w", err)
	}
	w.uses++
	select {
	case <-p.done: // Close gave up waiting for this request
		p.stop(w, false)
		w = nil
	default:
		if w.uses >= p.opts.MaxRenders {
			p.stop(w, false)
			w = nil
		}
	}
	p.slots <- w
	if werr != nil {
		return nil, resp, werr
	}
	return payload, resp, nil
}

// Close stops every worker, waiting for requests in progress up to ctx.
func (p *Pool) Close(ctx context.Context) error {
	p.once.Do(func() { close(p.done) })
	var err error
	taken := 0
	for taken < p.opts.Workers && err == nil {
		select {
		case w := <-p.slots:
			taken++
			if w != nil {
				p.stop(w, false)
			}
		case <-ctx.Done():
			err = fmt.Errorf("render pool close: %w", ctx.Err())
		}
	}
	for range taken {
		p.slots <- nil // so a second Close finds every slot
	}
	if err != nil {
		// A request still holds a worker; Do stops it when it ends.
		return err
	}
	waited := make(chan struct{})
	go func() { p.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		err = fmt.Errorf("render pool close: %w", ctx.Err())
	}
	return err
}

// proc is one worker process; only the goroutine holding its slot uses it.
type proc struct {
	cmd  *exec.Cmd
	in   *os.File
	out  *os.File
	r    *bufio.Reader
	uses int
}

func (p *Pool) spawn() (*proc, error) {
	p.spawns.Add(1)
	cr, in, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start render worker: %w", err)
	}
	out, cw, err := os.Pipe()
	if err != nil {
		cr.Close()
		in.Close()
		return nil, fmt.Errorf("start render worker: %w", err)
	}
	cmd := exec.Command(p.opts.Command[0], p.opts.Command[1:]...)
	cmd.Env = append(append(os.Environ(), p.opts.Env...), EnvWorker+"=1")
	cmd.Stdin, cmd.Stdout = cr, cw
	cmd.Stderr = &logWriter{log: p.log}
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	cr.Close()
	cw.Close()
	if err != nil {
		in.Close()
		out.Close()
		return nil, fmt.Errorf("start render worker %s: %w", p.opts.Command[0], err)
	}
	w := &proc{cmd: cmd, in: in, out: out, r: bufio.NewReaderSize(out, 64<<10)}
	_, _, werr, err := w.call(&Request{Op: OpHello, Root: p.opts.Root}, p.opts.Timeout)
	if err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		p.stop(w, true)
		return nil, fmt.Errorf("start render worker %s: %w", p.opts.Command[0], err)
	}
	return w, nil
}

// stop ends a worker in the background: closing its stdin makes it exit;
// kill is for a worker that may be stuck.
func (p *Pool) stop(w *proc, kill bool) {
	w.in.Close()
	if kill {
		w.cmd.Process.Kill()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.AfterFunc(5*time.Second, func() { w.cmd.Process.Kill() })
		w.cmd.Wait()
		t.Stop()
		w.out.Close()
	}()
}

// call sends one request and reads the answer within timeout. err is a
// transport failure; werr an error reported by the worker.
func (w *proc) call(req *Request, timeout time.Duration) (payload []byte, resp Response, werr, err error) {
	deadline := time.Now().Add(timeout)
	w.in.SetWriteDeadline(deadline)
	w.out.SetReadDeadline(deadline)

	var buf bytes.Buffer
	if err := writeJSON(&buf, req); err != nil {
		return nil, resp, nil, err
	}
	if _, err := w.in.Write(buf.Bytes()); err != nil {
		return nil, resp, nil, err
	}
	if err := readJSON(w.r, &resp); err != nil {
		return nil, resp, nil, err
	}
	payload, err = readFrame(w.r)
	if err != nil {
		return nil, resp, nil, err
	}
	if resp.Error != "" {
		return nil, resp, &WorkerError{Msg: resp.Error}, nil
	}
	return payload, resp, nil, nil
}

// logWriter logs what a worker writes on stderr, one record per write.
type logWriter struct{ log *slog.Logger }

func (l *logWriter) Write(b []byte) (int, error) {
	l.log.Warn("render worker stderr", "text", string(bytes.TrimSpace(b)))
	return len(b), nil
}

// Root is the directory every DEF file must be under.
func (p *Pool) Root() string { return p.opts.Root }
