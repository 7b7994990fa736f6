// Package render draws chart images and exports chart data with librrd in
// a pool of worker processes.
//
// librrd's graph and xport calls take one global lock and leak a few KB per
// call, so rendering in the daemon itself would serialize every chart and
// grow without bound. The pool instead runs the daemon's own binary with a
// hidden subcommand (WorkerMain) a few times over, sends each request as a
// structured Graph (never raw rrd arguments), and replaces every worker after
// a number of renders.
package render
