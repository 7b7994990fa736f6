// Package kinesis reads CIMAA-format metric records from Kinesis streams
// and hands them to a Sink (the RRD writer) as points, shard by shard, with
// a checkpoint per shard written only after the shard's data is in the
// sink (SPEC §5).
//
// It is a worker written on the SDK rather than a consumer library; the
// README explains why.
package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"graphmetrics/store"
	"graphmetrics/store/loglimit"
)

// Sink receives the points of one series. path is [stream, agent, file,
// section..., metric] (untrusted elements: the sink sanitizes them). Points
// are in record order; two points for one second (or one step) are both
// passed, and rrdfile.Writer keeps the last. An error means "not written,
// try again later": the batch is retried and not checkpointed.
type Sink interface {
	WriteMetric(path []string, step time.Duration, pts []store.Point) error
}

// Syncer is implemented by sinks that queue writes (rrdfile.Writer does):
// Sync returns once everything handed over before it is on disk. The
// checkpoint of a batch is written only after Sync succeeded; without a
// Syncer, after WriteMetric returned nil.
type Syncer interface {
	Sync(ctx context.Context) error
}

// API is the part of the Kinesis client the worker uses; the SDK's
// *kinesis.Client implements it, and tests put fakes behind it.
type API interface {
	ListShards(ctx context.Context, in *awskinesis.ListShardsInput, optFns ...func(*awskinesis.Options)) (*awskinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *awskinesis.GetShardIteratorInput, optFns ...func(*awskinesis.Options)) (*awskinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *awskinesis.GetRecordsInput, optFns ...func(*awskinesis.Options)) (*awskinesis.GetRecordsOutput, error)
}

// Stream is one configured stream.
type Stream struct {
	Name  string
	Start string        // "trim_horizon" (default) or "latest": where a stream with no checkpoint begins
	Step  time.Duration // RRD step of its files; default 60s
	// Metric, if set, is a fixed metric name ("load" or "web/load"):
	// records then need only timestamp and value, any name is ignored,
	// and the file is rrd/metrics/<stream>/<metric>.rrd.
	Metric string
}

// Options configure a Consumer. Zero durations take the defaults.
type Options struct {
	Region   string // "" = from the AWS configuration chain
	Endpoint string // "" = AWS; else a Kinesis-compatible server's URL
	Streams  []Stream
	StateDir string // data_dir/state; checkpoints go in StateDir/kinesis/<stream>/
	Sink     Sink
	Logger   *slog.Logger
	Client   API // optional; default: SDK client from the AWS chain

	ListInterval  time.Duration // shard rediscovery; default 30s
	IdleInterval  time.Duration // GetRecords pause when a shard is caught up; default 1s
	MinInterval   time.Duration // least time between GetRecords on one shard; default 200ms (AWS: 5/s)
	BackoffBase   time.Duration // first retry wait; default 250ms
	BackoffMax    time.Duration // longest retry wait; default 30s
	CallTimeout   time.Duration // one API call; default 30s
	FailAfter     time.Duration // a shard failing this long makes Healthy false; default 2m
	FutureLimit   time.Duration // refuse timestamps further ahead of the clock; default 1h, <0 = off
	RecordsPerGet int32         // GetRecords Limit; default 10000 (the AWS maximum)
}

