package kinesis

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"graphmetrics/store"
)

// commit writes the fetched batches in order: Sink, Sync, checkpoint. It
// reports whether the shard ended and its closing checkpoint is written.
// When a batch cannot be written (the consumer is stopping and the sink
// fails) it stops the fetcher and drops what is queued: nothing of it is
// checkpointed, so it is read again after a restart.
func (s *streamReader) commit(log *slog.Logger, sh *shardInfo, q <-chan work, stopFetch func()) bool {
	c := s.c
	cp := sh.cp
	ok, finished := true, false
	for w := range q {
		if !ok {
			continue
		}
		switch {
		case len(w.recs) > 0:
			if !s.deliver(log, sh, w.recs) {
				ok = false
				stopFetch()
				continue
			}
			cp.Sequence, cp.At = aws.ToString(w.recs[len(w.recs)-1].SequenceNumber), time.Time{}
			s.save(log, &cp) // on failure the next batch tries again
		case !w.at.IsZero():
			cp.At = w.at
			s.save(log, &cp)
		}
		if w.closed {
			bo := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax}
			cp.Closed = true
			for ok && !s.save(log, &cp) {
				ok = sleep(c.ctx, bo.next())
			}
			finished = ok
			if finished {
				log.Info("shard finished")
			}
		}
	}
	return ok && finished
}

// save writes the checkpoint; a failure is logged and the next batch tries
// again (the data is in RRD, so a replay after a crash is harmless).
func (s *streamReader) save(log *slog.Logger, cp *checkpoint) bool {
	cp.Updated = s.c.now().UTC()
	if err := s.ckpts.save(*cp); err != nil {
		if ok, n := s.c.badLog.Allow("checkpoint:" + s.cfg.Name); ok {
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
func (s *streamReader) deliver(log *slog.Logger, sh *shardInfo, recs []types.Record) bool {
	c := s.c
	batch, good := s.decodeBatch(log, sh.id, recs)
	bo := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax}
	retry := func(op string, err error) bool {
		c.stats.sinkErrors.Add(1)
		sh.sinkFailing.CompareAndSwap(0, c.now().UnixNano())
		if ok, n := c.badLog.Allow("sink:" + s.cfg.Name); ok {
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
	sh.sinkFailing.Store(0)
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
	if ok, n := s.c.badLog.Allow("bad:" + b.Reason); ok {
		log.Warn("bad record skipped", "reason", b.Reason, "detail", b.Detail, "sequence", seq,
			"suppressed_since_last", n)
	}
}
