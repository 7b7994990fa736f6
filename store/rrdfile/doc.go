// Package rrdfile writes the aggregator's buckets and generic metric points
// into RRD files, with librrd (cgo) behind the RRD interface (LibRRD is the
// real one; the tests of the rest use a fake).
//
// # Writer
//
// The Writer is the aggregator's Sink and also writes generic metrics. Each
// file belongs to one worker goroutine; rows not newer than a file's last
// update are skipped and counted, which makes replays idempotent. Seconds
// missing between two writes are written as unknown. Paths come from
// store.TracelogFile and store.MetricFile, whose elements go through
// store.SafeElem, a reversible escape. A file that gets no rows for
// ForgetAfter leaves the worker's memory (issue 11). Files are created
// 0600.
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
//
// # History before the live data
//
// librrd takes only updates newer than a file's last update. graphmetrics
// import-legacy (packages store/legacy and store/rrdraw) writes older rows
// directly into a copy of a tracelog file and renames it into place:
// either while it holds the data_dir lock, that is while no Writer runs,
// or inside the daemon under a Lease of the file (lease.go), during which
// the file's worker does not touch it and keeps the rows that come for it
// queued. CreateTracelog makes a missing file as the Writer would. The
// Writer reads nothing of a file but its last update, step and data
// sources, and reads them again when a lease ends, so it continues such a
// file like any other.
package rrdfile
