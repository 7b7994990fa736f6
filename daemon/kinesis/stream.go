package kinesis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

type shardStatus int

const (
	shardWaiting  shardStatus = iota // not read yet: parents unfinished, or retried after an error
	shardReading                     // a goroutine reads it
	shardFinished                    // read to its end and checkpointed as closed
)

// shardInfo is what the stream loop knows of one shard. status is guarded
// by the stream's mu; the reading goroutine owns cp while it runs.
type shardInfo struct {
	id, parent, adjacent string
	status               shardStatus
	cp                   checkpoint
	latest               bool         // begin at LATEST (first start of a "latest" stream)
	lag                  atomic.Int64 // last MillisBehindLatest
	fetchFailing         atomic.Int64 // unix ns of the first of the current run of API errors; 0 = fine
	sinkFailing          atomic.Int64 // same for Sink errors
}

// streamReader discovers a stream's shards and reads each of them in its
// own goroutine once its parents are finished.
type streamReader struct {
	c     *Consumer
	cfg   Stream
	dec   decoder
	ckpts *checkpoints
	kick  chan struct{} // a shard finished: list again now so its children start

	mu           sync.Mutex
	shards       map[string]*shardInfo
	loaded       map[string]checkpoint // from disk, until the shard is listed
	firstStart   bool                  // no checkpoint at all: Start applies
	listFailing  time.Time             // zero while listing works
	records, bad atomic.Uint64
	wg           sync.WaitGroup // shard goroutines
}

func newStreamReader(c *Consumer, s Stream, fixed []string) *streamReader {
	return &streamReader{
		c:      c,
		cfg:    s,
		dec:    decoder{fixed: fixed, future: c.opts.FutureLimit, now: func() time.Time { return c.now() }},
		kick:   make(chan struct{}, 1),
		shards: map[string]*shardInfo{},
	}
}

func (s *streamReader) loadCheckpoints() error {
	ck, err := newCheckpoints(s.c.opts.StateDir, s.cfg.Name, s.c.log)
	if err != nil {
		return err
	}
	loaded, err := ck.load()
	if err != nil {
		return err
	}
	s.ckpts, s.loaded, s.firstStart = ck, loaded, len(loaded) == 0
	return nil
}

// run lists the shards every ListInterval (and at once when a shard
// finishes) and starts the readers whose turn has come.
func (s *streamReader) run() {
	c := s.c
	defer s.wg.Wait()
	s.mu.Lock()
	s.listFailing = c.now()
	s.mu.Unlock()
	bo := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax}
	log := c.log.With("stream", s.cfg.Name)
	for {
		shards, err := s.list(c.ctx)
		wait := c.opts.ListInterval
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			s.countErr(err)
			s.mu.Lock()
			if s.listFailing.IsZero() {
				s.listFailing = c.now()
			}
			s.mu.Unlock()
			if ok, n := c.badLog.Allow("list:" + s.cfg.Name); ok {
				log.Warn("list shards failed; retrying", "err", err, "suppressed", n)
			}
			wait = min(bo.next(), wait)
		} else {
			bo.reset()
			s.schedule(shards)
		}
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *streamReader) countErr(err error) {
	switch classify(err) {
	case errThrottle:
		s.c.stats.throttles.Add(1)
	case errCanceled:
	default:
		s.c.stats.errors.Add(1)
	}
}

