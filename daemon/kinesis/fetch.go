package kinesis

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// work is what a shard's fetcher hands its committer, in shard order.
type work struct {
	recs   []types.Record
	at     time.Time // a LATEST start time to remember (no records)
	closed bool      // the shard ended after recs
}

// readShard reads one shard until it is closed and checkpointed (true), or
// until shutdown, a sink failure at shutdown, or the shard is gone (false;
// the stream loop decides what next). A fetcher reads batches and a
// committer writes them (Sink, Sync, then the checkpoint, in order), so
// RRD writes overlap the next GetRecords; at most two batches are in
// memory, and the checkpoint never runs ahead of the data in RRD.
func (s *streamReader) readShard(sh *shardInfo) bool {
	log := s.c.log.With("stream", s.cfg.Name, "shard", sh.id)
	log.Info("reading shard", "after", sh.cp.Sequence, "at", sh.cp.At, "latest", sh.latest)
	ctx, cancel := context.WithCancel(s.c.ctx)
	defer cancel()
	q := make(chan work, 1)
	done := make(chan bool, 1)
	go func() { done <- s.commit(log, sh, q, cancel) }()
	s.fetch(ctx, log, sh, q)
	close(q)
	return <-done
}

// fetch runs GetRecords on the shard until it ends or ctx ends, retrying
// errors with backoff. Its position (pos) is the last record fetched: an
// iterator that expires is re-created after it, since every fetched batch
// is queued for the committer.
func (s *streamReader) fetch(ctx context.Context, log *slog.Logger, sh *shardInfo, q chan<- work) {
	c := s.c
	bo := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax}
	pos := sh.cp
	var (
		iter     *string
		next     time.Time // earliest next GetRecords (≤ 5 per second per shard)
		expiries int       // consecutive expired iterators
		lagLog   time.Time
		lastLag  int64
	)
	send := func(w work) bool {
		select {
		case q <- w:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// failed counts and logs an error and waits; false means stop.
	failed := func(op string, err error) bool {
		kind := classify(err)
		switch kind {
		case errCanceled:
			return false
		case errThrottle:
			c.stats.throttles.Add(1)
		case errExpired:
		default:
			c.stats.errors.Add(1)
		}
		sh.fetchFailing.CompareAndSwap(0, c.now().UnixNano())
		if ok, n := c.badLog.Allow(op + ":" + s.cfg.Name + "/" + sh.id); ok && kind != errExpired {
			log.Warn(op+" failed; retrying", "err", err, "suppressed", n)
		}
		return sleep(ctx, bo.next()) && kind != errGone
	}
	for {
		if iter == nil {
			it, at, err := s.iterator(ctx, sh, &pos)
			if err != nil {
				if !failed("get shard iterator", err) {
					return
				}
				continue
			}
			if !at.IsZero() && !send(work{at: at}) {
				return
			}
			iter = it
		}
		if !sleep(ctx, time.Until(next)) {
			return
		}
		next = time.Now().Add(c.opts.MinInterval)
		cctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
		out, err := c.api.GetRecords(cctx, &awskinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(c.opts.RecordsPerGet)})
		cancel()
		if err != nil {
			kind := classify(err)
			if kind == errExpired || kind == errOther {
				// Expired (it lives 5 minutes; a long sink stall), broken,
				// or a server error: make a new iterator after the last
				// record fetched, at once after a first expiry.
				c.stats.resets.Add(1)
				iter = nil
				if expiries++; kind == errExpired && expiries == 1 {
					continue
				}
			}
			if !failed("get records", err) {
				return
			}
			continue
		}
		expiries = 0
		bo.reset()
		sh.fetchFailing.Store(0)
		lag := aws.ToInt64(out.MillisBehindLatest)
		sh.lag.Store(lag)
		if now := c.now(); lag > 0 && now.Sub(lagLog) >= time.Minute || lag == 0 && lastLag > 0 {
			log.Info("shard lag", "millis_behind_latest", lag)
			lagLog = now
		}
		lastLag = lag

		closed := out.NextShardIterator == nil
		if n := len(out.Records); n > 0 || closed {
			if n > 0 {
				pos.Sequence, pos.At = aws.ToString(out.Records[n-1].SequenceNumber), time.Time{}
			}
			if !send(work{recs: out.Records, closed: closed}) || closed {
				return
			}
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 && lag == 0 {
			if idle := time.Now().Add(c.opts.IdleInterval); idle.After(next) {
				next = idle
			}
		}
	}
}

// iterator makes a shard iterator at pos: after its sequence, at its
// LATEST start time, else at the stream's start position. When it starts
// at LATEST it returns the time, to be checkpointed, so an expired
// iterator or a restart before the first record resumes there instead of
// at a later tip.
func (s *streamReader) iterator(ctx context.Context, sh *shardInfo, pos *checkpoint) (*string, time.Time, error) {
	in := &awskinesis.GetShardIteratorInput{StreamName: aws.String(s.cfg.Name), ShardId: aws.String(sh.id)}
	var at time.Time
	switch {
	case pos.Sequence != "":
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(pos.Sequence)
	case !pos.At.IsZero():
		in.ShardIteratorType = types.ShardIteratorTypeAtTimestamp
		in.Timestamp = aws.Time(pos.At)
	case sh.latest:
		in.ShardIteratorType = types.ShardIteratorTypeLatest
		at = s.c.now()
	default:
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	}
	cctx, cancel := context.WithTimeout(ctx, s.c.opts.CallTimeout)
	defer cancel()
	out, err := s.c.api.GetShardIterator(cctx, in)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !at.IsZero() {
		pos.At, sh.latest = at, false
	}
	return out.ShardIterator, at, nil
}
