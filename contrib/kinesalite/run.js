#!/usr/bin/env node
// Runs kinesalite (a local Kinesis-compatible server) for graphmetrics tests.
//
// kinesalite's own CLI always binds all interfaces and cannot take port 0, so
// tests could neither stay on loopback nor pick a free port. This wrapper
// uses the library directly: it binds 127.0.0.1 (or --host), on --port (0 or
// absent = a free port chosen by the kernel), and prints the bound port alone
// on the first line of stdout so a test can read it.
//
// Usage: node contrib/kinesalite/run.js [--port N] [--host 127.0.0.1]
//          [--createStreamMs N] [--deleteStreamMs N] [--updateStreamMs N]
//          [--shardLimit N] [--path DIR]
//
// The library is looked up in $KINESALITE_DIR/node_modules, then in
// <repo>/.deps/kinesalite/node_modules (where install.sh puts it).
'use strict'

var path = require('path')

var args = parseArgs(process.argv.slice(2))
var dirs = []
if (process.env.KINESALITE_DIR) dirs.push(path.join(process.env.KINESALITE_DIR, 'node_modules'))
dirs.push(path.join(__dirname, '..', '..', '.deps', 'kinesalite', 'node_modules'))

var kinesalite
try {
  kinesalite = require(require.resolve('kinesalite', { paths: dirs }))
} catch (err) {
  process.stderr.write('kinesalite is not installed (run contrib/kinesalite/install.sh): ' + err.message + '\n')
  process.exit(2)
}

var opts = {}
;['createStreamMs', 'deleteStreamMs', 'updateStreamMs', 'shardLimit'].forEach(function (k) {
  if (args[k] != null) opts[k] = Number(args[k])
})
if (args.path) opts.path = args.path // LevelDB on disk (needs the optional leveldown); in memory otherwise

var host = args.host || '127.0.0.1'
var port = args.port != null ? Number(args.port) : 0
var server = kinesalite(opts)
server.on('error', function (err) {
  process.stderr.write('kinesalite: ' + err.message + '\n')
  process.exit(1)
})
// kinesalite throws from a request's 'error' listener, so a client that
// goes away in the middle of a request (a daemon killed with SIGKILL by the
// crash tests) would take the whole server down. Such an error concerns
// that one request only: log it and serve on. Anything else still exits.
process.on('uncaughtException', function (err) {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    process.stderr.write('kinesalite: a client went away mid-request: ' + err.message + '\n')
    return
  }
  process.stderr.write('kinesalite: ' + (err && err.stack || err) + '\n')
  process.exit(1)
})
server.listen(port, host, function () {
  process.stdout.write(server.address().port + '\n')
})

// Exit promptly on the signals a test harness sends; the store is in memory.
;['SIGINT', 'SIGTERM'].forEach(function (sig) {
  process.on(sig, function () { process.exit(0) })
})
// A test that dies without killing us closes our stdin pipe: follow it.
if (args['exit-on-stdin-close']) {
  process.stdin.on('end', function () { process.exit(0) })
  process.stdin.on('error', function () { process.exit(0) })
  process.stdin.resume()
}

function parseArgs(list) {
  var out = {}
  for (var i = 0; i < list.length; i++) {
    var a = list[i]
    if (a.slice(0, 2) !== '--') continue
    var eq = a.indexOf('=')
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue }
    var name = a.slice(2)
    if (i + 1 < list.length && list[i + 1].slice(0, 2) !== '--') out[name] = list[++i]
    else out[name] = true
  }
  return out
}