func (o *Options) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.ListInterval, 30*time.Second)
	def(&o.IdleInterval, time.Second)
	def(&o.MinInterval, 200*time.Millisecond)
	def(&o.BackoffBase, 250*time.Millisecond)
	def(&o.BackoffMax, 30*time.Second)
	def(&o.CallTimeout, 30*time.Second)
	def(&o.FailAfter, 2*time.Minute)
	def(&o.FutureLimit, time.Hour)
	if o.RecordsPerGet <= 0 || o.RecordsPerGet > 10000 {
		o.RecordsPerGet = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Consumer reads every shard of every configured stream.
type Consumer struct {
	opts    Options
	log     *slog.Logger
	api     API
	streams []*streamReader
	stats   counters
	badLog  *loglimit.Limiter

	// ctx stops reading and waiting; hard stops a batch being written,
	// which is otherwise finished and checkpointed during Close.
	ctx, hard        context.Context
	cancel, hardStop context.CancelFunc
	wg               sync.WaitGroup
	mu               sync.Mutex
	started, closed  bool
	startedAt        time.Time
	now              func() time.Time // tests
}

// New checks the options; Start begins reading.
func New(o Options) (*Consumer, error) {
	o.setDefaults()
	if o.StateDir == "" {
		return nil, errors.New("kinesis: StateDir is required")
	}
	if o.Sink == nil {
		return nil, errors.New("kinesis: Sink is required")
	}
	c := &Consumer{opts: o, log: o.Logger.With("component", "kinesis"), now: time.Now}
	c.badLog = loglimit.New(time.Minute, c.now)
	seen := map[string]bool{}
	for i, s := range o.Streams {
		key := fmt.Sprintf("kinesis.streams[%d]", i)
		if !validFileName(s.Name) {
			return nil, fmt.Errorf("%s.name %q: want 1-128 of [a-zA-Z0-9_.-]", key, s.Name)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("%s.name %q: configured twice", key, s.Name)
		}
		seen[s.Name] = true
		switch s.Start {
		case "":
			s.Start = "trim_horizon"
		case "trim_horizon", "latest":
		default:
			return nil, fmt.Errorf("%s.start %q: want trim_horizon or latest", key, s.Start)
		}
		if s.Step == 0 {
			s.Step = time.Minute
		}
		if s.Step < time.Second || s.Step%time.Second != 0 {
			return nil, fmt.Errorf("%s.step %s: want whole seconds", key, s.Step)
		}
		var fixed []string
		if s.Metric != "" {
			var ok bool
			fixed, ok = splitElems(s.Metric)
			if !ok || hasControl(s.Metric) {
				return nil, fmt.Errorf("%s.metric %q: want names separated by '/'", key, s.Metric)
			}
		}
		c.streams = append(c.streams, newStreamReader(c, s, fixed))
	}
	return c, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Start loads the checkpoints, makes the client if none was given, and
// starts one goroutine per stream (which starts one per shard). It does
// not wait for AWS: an unreachable endpoint is retried and shows in Healthy.
func (c *Consumer) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.closed {
		return errors.New("kinesis: already started")
	}
	for _, s := range c.streams {
		if err := s.loadCheckpoints(); err != nil {
			return err
		}
	}
	if c.opts.Client == nil && len(c.streams) > 0 {
		api, err := newClient(context.Background(), c.opts.Region, c.opts.Endpoint)
		if err != nil {
			return err
		}
		c.opts.Client = api
	}
	c.api = c.opts.Client
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.hard, c.hardStop = context.WithCancel(context.Background())
	c.started, c.startedAt = true, c.now()
	for _, s := range c.streams {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			s.run()
		}()
	}
	c.log.Info("kinesis started", "streams", len(c.streams), "endpoint", c.opts.Endpoint)
	return nil
}

// Close stops reading. A batch being written is finished and checkpointed
// unless ctx ends first. Call it before closing the Sink.
func (c *Consumer) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	started := c.started
	c.mu.Unlock()
	if !started {
		return nil
	}
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
		c.hardStop()
		return nil
	case <-ctx.Done():
		c.hardStop()
		return fmt.Errorf("close kinesis: %w", ctx.Err())
	}
}

// Healthy reports whether every stream has listed its shards recently and
// no shard has been failing for longer than FailAfter. A stopped consumer
// is not healthy.
func (c *Consumer) Healthy() bool {
	c.mu.Lock()
	running := c.started && !c.closed
	c.mu.Unlock()
	if !running {
		return false
	}
	now := c.now()
	for _, s := range c.streams {
		if !s.healthy(now) {
			return false
		}
	}
	return true
}
