// Package store aggregates tracelog records into per-second buckets per
// instance and writes buckets and generic metric points into RRD files.
//
// librrd (cgo) sits behind the RRD interface; everything else in the package
// builds and tests without it.
package store
