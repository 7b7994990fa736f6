// Command loadgen plays a fleet of Zope servers sending tracelog records
// over syslog, for graphmetrics' end-to-end benchmarks and its demo.
//
//	loadgen -udp 127.0.0.1:5514 -rate 100000 -duration 30s -instances 500
//	loadgen -tcp 127.0.0.1:5514 -rate 200000 -framing nul
//	loadgen -tcp 127.0.0.1:5514 -rate 200000 -header rfc5424 -framing octet
//	loadgen -mode demo -udp 127.0.0.1:5514
//	loadgen -mode sink -udp 127.0.0.1:0 -tcp 127.0.0.1:0  (bare readers that count)
//	loadgen -mode file -out fleet.log -rate 100000 -duration 3m -instances 2000 -patterns 200
//
// Bench mode paces complete requests (B I C A E) evenly to the exact line
// rate and prints a JSON summary on stdout. Demo mode plays a lively fleet
// until killed. File mode writes the bench fleet's records in event time,
// unpaced, as syslog-ng directory lines. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type options struct {
	mode       string
	udp, tcp   string
	rate       float64
	duration   time.Duration
	instances  int
	customers  int
	hosts      int
	header     string
	nul        bool
	framing    string
	conns      int
	loc        *time.Location
	seed       uint64
	day        time.Duration
	restart    time.Duration
	slow       time.Duration
	recvBuffer int
	status     time.Duration
	patterns   int
	out        string    // file mode
	start      time.Time // file mode: time of the first request
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "bench", "bench (paced, then a JSON summary), demo (a lively fleet until killed), sink (a bare UDP reader) or file (the bench fleet unpaced into -out)")
	fs.StringVar(&o.out, "out", "", "file: write syslog-ng directory lines (host customer instance RECORD) here")
	startAt := fs.String("start", "", "file: event time of the first request, RFC 3339 (default: -duration before now)")
	fs.StringVar(&o.udp, "udp", "", "send syslog over UDP to this address (sink: listen on it)")
	fs.StringVar(&o.tcp, "tcp", "", "send syslog over TCP to this address (sink: also listen on it)")
	fs.Float64Var(&o.rate, "rate", 0, "lines/s of the whole fleet (bench default 10000; demo: peak rate, default natural ~1500)")
	fs.DurationVar(&o.duration, "duration", 0, "how long new requests start (bench default 10s; demo default until killed); in-flight requests are finished")
	fs.IntVar(&o.instances, "instances", 0, "server processes (bench default 500, demo default 40)")
	fs.IntVar(&o.customers, "customers", 3, "customers")
	fs.IntVar(&o.hosts, "hosts", 4, "hosts the instances are spread over (named in the rfc3164 header)")
	fs.StringVar(&o.header, "header", "", "syslog header: none (Python SysLogHandler: <14> then the body; host = sender address), rfc3164 or rfc5424 (with host names, as a relay forwards); default none for bench, rfc3164 for demo")
	nul := fs.String("nul", "auto", "UDP: end each datagram with NUL as Python does (yes, no, auto = yes without header)")
	fs.StringVar(&o.framing, "framing", frameNUL, "TCP framing: nul (Python), newline or octet (RFC 6587)")
	fs.IntVar(&o.conns, "conns", 1, "TCP connections")
	tz := fs.String("timezone", "Local", "zone of the record timestamps (IANA name)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed: the same flags and seed give the same stream")
	fs.DurationVar(&o.day, "day", time.Hour, "demo: length of one simulated day of traffic (24h = real time)")
	fs.DurationVar(&o.restart, "restart-every", time.Hour, "demo: mean time between restarts of one instance (0 = never)")
	fs.DurationVar(&o.slow, "slow-every", 20*time.Minute, "demo: mean time between slow spells of one instance (0 = never)")
	fs.IntVar(&o.recvBuffer, "recv-buffer", 8<<20, "sink: UDP receive buffer, bytes")
	fs.IntVar(&o.patterns, "patterns", 0, "URL patterns /app/section-K/items/{n} with Zipf popularity (s = 1.1) instead of the 16 built-in paths (0)")
	fs.DurationVar(&o.status, "status", 30*time.Second, "demo: log progress this often (0 = never)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.loc, err = time.LoadLocation(*tz); err != nil {
		return o, fmt.Errorf("-timezone: %w", err)
	}
	demo := o.mode == "demo"
	switch o.mode {
	case "file":
		if o.out == "" || o.udp != "" || o.tcp != "" {
			return o, errors.New("-mode file: give -out, and neither -udp nor -tcp")
		}
		if *startAt != "" {
			if o.start, err = time.Parse(time.RFC3339, *startAt); err != nil {
				return o, fmt.Errorf("-start: %w", err)
			}
		}
	case "bench", "demo":
		if (o.udp == "") == (o.tcp == "") {
			return o, errors.New("give exactly one of -udp and -tcp")
		}
	case "sink":
		if o.udp == "" {
			o.udp = "127.0.0.1:0"
		}
		return o, nil
	default:
		return o, fmt.Errorf("-mode %q: want bench, demo, sink or file", o.mode)
	}
	if o.instances == 0 {
		o.instances = pick(demo, 40, 500)
	}
	if o.rate == 0 && !demo {
		o.rate = 10000
	}
	if o.duration == 0 && !demo {
		o.duration = 10 * time.Second
	}
	if o.header == "" {
		o.header = pick(demo, headerRFC3164, headerNone)
	}
	if o.mode == "file" && o.start.IsZero() {
		o.start = time.Now().Add(-o.duration).Truncate(time.Second)
	}
	switch {
	case o.instances < 1 || o.customers < 1 || o.hosts < 1:
		return o, errors.New("-instances, -customers and -hosts must be positive")
	case o.patterns < 0 || o.patterns > 65536:
		return o, errors.New("-patterns must be within 0..65536")
	case o.rate < 0 || o.duration < 0:
		return o, errors.New("-rate and -duration must not be negative")
	case o.header != headerNone && o.header != headerRFC3164 && o.header != headerRFC5424:
		return o, fmt.Errorf("-header %q: want none, rfc3164 or rfc5424", o.header)
	case demo && (o.day < time.Minute || o.restart < 0 || o.slow < 0):
		return o, errors.New("-day must be at least 1m, -restart-every and -slow-every not negative")
	}
	o.hosts = min(o.hosts, o.instances)
	switch *nul {
	case "yes":
		o.nul = true
	case "no":
	case "auto":
		o.nul = o.header == headerNone
	default:
		return o, fmt.Errorf("-nul %q: want yes, no or auto", *nul)
	}
	return o, nil
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.mode == "sink" {
		return runSink(ctx, o, stdin, stdout)
	}
	var sum Summary
	if o.mode == "file" {
		sum, err = writeFile(ctx, o)
	} else {
		sum, err = generate(ctx, o, slog.New(slog.NewTextHandler(stderr, nil)).With("component", "loadgen"))
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if eerr := enc.Encode(sum); eerr != nil {
		return errors.Join(err, eerr)
	}
	return err
}
