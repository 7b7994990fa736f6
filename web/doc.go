// Package web is graphmetrics' web UI (SPEC §6): local accounts and
// sessions in SQLite, pages of tracelog charts per user, and the graph
// renderer, which draws with librrd in worker processes (package render)
// over the instances found on disk (package tree).
//
// The daemon wires it: OpenDB, EnsureAdmin, New → Start → Close, plus the
// `user` and hidden `render-worker` subcommands (UserCommand,
// RenderWorkerMain).
package web
