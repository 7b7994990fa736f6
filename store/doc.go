// Package store aggregates tracelog records into per-second buckets per
// instance and writes buckets and generic metric points into RRD files.
//
// librrd (cgo) sits behind the RRD interface (LibRRD is the real one);
// everything else in the package builds and tests without it.
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
//     is forgotten, in-flight RIDs included, and starts afresh.
//   - Records more than AggOptions.MaxFuture ahead of the wall clock are
//     dropped: one would move a file's last update into the future.
//   - Limits against hostile and runaway senders (issue 11, limits.go):
//     records that would create an instance beyond MaxInstances or
//     NewInstancesPerMinute are dropped and counted, unless Known says
//     the instance has a file; an instance holds at most MaxRequests
//     requests (the oldest go) and drops a request silent for
//     RequestTimeout of event time.
//   - Close finalizes pending seconds but never fills beyond the newest record.
//
// Checkpoint/Restore carry the pending state for exactly-once replayable
// inputs (SPEC §10).
//
// # Writer
//
// The Writer is the aggregator's Sink and also writes generic metrics. Each
// file belongs to one worker goroutine; rows not newer than a file's last
// update are skipped and counted, which makes replays idempotent. Seconds
// missing between two writes are written as unknown. Paths come from
// TracelogFile and MetricFile, whose elements go through SafeElem, a
// reversible escape (UnescapeElem, ShownElem). A file that gets no rows
// for ForgetAfter leaves the worker's memory. Files are created 0600.
//
// # Faults
//
// Each is counted in WriterStats and logged at most once a minute per
// worker and kind:
//
//   - Write errors, disk full (ENOSPC) included, keep the rows queued in
//     memory; they are retried every RetryInterval and at every Sync, and
//     land when space is back. Beyond MaxQueued rows the oldest are dropped
//     (their seconds stay unknown in the file). RRD files are preallocated,
//     so a full disk stops new files only; librrd 1.7 reports success for a
//     create that ran out of space, so LibRRD.Create checks the result and
//     removes what is left.
//   - A file deleted while in use fails its next update: the file is
//     looked at again at once and created anew, and the rows go there.
//   - A file the OS reads but librrd rejects (empty, truncated, garbage),
//     or whose data sources or step do not fit (tracelog: DataSources at
//     1 s; metric: one "value"), is renamed <name>.rrd.corrupt-<UTC time>
//     and created anew. A running writer finds it when an update fails;
//     a valid file of the wrong shape that still takes the updates is
//     found when the file is next opened (restart, or after any failure).
//   - A kill inside a librrd update can leave a file that librrd reads but
//     whose rows are one step off (librrd 1.7 moves row pointers before
//     last_update). Each worker saves a file's header to
//     <data_dir>/state/rrdjournal-<n>.bin (fdatasync) before every update
//     call; Start writes back the header of a call that did not finish, and
//     the replay writes its rows again (see journal.go).
package store