// list returns every shard of the stream, closed ones included. The first
// page is asked by StreamName; later pages by NextToken alone, because
// ListShards refuses both together.
func (s *streamReader) list(ctx context.Context) ([]types.Shard, error) {
	var all []types.Shard
	in := &awskinesis.ListShardsInput{StreamName: aws.String(s.cfg.Name)}
	for {
		cctx, cancel := context.WithTimeout(ctx, s.c.opts.CallTimeout)
		out, err := s.c.api.ListShards(cctx, in)
		cancel()
		if err != nil {
			// An expired NextToken (a listing slower than 5 minutes) is
			// retried from the first page by the caller.
			return nil, err
		}
		all = append(all, out.Shards...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in = &awskinesis.ListShardsInput{NextToken: out.NextToken}
	}
	s.mu.Lock()
	s.listFailing = time.Time{}
	s.mu.Unlock()
	return all, nil
}

// schedule merges a complete listing into what is known and starts every
// waiting shard whose parents are finished. A parent that is no longer
// listed has aged out of the stream's retention: nothing of it is left to
// read, so it counts as finished.
func (s *streamReader) schedule(list []types.Shard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	listed := make(map[string]bool, len(list))
	var order []string
	for _, sh := range list {
		id := aws.ToString(sh.ShardId)
		if !validFileName(id) {
			s.c.log.Error("ignoring shard with an unusable id", "stream", s.cfg.Name, "shard", id)
			continue
		}
		listed[id] = true
		order = append(order, id)
		if s.shards[id] != nil {
			continue
		}
		info := &shardInfo{
			id:       id,
			parent:   aws.ToString(sh.ParentShardId),
			adjacent: aws.ToString(sh.AdjacentParentShardId),
			cp:       checkpoint{Stream: s.cfg.Name, Shard: id},
		}
		closed := sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
		if cp, ok := s.loaded[id]; ok {
			info.cp = cp
			if cp.Closed {
				info.status = shardFinished
			}
			delete(s.loaded, id)
		} else if s.firstStart && s.cfg.Start == "latest" {
			// LATEST on a first start: what is already closed is history
			// the operator chose to skip; open shards begin at their tip.
			if closed {
				info.status = shardFinished
				info.cp.Closed, info.cp.Updated = true, s.c.now()
				if err := s.ckpts.save(info.cp); err != nil {
					s.c.log.Error("save checkpoint", "stream", s.cfg.Name, "shard", id, "err", err)
				}
			} else {
				info.latest = true
			}
		}
		s.shards[id] = info
	}
	s.firstStart = false
	for _, id := range order {
		info := s.shards[id]
		if info.status == shardWaiting && s.parentsDone(info, listed) {
			info.status = shardReading
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				finished := s.readShard(info)
				s.mu.Lock()
				info.status = shardWaiting
				if finished {
					info.status = shardFinished
				}
				s.mu.Unlock()
				if finished {
					select {
					case s.kick <- struct{}{}:
					default:
					}
				}
			}()
		}
	}
	// Forget shards gone from the stream, and their checkpoints, so the
	// state directory does not grow with every reshard.
	for id := range s.loaded {
		if !listed[id] {
			delete(s.loaded, id)
			if err := s.ckpts.remove(id); err != nil {
				s.c.log.Warn("remove old checkpoint", "stream", s.cfg.Name, "err", err)
			}
		}
	}
	for id, info := range s.shards {
		if !listed[id] && info.status != shardReading {
			delete(s.shards, id)
			if err := s.ckpts.remove(id); err != nil {
				s.c.log.Warn("remove old checkpoint", "stream", s.cfg.Name, "err", err)
			}
		}
	}
}

func (s *streamReader) parentsDone(info *shardInfo, listed map[string]bool) bool {
	for _, p := range [2]string{info.parent, info.adjacent} {
		if p == "" || !listed[p] {
			continue
		}
		if pi := s.shards[p]; pi == nil || pi.status != shardFinished {
			return false
		}
	}
	return true
}

func (s *streamReader) healthy(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := s.c.opts.FailAfter
	if !s.listFailing.IsZero() && now.Sub(s.listFailing) > fail {
		return false
	}
	for _, info := range s.shards {
		if info.status != shardReading {
			continue
		}
		for _, f := range []int64{info.fetchFailing.Load(), info.sinkFailing.Load()} {
			if f != 0 && now.Sub(time.Unix(0, f)) > fail {
				return false
			}
		}
	}
	return true
}

func (s *streamReader) stats() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := StreamStats{Records: s.records.Load(), Bad: s.bad.Load()}
	for _, info := range s.shards {
		switch info.status {
		case shardReading:
			st.Reading++
			st.LagMs = max(st.LagMs, info.lag.Load())
		case shardFinished:
			st.Finished++
		case shardWaiting:
			st.Waiting++
		}
	}
	return st
}
