// Package graphite serves Graphite's HTTP query API (issue 16) over every
// series graphmetrics stores, so Grafana's Graphite data source and other
// Graphite tools read graphmetrics directly: /render, /metrics/find,
// /metrics/expand, /metrics/index.json and /functions.
//
// Names. A metric file rrd/metrics/a/b/c.rrd is "a.b.c"; each data source
// of a tracelog file rrd/tracelog/<host>/<customer>/<instance>.rrd is
// "tracelog.<host>.<customer>.<instance>.<ds>", and so are the derived
// series rpm, epm, maxrpm and app_mean (SPEC §3). A path element that
// holds characters Graphite's grammar gives a meaning to (". , = ( ) { } [ ]
// * ? ' \" \\ %", spaces and control characters) has each of their bytes
// written as %XX: the host "db.example.com" is "db%2Eexample%2Ecom".
//
// The parts: parse.go (target expressions), glob.go (path patterns),
// names.go and tree.go (the name tree over the series index), attime.go
// (from/until), fetch.go (librrd reads, as graphite-web's RRD reader),
// series.go (graphite-web's TimeSeries and maxDataPoints consolidation),
// eval.go and func.go (evaluation, argument checking, the function table),
// agg.go (aggregation functions), fn_*.go (one file per function family),
// format.go (json, csv), and the HTTP handlers in api.go and handle_*.go.
// web mounts the handlers and decides who may call them.
package graphite
