package kinesis

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"graphmetrics/store"
)

// readShard reads one shard until it is closed (true) or shutdown or the
// shard is gone (false; the stream loop decides what next). Each batch
// goes: GetRecords, decode, Sink, Sync, checkpoint — the checkpoint never
// runs ahead of the data in RRD.
func (s *streamReader) readShard(sh *shardInfo) bool {
	c := s.c
	ctx := c.ctx
	log := c.log.With("stream", s.cfg.Name, "shard", sh.id)
	bo := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax}
	cp := sh.cp
	var (
		iter     *string
		next     time.Time // earliest next GetRecords (≤ 5 per second per shard)
		expiries int       // consecutive expired iterators
		lagLog   time.Time
		lastLag  int64
	)
	log.Info("reading shard", "after", cp.Sequence, "at", cp.At, "latest", sh.latest)
	// failed counts and logs an error and waits; false means stop.
	failed := func(op string, err error) (kind errKind, goOn bool) {
		kind = classify(err)
		switch kind {
		case errCanceled:
			return kind, false
		case errThrottle:
			c.stats.throttles.Add(1)
		case errExpired:
		default:
			c.stats.errors.Add(1)
		}
		sh.failingSince.CompareAndSwap(0, c.now().UnixNano())
		if ok, n := c.badLog.allow(op + ":" + s.cfg.Name + "/" + sh.id); ok && kind != errExpired {
			log.Warn(op+" failed; retrying", "err", err, "suppressed", n)
		}
		return kind, sleep(ctx, bo.next())
	}
	for {
		if iter == nil {
			it, err := s.iterator(ctx, sh, &cp)
			if err != nil {
				kind, goOn := failed("get shard iterator", err)
				if !goOn || kind == errGone {
					return false
				}
				continue
			}
			iter = it
		}
		if !sleep(ctx, time.Until(next)) {
			return false
		}
		next = time.Now().Add(c.opts.MinInterval)
		cctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
		out, err := c.api.GetRecords(cctx, &awskinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(c.opts.RecordsPerGet)})
		cancel()
		if err != nil {
			if classify(err) == errExpired {
				// The iterator outlived its 5 minutes (a long sink stall):
				// make a new one after the last record in RRD, at once the
				// first time.
				c.stats.resets.Add(1)
				iter = nil
				if expiries++; expiries == 1 {
					continue
				}
			}
			kind, goOn := failed("get records", err)
			if !goOn || kind == errGone {
				return false
			}
			if kind == errOther {
				// A broken iterator or a server error: start over from
				// the checkpoint rather than trust the old iterator.
				c.stats.resets.Add(1)
				iter = nil
			}
			continue
		}
		expiries = 0
		bo.reset()
		sh.failingSince.Store(0)
		lag := aws.ToInt64(out.MillisBehindLatest)
		sh.lag.Store(lag)
		if now := c.now(); lag > 0 && now.Sub(lagLog) >= time.Minute || lag == 0 && lastLag > 0 {
			log.Info("shard lag", "millis_behind_latest", lag)
			lagLog = now
		}
		lastLag = lag

		if n := len(out.Records); n > 0 {
			if !s.deliver(log, sh.id, out.Records) {
				return false
			}
			cp.Sequence, cp.At = aws.ToString(out.Records[n-1].SequenceNumber), time.Time{}
			s.save(log, &cp)
		}
		if out.NextShardIterator == nil {
			cp.Closed = true
			for !s.save(log, &cp) {
				if !sleep(ctx, bo.next()) {
					return false
				}
			}
			log.Info("shard finished")
			return true
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 && lag == 0 {
			if idle := time.Now().Add(c.opts.IdleInterval); idle.After(next) {
				next = idle
			}
		}
	}
}

