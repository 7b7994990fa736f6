// Package web is graphmetrics' web UI (SPEC §6): local accounts and
// sessions in SQLite (package storage, behind Store); pages of charts per user, of tracelog instances and
// pools on "/" and of any series on "/metrics" (a graph builder with
// averages, totals and checked RPN expressions); CSV and JSON export of
// every chart; and the graph renderer, which draws with librrd in worker
// processes (package render) over the instances and series found on disk
// (packages tree and series).
//
// The daemon wires it: storage.Open, EnsureAdmin, New → Start → Close,
// plus the hidden `render-worker` subcommand (RenderWorkerMain); its `user`
// subcommand works on storage.DB directly.
package web
