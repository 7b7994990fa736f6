// Package store aggregates tracelog records into per-second buckets per
// instance; it also holds the types every input shares (Key, Bucket,
// Point) and the file layout under data_dir (TracelogFile, MetricFile).
// It does not use cgo: the RRD writer that uses librrd is store/rrdfile.
// store/loglimit, a leaf, is the rate-limited logger of every package.
//
// # Aggregator
//
// Records enter in batches (Aggregator.NewBatch, Batch.Add copies the bytes,
// Aggregator.Submit), are sharded by instance over a few goroutines and run
// through a per-RID state machine (SPEC §3). Choices where the spec is
// silent:
//
//   - A record for a second already final is counted as late and its counts
//     are dropped, but its effect on the RID state is kept: the levels then
//     change from the oldest pending second on, so the backlog cannot drift.
//   - Levels are stored as per-second deltas while pending, so an E reordered
//     within lateness lowers waiting/busy from its own second on.
//   - An E reordered before its own A keeps the C time: the A still counts
//     its application time.
//   - A lone C (the log started mid-request) opens a busy request.
//   - Quiet seconds are filled for at most idle_timeout after an instance's
//     newest record, on both paths: live (wall clock, following the
//     instance's own clock so a lagging clock is not cut off) and replayed
//     (a gap longer than idle_timeout in event time). After that the instance
//     is forgotten, in-flight RIDs included, and starts afresh. A replay
//     that ends with Close (AggOptions.Replay: graphmetrics import) has no
//     wall-clock rules at all, so a stall of the import loses nothing.
//   - A shard writes its final buckets at every flush tick, when one
//     instance holds outLimit of them, and when its instances hold
//     heldLimit together (an import's memory stays bounded).
//   - Records more than AggOptions.MaxFuture ahead of the wall clock are
//     dropped: one would move a file's last update into the future.
//   - Limits against hostile and runaway senders (issue 11, limits.go):
//     records that would create an instance beyond MaxInstances or
//     NewInstancesPerMinute are dropped and counted, unless Known says
//     the instance has a file; an instance holds at most MaxRequests
//     requests (the oldest go) and drops a request silent for
//     RequestTimeout of event time.
//   - Close finalizes pending seconds but never fills beyond the newest record.
//   - A wall time that occurs twice (clocks set back; parser.Record.Repeat)
//     is chosen per instance so that its time keeps moving forward: the
//     first occurrence until the instance's newest record is past it, the
//     second once the newest record is nearer the second than the first
//     (instance.occurrence). Records out of order within lateness stay in
//     their own hour; a new instance takes the first. The newest record is
//     in the snapshot, so a restore decides as an uninterrupted run.
//
// # Live view and hung requests (issue 12)
//
// A B record's data ("METHOD URL", truncated to MaxRequestData) is kept in
// its RID's slot, in a buffer the slot reuses, so the hot path does not
// allocate per request. Aggregator.Live reads the requests in flight of
// given instances through a control step of the owning shard (no lock on
// the hot path); ages are on the instance's clock (instance.clock).
// Bucket.Hung is the number of requests that at the end of the second had
// been running (C seen, no A/E) for AggOptions.HungAfter or longer. It is
// computed when the second becomes final, from the RIDs: a request that
// stopped in a pending second keeps its Run/Done times until that second
// is final (sweep spares it), and one that vanished (S/X, its RID reused)
// is kept as a ghost until then.
//
// # URL statistics (issue 12)
//
// With AggOptions.URLs, each pending second also keeps a hit per request
// finished (A) or hung (vanished at S/X or request_timeout after its B):
// its URL pattern (store/urlpattern, cached per shard), app time and error
// flag; an A with no B counts under UnknownURL ("?"). When the second is
// final the hits are grouped by pattern into Bucket.URLs (urls.go), which
// store/urlstore keeps.
//
// Checkpoint/Restore carry the pending state for exactly-once replayable
// inputs (SPEC §10).
package store