// iterator makes a shard iterator at the checkpoint: after its sequence,
// at its LATEST start time, else at the stream's start position.
func (s *streamReader) iterator(ctx context.Context, sh *shardInfo, cp *checkpoint) (*string, error) {
	in := &awskinesis.GetShardIteratorInput{StreamName: aws.String(s.cfg.Name), ShardId: aws.String(sh.id)}
	var at time.Time
	switch {
	case cp.Sequence != "":
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(cp.Sequence)
	case !cp.At.IsZero():
		in.ShardIteratorType = types.ShardIteratorTypeAtTimestamp
		in.Timestamp = aws.Time(cp.At)
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
		return nil, err
	}
	if !at.IsZero() {
		// Remember where LATEST was, so an expired iterator or a restart
		// before the first record resumes there instead of at a later tip.
		cp.At, sh.latest = at, false
		s.save(s.c.log.With("stream", s.cfg.Name, "shard", sh.id), cp)
	}
	return out.ShardIterator, nil
}

// save writes the checkpoint; a failure is logged and the next batch tries
// again (the data is in RRD, so a replay after a crash is harmless).
func (s *streamReader) save(log *slog.Logger, cp *checkpoint) bool {
	cp.Updated = s.c.now().UTC()
	if err := s.ckpts.save(*cp); err != nil {
		if ok, n := s.c.badLog.allow("checkpoint:" + s.cfg.Name); ok {
			log.Error("write checkpoint", "err", err, "suppressed", n)
		}
		return false
	}
	s.c.stats.checkpoints.Add(1)
	return true
}

type series struct {
	path []string
	pts  []store.Point
}

// deliver decodes a batch and writes it to the Sink, retrying failures
// until they succeed or the consumer stops. Writes started during Close
// are completed (Sync runs on the hard context) so the checkpoint can be
// written; only a failure after Close gives up, unwritten and unchecked.
func (s *streamReader) deliver(log *slog.Logger, shard string, recs []types.Record) bool {
	c := s.c
	batch, good := s.decodeBatch(log, shard, recs)
	bo := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax}
	retry := func(op string, err error) bool {
		c.stats.sinkErrors.Add(1)
		if ok, n := c.badLog.allow("sink:" + s.cfg.Name); ok {
			log.Error(op+" failed; batch retried", "err", err, "suppressed", n)
		}
		return sleep(c.ctx, bo.next())
	}
	for i := 0; i < len(batch); {
		if err := c.opts.Sink.WriteMetric(batch[i].path, s.cfg.Step, batch[i].pts); err != nil {
			if !retry("write metric", err) {
				return false
			}
			continue
		}
		i++
	}
	if syncer, ok := c.opts.Sink.(Syncer); ok && len(batch) > 0 {
		for {
			err := syncer.Sync(c.hard)
			if err == nil {
				break
			}
			if !retry("sync", err) {
				return false
			}
		}
	}
	c.stats.records.Add(uint64(good))
	s.records.Add(uint64(good))
	return true
}

// decodeBatch groups the good records of a batch by series, in record
// order, and counts and logs the bad ones.
func (s *streamReader) decodeBatch(log *slog.Logger, shard string, recs []types.Record) ([]series, int) {
	var (
		out   []series
		index = map[string]int{} // record name -> out index
		good  int
	)
	for _, r := range recs {
		name, t, v, bad := s.dec.decode(r.Data)
		i, ok := index[name]
		if bad == nil && !ok {
			var path []string
			if s.dec.fixed != nil {
				path = append([]string{s.cfg.Name}, s.dec.fixed...)
			} else {
				var elems []string
				if elems, bad = splitName(name); bad == nil {
					path = append([]string{s.cfg.Name}, elems...)
				}
			}
			if bad == nil {
				i = len(out)
				index[name] = i
				out = append(out, series{path: path})
			}
		}
		if bad != nil {
			s.badRecord(log, shard, aws.ToString(r.SequenceNumber), bad)
			continue
		}
		out[i].pts = append(out[i].pts, store.Point{Time: t, Value: v})
		good++
	}
	return out, good
}

func (s *streamReader) badRecord(log *slog.Logger, shard, seq string, b *badRecord) {
	s.c.stats.bad[badIndex(b.Reason)].Add(1)
	s.bad.Add(1)
	if ok, n := s.c.badLog.allow("bad:" + b.Reason); ok {
		log.Warn("bad record skipped", "reason", b.Reason, "detail", b.Detail, "sequence", seq,
			"suppressed_since_last", n)
	}
}
